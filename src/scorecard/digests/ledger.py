"""What each digest did, kept in the store (`digest_sends`), so that a period is sent once
however many runners start at once, and a failure is tried again at the next run.

Rows are only ever added: a runner `claim`s a period (a random token, stamped by the engine's
clock), sends, then records `sent` or `failed` under the same token. A claim is granted when
the period has not been sent, no other claim on it is open, and, of the claims open after its
own was written, it is the earliest (time, then token). On DuckDB the check and the claim are
one transaction; on ClickHouse, which has none, the earliest-claim rule decides between runners
that wrote at the same moment. A claim left open longer than `LEASE_MINUTES` (its runner
stopped) is closed as failed and the period is tried again."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from ..store.db import Store

LEASE_MINUTES = 15
CLAIMED, SENT, FAILED, YIELDED = "claimed", "sent", "failed", "yielded"
TEST_PERIOD = "test"  # a "send a test now" from the Digests page: recorded, never a period
STOPPED = ("the run that was sending it stopped before it finished (it may have arrived); "
           "sent again")


def runner() -> str:
    """Who is sending: host and process, for the record."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _steps(store: Store, subscription: str, period: str, cur=None) -> list[dict]:
    """The period's rows, oldest first, each with its age in minutes by the engine's clock."""
    d = store.dialect
    sql = (f"SELECT recorded_at, step, claim, detail, "
           f"{d.minutes_between('recorded_at', d.now())} AS age_minutes FROM digest_sends "
           "WHERE subscription = $s AND period = $p ORDER BY recorded_at, claim")
    params = {"s": subscription, "p": period}
    if cur is None:
        return store.query_dicts(sql, params)
    result = cur.execute(sql, params)
    names = [c[0] for c in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def _open_claims(steps: list[dict]) -> list[dict]:
    settled = {s["claim"] for s in steps if s["step"] != CLAIMED}
    return [s for s in steps if s["step"] == CLAIMED and s["claim"] not in settled]


def _add(cur, store: Store, subscription: str, period: str, step: str, claim: str,
         detail: str | None = None) -> None:
    cur.execute(f"INSERT INTO digest_sends VALUES ({store.dialect.now()}, $s, $p, $step, $claim,"
                " $runner, $detail)", {"s": subscription, "p": period, "step": step,
                                       "claim": claim, "runner": runner(), "detail": detail})


def claim(store: Store, subscription: str, period: str) -> tuple[str | None, str]:
    """(this runner's token, "") when it is the one to send the period, else (None, why not):
    sent already, or another runner is sending it."""
    token = secrets.token_hex(8)
    with store.transaction(changes_data=False) as cur:
        steps = _steps(store, subscription, period, cur)
        if any(s["step"] == SENT for s in steps):
            return None, "sent already"
        open_claims = _open_claims(steps)
        if any(c["age_minutes"] < LEASE_MINUTES for c in open_claims):
            return None, "being sent by another run"
        for stale in open_claims:
            _add(cur, store, subscription, period, FAILED, stale["claim"], STOPPED)
        _add(cur, store, subscription, period, CLAIMED, token)
        contenders = [c for c in _open_claims(_steps(store, subscription, period, cur))
                      if c["age_minutes"] < LEASE_MINUTES]
        first = min(contenders, key=lambda c: (c["recorded_at"], c["claim"]))
        if first["claim"] != token:
            _add(cur, store, subscription, period, YIELDED, token, "another run sends it")
            return None, "being sent by another run"
    return token, ""


def was_sent(store: Store, subscription: str, period: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM digest_sends WHERE subscription = $s AND "
                             "period = $p AND step = 'sent'", {"s": subscription, "p": period}))


def finish(store: Store, subscription: str, period: str, token: str,
           problem: str | None) -> None:
    """Record how the claimed send ended: sent, or failed and why (tried again next run)."""
    with store.transaction(changes_data=False) as cur:
        _add(cur, store, subscription, period, FAILED if problem else SENT, token, problem)


def record_test(store: Store, subscription: str, problem: str | None) -> None:
    """Record a test send from the Digests page (it never stands for a period)."""
    with store.transaction(changes_data=False) as cur:
        _add(cur, store, subscription, TEST_PERIOD, FAILED if problem else SENT,
             secrets.token_hex(8), problem)


@dataclass
class Status:
    """Where a subscription stands, for the Digests page."""

    last_sent: object | None = None  # when its latest period was sent
    last_period: str | None = None
    failures: int = 0  # failed tries since it was last sent
    last_problem: str | None = None


def statuses(store: Store) -> dict[str, Status]:
    """Each subscription's last sent period and the failed tries since, from the log."""
    rows = store.query_dicts(
        "SELECT subscription, period, step, recorded_at, detail FROM digest_sends "
        "WHERE step IN ('sent', 'failed') AND period <> $test ORDER BY recorded_at",
        {"test": TEST_PERIOD})
    found: dict[str, Status] = {}
    for row in rows:
        status = found.setdefault(row["subscription"], Status())
        if row["step"] == SENT:
            status.last_sent, status.last_period = row["recorded_at"], row["period"]
            status.failures, status.last_problem = 0, None
        elif row["period"] != status.last_period:
            status.failures += 1
            status.last_problem = row["detail"]
    return found


def history(store: Store, limit: int = 100) -> list[dict]:
    """The latest sends, failures and tests, newest first."""
    return store.query_dicts(
        "SELECT recorded_at, subscription, period, step, runner, detail FROM digest_sends "
        "WHERE step IN ('sent', 'failed') ORDER BY recorded_at DESC LIMIT $limit",
        {"limit": limit})
