"""The `sessions` and `signins` tables: reads and writes only. The rules (expiry, idle time,
throttling) are in `scorecard.sessions`."""

from __future__ import annotations

from datetime import datetime

from .db import Store

SESSION_COLUMNS = ("session_id, username, role, client, started_at, last_seen_at, expires_at, "
                   "ended_at, ended_by, end_reason")


def add_session(store: Store, *, session_id: str, token_hash: str, username: str, role: str,
                credential: str, client: str | None, now: datetime, expires: datetime) -> None:
    with store.transaction(changes_data=False) as cur:
        cur.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                    [session_id, token_hash, username, role, credential, client, now, now,
                     expires])


def session_by_token(store: Store, token_hash: str) -> dict | None:
    rows = store.query_dicts(
        "SELECT session_id, username, role, credential, last_seen_at, expires_at, ended_at, "
        "end_reason FROM sessions WHERE token_hash = $token_hash", {"token_hash": token_hash})
    return rows[0] if rows else None


def has_credential(store: Store, credential: str) -> bool:
    """Whether a session (open or ended) began with this credential mark."""
    return bool(store.query("SELECT 1 FROM sessions WHERE credential = $credential LIMIT 1",
                            {"credential": credential}))


def touch_session(store: Store, session_id: str, now: datetime) -> None:
    with store.transaction(changes_data=False) as cur:
        cur.execute("UPDATE sessions SET last_seen_at = ? WHERE session_id = ?", [now, session_id])


def end_sessions(store: Store, *, ended_at: datetime, by: str, reason: str,
                 session_id: str | None = None, token_hash: str | None = None,
                 username: str | None = None) -> int:
    """End the open sessions that match every key given (all open ones when none is)."""
    where, keys = "ended_at IS NULL", []
    for column, value in (("session_id", session_id), ("token_hash", token_hash),
                          ("username", username)):
        if value is not None:
            where += f" AND {column} = ?"
            keys.append(value)
    with store.transaction(changes_data=False) as cur:  # counted first, as undo counts
        ended = cur.execute(f"SELECT count(*) FROM sessions WHERE {where}", keys).fetchone()[0]
        if ended:
            cur.execute("UPDATE sessions SET ended_at = ?, ended_by = ?, end_reason = ? "
                        f"WHERE {where}", [ended_at, by, reason, *keys])
        return ended


def sessions(store: Store, username: str | None = None, open_only: bool = True) -> list[dict]:
    return store.query_dicts(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE ($user IS NULL OR username = $user) "
        "AND (NOT $open_only OR ended_at IS NULL) ORDER BY started_at DESC",
        {"user": username, "open_only": open_only})


def add_event(store: Store, *, recorded_at: datetime, username: str, role: str | None,
              event: str, client: str | None, detail: str | None) -> None:
    with store.transaction(changes_data=False) as cur:
        cur.execute("INSERT INTO signins (recorded_at, username, role, event, client, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [recorded_at, username, role, event, client, detail])


ADDRESS_UNLOCK = "(address)"  # the username of an address's unlock


def failures(store: Store, by_client: bool, key: str, since: datetime
             ) -> tuple[int, datetime | None]:
    """Failed sign-ins of a username (or a client) since a time that no later sign-in or
    unlock of their username, nor unlock of their address, has cleared: their count and the
    latest one's time."""
    column = "client" if by_client else "username"
    return store.query(
        f"SELECT count(*), max(recorded_at) FROM signins f WHERE f.event = 'failed' "
        f"AND f.{column} = ? AND f.recorded_at >= ? AND NOT EXISTS ("
        f"SELECT 1 FROM signins c WHERE c.recorded_at > f.recorded_at AND ("
        f"(c.username = f.username AND c.event IN ('sign_in', 'unlocked')) OR "
        f"(c.username = ? AND c.event = 'unlocked' AND c.client = f.client)))",
        [key, since, ADDRESS_UNLOCK])[0]
