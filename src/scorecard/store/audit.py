"""The audit trail: uploads, threshold changes, sign-offs and sign-ins, filtered in SQL."""

from __future__ import annotations

import json
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
    time: str = "recorded_at"  # the column the dates filter on


AUDIT_TABLES = (
    AuditTable("Uploads", "ingest_log", "actor",
               'recorded_at AS "When (UTC)", actor AS "Who", via AS "Through", kind AS "Holds", '
               'file AS "File", status AS "Result", rows_read AS "Rows read", '
               'inserted AS "Stored", duplicates AS "Duplicates", conflicts AS "Conflicts", '
               'rejected AS "Rejected", size_bytes AS "Size (bytes)", message AS "Message", '
               'sha256 AS "SHA-256", ingest_id AS "Upload id"'),
    AuditTable("Removed uploads", "ingest_undos", "actor",
               'recorded_at AS "When (UTC)", actor AS "Who", via AS "Through", '
               'reason AS "Why", events_removed AS "Events removed", '
               'incidents_removed AS "Incidents removed", ingest_id AS "Upload id"'),
    AuditTable("Threshold changes", "threshold_changes", "actor",
               'recorded_at AS "When (UTC)", actor AS "Who", '
               'coalesce(system, \'all systems\') AS "Scope", metric AS "Metric", '
               'old_value AS "Before (target / limit)", new_value AS "After", reason AS "Why"'),
    AuditTable("Sign-offs", "signoffs", "actor",
               'recorded_at AS "When (UTC)", actor AS "Who", question AS "Question", '
               'coalesce(system, \'all systems\') AS "System", status AS "Status then", '
               'note AS "Note", as_of AS "Data as of"'),
    AuditTable("Sign-ins", "signins", "username",
               'recorded_at AS "When (UTC)", username AS "Who", role AS "Role", '
               'event AS "What happened", client AS "From", detail AS "Detail"'),
    AuditTable("Sessions", "sessions", "username",
               'started_at AS "Began (UTC)", username AS "Who", role AS "Role", '
               'client AS "From", last_seen_at AS "Last seen (UTC)", '
               'expires_at AS "Expires (UTC)", ended_at AS "Ended (UTC)", '
               'ended_by AS "Ended by", end_reason AS "Why it ended", '
               'session_id AS "Session id"', time="started_at"),
)


def audit_rows(store: Store, table: AuditTable, *, who: str | None = None,
               since: date | None = None, until: date | None = None,
               limit: int = 10_000) -> pd.DataFrame:
    """Newest first; `who` matches part of the actor's name, dates are UTC days, inclusive."""
    return store.query_df(
        f"SELECT {table.columns} FROM {table.table} "
        f"WHERE ($who IS NULL OR {table.actor} ILIKE '%' || $who || '%') "
        f"AND ($since IS NULL OR {table.time} >= $since) "
        f"AND ($until IS NULL OR {table.time} < $until) "
        f"ORDER BY {table.time} DESC LIMIT $limit",
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


ROW_IN_FILE, WHY = "Row in file", "Why it was set aside"
LINE_AS_READ = "Line as read"  # a line the reader could not split into columns
_AS_OBJECT = ("(SELECT row_number, reason, raw, CASE WHEN json_type(TRY_CAST(raw AS JSON)) = "
              "'OBJECT' THEN raw END AS obj FROM rejected_rows WHERE ingest_id = ?)")


def rejected_rows(store: Store, ingest_id: str, limit: int = 100_000,
                  max_columns: int = 200) -> pd.DataFrame:
    """The rows one upload set aside, in file order: the row number, the reason, then the row's
    own columns as the file had them (a line that could not be split stays whole)."""
    keys = [k for (k,) in store.query(
        f"SELECT k FROM (SELECT row_number, unnest(json_keys(obj)) AS k, "
        f"generate_subscripts(json_keys(obj), 1) AS i FROM {_AS_OBJECT}) "
        f"GROUP BY k ORDER BY min(row_number), min(i) LIMIT ?", [ingest_id, max_columns])]
    paths = ["$." + json.dumps(k) for k in keys]  # a key's path, whatever characters it holds
    picks = "".join(f", json_extract_string(obj, ?) AS c{i}" for i in range(len(keys)))
    frame = store.query_df(
        f"SELECT row_number, reason{picks}, CASE WHEN obj IS NULL THEN raw END AS line "
        f"FROM {_AS_OBJECT} ORDER BY row_number LIMIT ?", [*paths, ingest_id, limit])
    frame.columns = [ROW_IN_FILE, WHY, *keys, LINE_AS_READ]
    if frame[LINE_AS_READ].isna().all():
        frame = frame.drop(columns=LINE_AS_READ)
    return frame
