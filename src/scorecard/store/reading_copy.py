"""While an upload's child process writes a DuckDB store, nobody else may open the file (DuckDB
lets one process write a file and no other read it meanwhile). So the web server first copies
the store as it is, and its readers read that copy until the load has finished: the scorecard
stays up, showing the state before the upload, instead of "the store is being updated".

The copy is made beside the store (the same disk; one read and write of the file), known
to this process only (a copy left by a server that died is never read, and is swept at the
next load), and one copy serves every upload running at once."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..processes import alive

PREFIX = ".scorecard-reading-"  # + the server's process id
_copies: dict[str, list] = {}  # store path -> [copy's path, uploads using it]
_lock = threading.Lock()


def copy_for(store_path: str | Path) -> Path | None:
    """The copy readers of `store_path` read while a load writes it, if one is running."""
    with _lock:
        entry = _copies.get(_key(store_path))
        return entry[0] if entry else None


def _key(store_path: str | Path) -> str:
    """One name per store file, however its address was written."""
    return str(Path(store_path).resolve())


@contextmanager
def kept_while_loading(store) -> Iterator[Callable[[], None]]:
    """Copy a DuckDB store for its readers while the block (a load) runs; the block may call
    what it is given to send readers back to the store before it ends. A ClickHouse store is
    read while it is written, and needs no copy."""
    if store.dialect.name != "duckdb":
        yield lambda: None
        return
    key = _key(store.path)
    with _lock:
        entry = _copies.get(key)
        if entry is None:
            copy = _copy_beside(store)
            if copy is not None:
                entry = _copies[key] = [copy, 0]
        if entry is not None:
            entry[1] += 1
    if entry is None:  # no room for a copy: readers wait for the load, as before
        yield lambda: None
        return
    done = []

    def loaded() -> None:
        with _lock:
            if done:
                return
            done.append(True)
            entry[1] -= 1
            if entry[1] == 0:
                _copies.pop(key, None)
                # readers still on the copy keep reading it until they let go
                shutil.rmtree(entry[0].parent, ignore_errors=True)

    try:
        yield loaded
    finally:
        loaded()


def _copy_beside(store) -> Path | None:
    """A copy of the store in a folder beside it (the same disk, never a temp folder held in
    memory), or None when it cannot be made (the load then runs as it would without)."""
    folder, beside = None, Path(store.path).resolve().parent
    try:
        _sweep_copies_of_dead_servers(beside)
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=beside))
        store.copy_to(folder / store.path.name)
    except Exception:  # noqa: BLE001 - a full disk, a store already closed: no copy, no harm
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return None
    return folder / store.path.name


def _sweep_copies_of_dead_servers(folder: Path) -> None:
    """Remove copies a server left when it died during a load."""
    for left in folder.glob(PREFIX + "*"):
        pid = left.name[len(PREFIX):].split("-")[0]
        if pid.isdigit() and not alive(pid):
            shutil.rmtree(left, ignore_errors=True)

