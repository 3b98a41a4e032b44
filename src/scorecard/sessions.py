"""Sign-in sessions kept on the server, and sign-in throttling; both live in the store.

The browser's cookie carries only a random token. The store keeps the token's hash with the
user, the role and password the session began with, when it began and was last seen, and when
and why it ended. Every page run checks it, so signing out, a password or role change, removal
of the user and an admin's "sign out everywhere" end a session at once, wherever its cookie is.

Failed sign-ins are counted per username and per client address: after `delay_after` failures
each further attempt must wait twice as long as the last (1 s, 2 s, 4 s ...), after
`lock_after` the name or address is locked for `lock_minutes`. A failure stops counting once
its username signs in or is unlocked. Unknown usernames are counted like known ones, and every
refusal reads the same, so the answer never tells whether a username exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import BadInput
from .settings import config_dir, read_yaml

TOKEN_BYTES = 32


class SecurityPolicy(BaseModel):
    """`security.yaml` in the config directory; every field has a default."""

    model_config = ConfigDict(extra="forbid")
    idle_hours: float = Field(8, gt=0)
    lifetime_days: float = Field(7, gt=0)
    delay_after: int = Field(5, ge=1)
    lock_after: int = Field(10, ge=1)
    lock_minutes: float = Field(15, gt=0)


def load_policy(cfg_dir: Path | None = None) -> SecurityPolicy:
    path = config_dir(cfg_dir) / "security.yaml"
    try:
        return SecurityPolicy.model_validate(read_yaml(path, "security settings file"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadInput(f"The security settings file {path} is invalid at "
                       f"{'.'.join(map(str, first['loc']))}: {first['msg']}.") from None


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def credential_mark(password_hash: str) -> str:
    """A short fingerprint of a password hash: a session remembers the password it began with
    without keeping the hash itself."""
    return _digest(password_hash)[:16]


# -- sessions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    session_id: str
    username: str
    role: str


@dataclass(frozen=True)
class Ended:
    """A token that does not (or no longer) open a session, and why, in words."""

    reason: str


def start_session(store, username: str, role: str, password_hash: str, client: str | None,
                  policy: SecurityPolicy, now: datetime | None = None) -> str:
    """A new session; returns the token for the cookie (only its hash is stored)."""
    now = now or utc_now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with store.transaction(changes_data=False) as cur:
        cur.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                    [secrets.token_hex(8), _digest(token), username, role,
                     credential_mark(password_hash), client, now, now,
                     now + timedelta(days=policy.lifetime_days)])
    return token


def check_session(store, token: str, directory, policy: SecurityPolicy,
                  now: datetime | None = None) -> Session | Ended:
    """The session a token opens, after checking it has not ended, expired or gone idle and
    that its user still exists with the same role and password; otherwise why not (a session
    found stale is ended here, with the reason)."""
    now = now or utc_now()
    row = store.query("SELECT session_id, username, role, credential, last_seen_at, expires_at, "
                      "ended_at, end_reason FROM sessions WHERE token_hash = ?", [_digest(token)])
    if not row:
        return Ended("that sign-in is not known here")
    session_id, username, role, credential, last_seen, expires, ended_at, end_reason = row[0]
    if ended_at is not None:
        return Ended(end_reason or "the session has ended")
    entry = directory.usernames.get(username)
    stale = (
        "the user was removed" if entry is None else
        "the password was changed" if credential_mark(entry.get("password", "")) != credential
        else "the role was changed" if directory.role(username) != role
        else "it reached its time limit" if now >= expires
        else "it was idle too long" if now - last_seen >= timedelta(hours=policy.idle_hours)
        else None)
    if stale:
        if not store.read_only:
            end_sessions(store, by="scorecard", reason=stale, session_id=session_id, now=now)
        return Ended(stale)
    if now - last_seen >= timedelta(minutes=1) and not store.read_only:
        with store.transaction(changes_data=False) as cur:  # at most one write a minute
            cur.execute("UPDATE sessions SET last_seen_at = ? WHERE session_id = ?",
                        [now, session_id])
    return Session(session_id, username, role)


def end_sessions(store, *, by: str, reason: str, session_id: str | None = None,
                 username: str | None = None, token: str | None = None,
                 now: datetime | None = None) -> int:
    """End one session (by id or token), or every open session of a user, or every open
    session when neither is given; returns how many ended."""
    where, params = "ended_at IS NULL", []
    if session_id is not None:
        where, params = where + " AND session_id = ?", [session_id]
    if token is not None:
        where, params = where + " AND token_hash = ?", [*params, _digest(token)]
    if username is not None:
        where, params = where + " AND username = ?", [*params, username]
    with store.transaction(changes_data=False) as cur:
        return cur.execute(f"UPDATE sessions SET ended_at = ?, ended_by = ?, end_reason = ? "
                           f"WHERE {where}", [now or utc_now(), by, reason, *params]
                           ).fetchone()[0]


def list_sessions(store, username: str | None = None, open_only: bool = True) -> list[dict]:
    return store.query_dicts(
        "SELECT session_id, username, role, client, started_at, last_seen_at, expires_at, "
        "ended_at, ended_by, end_reason FROM sessions WHERE (? IS NULL OR username = ?) "
        "AND (NOT ? OR ended_at IS NULL) ORDER BY started_at DESC",
        [username, username, open_only])


# -- throttling --------------------------------------------------------------------------------

def record_attempt(store, username: str, role: str | None, event: str, client: str | None,
                   now: datetime | None = None, detail: str | None = None) -> None:
    """Keep a sign-in event (sign_in, resumed, sign_out, failed, locked, unlocked,
    bad_cookie, ended) in the audit trail."""
    with store.transaction(changes_data=False) as cur:
        cur.execute("INSERT INTO signins (recorded_at, username, role, event, client, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [now or utc_now(), username[:64], role, event, client, detail])


def _failures(store, column: str, key: str, since: datetime) -> tuple[int, datetime | None]:
    """Failures for a username or client since a time that no later sign-in or unlock of
    their username has cleared: their count and the latest one's time."""
    return store.query(
        f"SELECT count(*), max(recorded_at) FROM signins f WHERE f.event = 'failed' "
        f"AND f.{column} = ? AND f.recorded_at >= ? AND NOT EXISTS ("
        f"SELECT 1 FROM signins c WHERE c.username = f.username AND c.recorded_at > "
        f"f.recorded_at AND c.event IN ('sign_in', 'unlocked'))", [key, since])[0]


