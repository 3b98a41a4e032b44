"""Processes of this machine."""

from __future__ import annotations

import os


def alive(pid) -> bool:
    """Whether a process of this machine with this id is running (or cannot be asked)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError):
        return True  # another user's process, or no id: not ours to judge
    return True
