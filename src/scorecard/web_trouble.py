"""Why a request over HTTP failed, as a clause people read after the thing asked: "refused the
connection", "answered 404 Not Found", "could not be reached (TimeoutError)"."""

from __future__ import annotations

import urllib.error


def trouble(exc: OSError) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"answered {exc.code} {exc.reason}"
    reason = getattr(exc, "reason", exc)
    return ("refused the connection" if isinstance(reason, ConnectionRefusedError)
            else f"could not be reached ({type(reason).__name__})")
