"""The audit trail: uploads, threshold changes, sign-offs and sign-ins, filtered in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .db import Store


@dataclass(frozen=True)
class AuditTable:
    title: str
    table: str
    actor: str  # the column naming who did it
    columns: str


AUDIT_TABLES = (
    AuditTable("Uploads", "ingest_log", "actor",
               "recorded_at, actor, via, kind, file, status, rows_read, inserted, duplicates, "
               "conflicts, rejected, size_bytes, sha256, message, ingest_id"),
    AuditTable("Removed uploads", "ingest_undos", "actor",
               "recorded_at, actor, via, reason, events_removed, incidents_removed, ingest_id"),
    AuditTable("Threshold changes", "threshold_changes", "actor",
               "recorded_at, actor, coalesce(system, 'all systems') AS system, metric, "
               "old_value, new_value, reason"),
    AuditTable("Sign-offs", "signoffs", "actor",
               "recorded_at, actor, question, coalesce(system, 'all systems') AS system, status, "
               "note, as_of"),
    AuditTable("Sign-ins", "signins", "username", "recorded_at, username, role, event"),
)


def audit_rows(store: Store, table: AuditTable, *, who: str | None = None,
               since: date | None = None, until: date | None = None,
               limit: int = 10_000) -> pd.DataFrame:
    """Newest first; `who` matches part of the actor's name, dates are UTC days, inclusive."""
    return store.query_df(
        f"SELECT {table.columns} FROM {table.table} "
        f"WHERE ($who IS NULL OR {table.actor} ILIKE '%' || $who || '%') "
        "AND ($since IS NULL OR recorded_at >= $since) "
        "AND ($until IS NULL OR recorded_at < $until) "
        "ORDER BY recorded_at DESC LIMIT $limit",
        {"who": who or None, "since": since,
         "until": until + timedelta(days=1) if until else None, "limit": limit})


def upload_history(store: Store, limit: int = 20) -> pd.DataFrame:
    """The latest uploads, newest first, each with when it was removed (if it was)."""
    return store.query_df(
        "SELECT l.recorded_at, l.actor, l.via, l.kind, l.file, l.status, l.inserted, "
        "l.duplicates, l.conflicts, l.rejected, u.recorded_at AS removed_at, "
        "u.actor AS removed_by, u.reason AS removed_because, l.message, l.ingest_id "
        "FROM ingest_log l LEFT JOIN ingest_undos u USING (ingest_id) "
        "ORDER BY l.recorded_at DESC LIMIT ?", [limit])


def rejected_rows(store: Store, ingest_id: str, limit: int = 100_000) -> pd.DataFrame:
    """The rows one upload rejected, with their reasons and raw values, in file order."""
    return store.query_df(
        "SELECT row_number, reason, raw FROM rejected_rows WHERE ingest_id = ? "
        "ORDER BY row_number LIMIT ?", [ingest_id, limit])
