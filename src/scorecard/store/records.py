"""The store's records besides the events: sign-offs, threshold changes, chart markers (model
changes and incidents) and settings kept in `store_meta`. Reads and writes only; the rules
about them live with their callers."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Iterator

from .db import Store

# -- sign-offs ---------------------------------------------------------------------------------


def add_signoff(store: Store, *, recorded_at: datetime, actor: str, question: str,
                system: str | None, status: str, note: str, as_of: date) -> bool:
    """Keep a sign-off unless the same one is already kept; says whether it was added."""
    with store.transaction(changes_data=False) as cur:
        same = cur.execute(
            "SELECT count(*) FROM signoffs WHERE actor = $actor AND question = $question AND "
            "system IS NOT DISTINCT FROM $system AND status = $status AND note = $note AND "
            "as_of = $as_of", {"actor": actor, "question": question, "system": system,
                               "status": status, "note": note, "as_of": as_of}).fetchone()[0]
        if same:
            return False
        cur.execute("INSERT INTO signoffs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [recorded_at, actor, question, system, status, note, as_of])
    return True


SIGNOFF_COLUMNS = ["recorded_at", "actor", "question", "system", "status", "note", "as_of"]
INCIDENT_COLUMNS = ["incident_id", "system", "severity", "started_at", "detected_at",
                    "resolved_at", "detected_by", "summary"]


def signoffs(store: Store, question: str | None = None) -> list[dict]:
    """Sign-offs, newest first (of one question, when given)."""
    return store.query_dicts(
        "SELECT recorded_at, actor, question, coalesce(system, 'all systems') AS system, status,"
        " note, as_of FROM signoffs WHERE $q IS NULL OR question = $q ORDER BY recorded_at DESC",
        {"q": question})


def signoff_mark(store: Store) -> tuple[int, Any]:
    """How many sign-offs there are and the newest's time: changes whenever one is added."""
    row = store.query("SELECT count(*), max(recorded_at) FROM signoffs")[0]
    return int(row[0]), row[1]


# -- threshold changes -------------------------------------------------------------------------


@contextmanager
def threshold_change(store: Store, *, recorded_at: datetime, actor: str, system: str | None,
                     metric: str, old: Any, new: Any, reason: str) -> Iterator[None]:
    """Record a threshold change; the caller writes the thresholds file inside the block, and
    a failed write takes the record back."""
    with store.transaction(changes_data=False) as cur:
        cur.execute("INSERT INTO threshold_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [recorded_at, actor, system, metric, json.dumps(old), json.dumps(new),
                     reason])
        yield


def threshold_changes(store: Store, limit: int = 200) -> list[dict]:
    """Threshold changes, newest first, with the old and new entries as dicts (or None)."""
    rows = store.query_dicts(
        "SELECT recorded_at, actor, system, metric, old_value, new_value, reason "
        "FROM threshold_changes ORDER BY recorded_at DESC LIMIT $limit", {"limit": limit})
    for row in rows:
        row["old"] = json.loads(row.pop("old_value") or "null")
        row["new"] = json.loads(row.pop("new_value") or "null")
    return rows


# -- chart markers -----------------------------------------------------------------------------


def model_changes(store: Store, system: str | None = None) -> list[dict]:
    """When each system first logged each model, after its first model."""
    return store.query_dicts(
        "SELECT system, model, first_seen FROM ("
        "  SELECT system, model, min(timestamp) AS first_seen,"
        "         row_number() OVER (PARTITION BY system ORDER BY min(timestamp)) AS k"
        "  FROM inference_events WHERE $system IS NULL OR system = $system"
        "  GROUP BY system, model) WHERE k > 1 ORDER BY first_seen",
        {"system": system})


def incidents(store: Store, system: str | None = None) -> list[dict]:
    return store.query_dicts(
        f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM incidents "
        "WHERE $system IS NULL OR system = $system ORDER BY started_at", {"system": system})


# -- settings kept in the store ----------------------------------------------------------------


def meta(store: Store, key: str) -> str | None:
    """A value kept in `store_meta`, or None."""
    return store.scalar("SELECT value FROM store_meta WHERE key = $key", {"key": key})


def set_meta(store: Store, values: dict[str, str], changes_data: bool = True) -> None:
    """Keep values in `store_meta`, replacing those of the same keys, in one write (derived
    data says `changes_data=False`, so cached results stay valid)."""
    with store.transaction(changes_data=changes_data) as cur:
        for key, value in values.items():
            for statement in store.dialect.keep_meta():
                cur.execute(statement, {"key": key, "value": value})


def event_count(store: Store) -> int:
    return store.scalar("SELECT count(*) FROM inference_events")


def loaded_only_via(store: Store, via: str) -> bool:
    """Whether every successful load into the store came by `via` (and there was one)."""
    return bool(store.scalar("SELECT count(*) > 0 AND count(*) FILTER (WHERE via <> $via) = 0 "
                             "FROM ingest_log WHERE status = 'ok'", {"via": via}))


def loaded_other_than(store: Store, via: str) -> bool:
    """Whether anything was loaded into the store other than by `via`."""
    return bool(store.scalar("SELECT count(*) > 0 FROM ingest_log WHERE status = 'ok' "
                             "AND via IS DISTINCT FROM $via", {"via": via}))


def meta_keys_present(store: Store, keys: list[str]) -> int:
    return store.scalar(f"SELECT count(*) FROM store_meta WHERE "
                        f"{store.dialect.contains('$keys', 'key')}", {"keys": keys})