def wait_before_attempt(store, username: str, client: str, policy: SecurityPolicy,
                        now: datetime | None = None) -> float:
    """Seconds this username and client must still wait before a password is checked
    (0: go ahead). Locked keys wait out their lockout."""
    now = now or utc_now()
    since = now - timedelta(minutes=policy.lock_minutes)
    wait = 0.0
    for column, key in (("username", username), ("client", client)):
        count, last = _failures(store, column, key, since)
        if count >= policy.lock_after:
            until = last + timedelta(minutes=policy.lock_minutes)
        elif count >= policy.delay_after:
            until = last + timedelta(seconds=2 ** (count - policy.delay_after))
        else:
            continue
        wait = max(wait, (until - now).total_seconds())
    return max(wait, 0.0)


def record_failure(store, username: str, role: str | None, client: str,
                   policy: SecurityPolicy, now: datetime | None = None) -> bool:
    """Count a failed sign-in; True (and a 'locked' line in the audit log) when it locks the
    username or the client."""
    now = now or utc_now()
    record_attempt(store, username, role, "failed", client, now)
    since = now - timedelta(minutes=policy.lock_minutes)
    locks = any(_failures(store, column, key, since)[0] == policy.lock_after
                for column, key in (("username", username), ("client", client)))
    if locks:
        record_attempt(store, username, role, "locked", client, now)
    return locks


def unlock(store, username: str, by: str) -> None:
    """Lift a lockout: the username's failures, and those made under it from any client, no
    longer count."""
    record_attempt(store, username, None, "unlocked", None, detail=f"by {by}")
