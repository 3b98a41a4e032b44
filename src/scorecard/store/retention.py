"""Keeping logs as long as the law asks and no longer (`scorecard retention`, SPEC section 4):
events, incidents, rejected rows and the upload, sign-in, session and digest logs older than
the retention are removed in one write, and the run is recorded in `retention_log`. Threshold
changes, sign-offs and removed-upload records stay: they are the decisions taken, not logs.
A ClickHouse store also gets a TTL on its tables, so the engine keeps to the retention between
runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..errors import BadInput
from .db import Store

MINIMUM_DAYS = 183  # EU AI Act Art. 26(6): deployers keep logs at least six months
DEFAULT_DAYS = 400

# what is removed: (name for people, table, the rows older than the cutoff)
TARGETS = (
    ("events", "inference_events", '"timestamp" < $cutoff'),
    ("incidents", "incidents", "coalesce(resolved_at, started_at) < $cutoff"),
    # a rejected row is as old as the upload that brought it (removed before that log line)
    ("rejected rows", "rejected_rows",
     "ingest_id IN (SELECT ingest_id FROM ingest_log WHERE recorded_at < $cutoff)"),
    ("upload log", "ingest_log", "recorded_at < $cutoff"),
    ("sign-in log", "signins", "recorded_at < $cutoff"),
    ("sessions", "sessions", "expires_at < $cutoff"),
    ("digest log", "digest_sends", "recorded_at < $cutoff"),
)
# the time each table's TTL counts from, on engines that keep one
TTL_COLUMNS = {"inference_events": '"timestamp"', "ingest_log": "recorded_at",
               "signins": "recorded_at", "digest_sends": "recorded_at"}


@dataclass
class RetentionRun:
    keep_days: int
    cutoff: datetime
    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)
    oldest_kept: datetime | None = None

    def public(self) -> dict:
        return {"keep_days": self.keep_days, "cutoff": self.cutoff.isoformat(sep=" "),
                "dry_run": self.dry_run, "removed": self.removed,
                "oldest_event_kept": (self.oldest_kept.isoformat(sep=" ")
                                      if self.oldest_kept else None)}


def check_days(keep_days: int, force: bool) -> None:
    if keep_days < 1:
        raise BadInput("The retention is a number of days, at least 1.")
    if keep_days < MINIMUM_DAYS and not force:
        raise BadInput(f"A retention of {keep_days} days is below six months ({MINIMUM_DAYS} "
                       "days), which the EU AI Act asks deployers to keep logs for; add --force "
                       "if that is really meant.")


def configured_days(settings: dict) -> int:
    """`retention_days` of store.yaml (default 400 days)."""
    value = settings.get("retention_days") or DEFAULT_DAYS
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(f"store.yaml: retention_days '{value}' is not a number of days.") from None


def cutoff_for(keep_days: int, now: datetime | None = None) -> datetime:
    """00:00 UTC of the day `keep_days` days ago: retention counts whole days, so a preview and
    the run after it, on the same day, remove the same rows."""
    moment = now or datetime.now(timezone.utc).replace(tzinfo=None)
    return datetime.combine(moment.date(), datetime.min.time()) - timedelta(days=keep_days)


def plan(store: Store, keep_days: int, now: datetime | None = None) -> RetentionRun:
    """What a run would remove, counted; nothing is written (the dry run)."""
    run = RetentionRun(keep_days, cutoff_for(keep_days, now), dry_run=True)
    for name, table, where in TARGETS:
        run.removed[name] = int(store.scalar(f"SELECT count(*) FROM {table} WHERE {where}",
                                             {"cutoff": run.cutoff}))
    run.oldest_kept = store.scalar('SELECT min("timestamp") FROM inference_events '
                                   'WHERE "timestamp" >= $cutoff', {"cutoff": run.cutoff})
    return run


def apply(store: Store, keep_days: int, *, actor: str, via: str,
          now: datetime | None = None) -> RetentionRun:
    """Remove what is older than the retention, in one write, and record it. The caller brings
    the derived tables back in step afterwards."""
    run = plan(store, keep_days, now)
    run.dry_run = False
    with store.transaction() as cur:
        for name, table, where in TARGETS:  # rejected rows before the upload log they name
            if run.removed[name]:
                cur.execute(f"DELETE FROM {table} WHERE {where}", {"cutoff": run.cutoff})
        for statement in store.dialect.retention_ttl(TTL_COLUMNS, keep_days):
            cur.execute(statement)
        cur.execute("INSERT INTO retention_log VALUES ($at, $actor, $via, $days, $cutoff, "
                    "$removed)", {"at": datetime.now(timezone.utc).replace(tzinfo=None),
                                  "actor": actor, "via": via, "days": keep_days,
                                  "cutoff": run.cutoff, "removed": json.dumps(run.removed)})
    return run


def last_run(store: Store) -> dict | None:
    """The latest retention run, for the evidence pack and the Audit page."""
    rows = store.query_dicts("SELECT recorded_at, actor, keep_days, cutoff, removed FROM "
                             "retention_log ORDER BY recorded_at DESC LIMIT 1")
    return rows[0] if rows else None
