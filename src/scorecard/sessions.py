"""Sign-in sessions kept on the server, and sign-in throttling; both live in the store.

The browser's cookie carries only a random token. The store keeps the token's hash with the
user, the role and password the session began with, when it began and was last seen, and when
and why it ended. Every page run checks it, so signing out, a password or role change, removal
of the user and an admin's "sign out everywhere" end a session at once, wherever its cookie is.

Failed sign-ins are counted per username and per client address: after `delay_after` failures
each further attempt must wait twice as long as the last (1 s, 2 s, 4 s ...), after
`lock_after` the username is locked for `lock_minutes`. An address is never locked (everyone
behind an office's address would be): its wait stops growing at ADDRESS_WAIT_CAP. A failure
stops counting once its username signs in or is unlocked, or its address is unlocked. Unknown
usernames are counted like known ones, and every refusal reads the same, so the answer never
tells whether a username exists. The address is the connection's own; a proxy's
X-Forwarded-For is believed only from the addresses in `trusted_proxies`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import BadInput
from .settings import config_dir, read_yaml
from .sso import CREDENTIAL_PREFIX
from .store import sign_ins

TOKEN_BYTES = 32


class SecurityPolicy(BaseModel):
    """`security.yaml` in the config directory; every field has a default."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    idle_hours: float = Field(8, gt=0, le=24 * 90)
    lifetime_days: float = Field(7, gt=0, le=3650)
    delay_after: int = Field(5, ge=1, le=1000)
    lock_after: int = Field(10, ge=1, le=1000)
    lock_minutes: float = Field(15, gt=0, le=60 * 24 * 30)
    # company sign-in: a group (from the ID token's group_claims) -> the role it gives
    groups: dict[str, Literal["executive", "product_manager", "analyst", "admin"]] = {}
    group_claims: list[str] = Field(default_factory=lambda: ["groups", "roles"], min_length=1)
    # reverse proxies whose X-Forwarded-For names the client: addresses or networks (CIDR)
    trusted_proxies: list[str] = []

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an address or network "
                                 "(such as 10.0.0.5 or 10.0.0.0/24)") from None
        return proxies


ADDRESS_WAIT_CAP = 60.0  # seconds: the longest an address waits between attempts


def forwarded_allow_ips(policy: SecurityPolicy) -> str:
    """The web server's FORWARDED_ALLOW_IPS: only the configured proxies ('' trusts none)."""
    return ",".join(policy.trusted_proxies)


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
    company: bool = False  # began with a company sign-in (its role came from its groups)


@dataclass(frozen=True)
class Ended:
    """A token that does not (or no longer) open a session, and why, in words."""

    reason: str


def start_session(store, username: str, role: str, password_hash: str, client: str | None,
                  policy: SecurityPolicy, now: datetime | None = None) -> str:
    """A new session; returns the token for the cookie (only its hash is stored)."""
    return _open_session(store, username, role, credential_mark(password_hash), client, policy,
                         now)


def start_company_session(store, username: str, role: str, credential: str, client: str | None,
                          policy: SecurityPolicy, now: datetime | None = None) -> str | None:
    """A new session from a company sign-in whose ID token has the given credential mark, or
    None when that token already opened one (an ID token opens a session once)."""
    if sign_ins.has_credential(store, credential):
        return None
    return _open_session(store, username, role, credential, client, policy, now)


def _open_session(store, username, role, credential, client, policy, now) -> str:
    now = now or utc_now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    sign_ins.add_session(store, session_id=secrets.token_hex(8), token_hash=_digest(token),
                         username=username, role=role, credential=credential, client=client,
                         now=now, expires=now + timedelta(days=policy.lifetime_days))
    return token


def check_session(store, token: str, directory, policy: SecurityPolicy,
                  now: datetime | None = None) -> Session | Ended:
    """The session a token opens, after checking it has not ended, expired or gone idle and
    that its user still exists with the same role and password (a company sign-in's role came
    from its groups, so only its time limits are checked); otherwise why not (a session found
    stale is ended here, with the reason)."""
    now = now or utc_now()
    row = sign_ins.session_by_token(store, _digest(token))
    if row is None:
        return Ended("that sign-in is not known here")
    session_id, username, role, credential, last_seen, expires, ended_at, end_reason = \
        row.values()
    if ended_at is not None:
        return Ended(end_reason or "the session has ended")
    entry = directory.usernames.get(username)
    company = credential.startswith(CREDENTIAL_PREFIX)
    stale = (
        None if company else
        "the user was removed" if entry is None else
        "the password was changed" if credential_mark(entry.get("password", "")) != credential
        else "the role was changed" if directory.role(username) != role
        else None) or (
        "it reached its time limit" if now >= expires
        else "it was idle too long" if now - last_seen >= timedelta(hours=policy.idle_hours)
        else None)
    if stale:
        if not store.read_only:
            end_sessions(store, by="scorecard", reason=stale, session_id=session_id, now=now)
        return Ended(stale)
    if now - last_seen >= timedelta(minutes=1) and not store.read_only:
        sign_ins.touch_session(store, session_id, now)  # at most one write a minute
    return Session(session_id, username, role, company)


def end_sessions(store, *, by: str, reason: str, session_id: str | None = None,
                 username: str | None = None, token: str | None = None,
                 now: datetime | None = None) -> int:
    """End one session (by id or token), or every open session of a user, or every open
    session when neither is given; returns how many ended."""
    return sign_ins.end_sessions(store, ended_at=now or utc_now(), by=by, reason=reason,
                                 session_id=session_id, username=username,
                                 token_hash=None if token is None else _digest(token))


def list_sessions(store, username: str | None = None, open_only: bool = True) -> list[dict]:
    return sign_ins.sessions(store, username, open_only)


# -- throttling --------------------------------------------------------------------------------

def record_attempt(store, username: str, role: str | None, event: str, client: str | None,
                   now: datetime | None = None, detail: str | None = None) -> None:
    """Keep a sign-in event (sign_in, resumed, sign_out, failed, locked, unlocked,
    bad_cookie, ended) in the audit trail."""
    sign_ins.add_event(store, recorded_at=now or utc_now(), username=username[:64], role=role,
                       event=event, client=client, detail=detail)


_ONE_CHECK_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class Attempt:
    """How a sign-in attempt ended: `matched`, or `wait` seconds before trying, or a failure
    that `locked` the username or address."""

    matched: bool = False
    wait: float = 0.0
    locked: bool = False


def attempt(store, username: str, role: str | None, client: str, policy: SecurityPolicy,
            matches: Callable[[], bool]) -> Attempt:
    """Throttle, check and count one sign-in attempt as one step: attempts sent together (25
    at once over the websocket) are taken in turn, so each sees the failures before it and only
    as many passwords are checked as the throttle allows."""
    with _ONE_CHECK_AT_A_TIME:
        wait = wait_before_attempt(store, username, client, policy)
        if wait > 0:
            return Attempt(wait=wait)
        if matches():
            return Attempt(matched=True)
        return Attempt(locked=record_failure(store, username, role, client, policy))


def wait_before_attempt(store, username: str, client: str, policy: SecurityPolicy,
                        now: datetime | None = None) -> float:
    """Seconds this username and client must still wait before a password is checked
    (0: go ahead). Locked keys wait out their lockout."""
    now = now or utc_now()
    since = now - timedelta(minutes=policy.lock_minutes)
    wait = 0.0
    for by_client, key in ((False, username), (True, client)):
        count, last = sign_ins.failures(store, by_client, key, since)
        if count >= policy.lock_after and not by_client:
            until = last + timedelta(minutes=policy.lock_minutes)
        elif count >= policy.delay_after:
            delay = 2.0 ** min(count - policy.delay_after, 30)
            until = last + timedelta(seconds=min(delay, ADDRESS_WAIT_CAP) if by_client else delay)
        else:
            continue
        wait = max(wait, (until - now).total_seconds())
    return max(wait, 0.0)


def record_failure(store, username: str, role: str | None, client: str,
                   policy: SecurityPolicy, now: datetime | None = None) -> bool:
    """Count a failed sign-in; True (and a 'locked' line in the audit log) when it locks the
    username."""
    now = now or utc_now()
    record_attempt(store, username, role, "failed", client, now)
    since = now - timedelta(minutes=policy.lock_minutes)
    locks = sign_ins.failures(store, False, username, since)[0] == policy.lock_after
    if locks:
        record_attempt(store, username, role, "locked", client, now)
    return locks


def unlock(store, username: str, by: str) -> None:
    """Lift a lockout: the username's failures, and those made under it from any client, no
    longer count."""
    record_attempt(store, username, None, "unlocked", None, detail=f"by {by}")


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def unlock_address(store, address: str, by: str) -> None:
    """Lift an address's wait: the failures made from it, under any username, no longer
    count."""
    record_attempt(store, sign_ins.ADDRESS_UNLOCK, None, "unlocked", address, detail=f"by {by}")


_MEMORY_LEDGER: list = []


def memory_ledger():
    """The sign-in ledger of a process that may not write its store: in memory, for the
    process's life, where no cache clearing (which anyone may ask of a Streamlit app) reaches."""
    with _ONE_CHECK_AT_A_TIME:
        if not _MEMORY_LEDGER:
            from .store.db import Store

            _MEMORY_LEDGER.append(Store(":memory:"))
        return _MEMORY_LEDGER[0]
