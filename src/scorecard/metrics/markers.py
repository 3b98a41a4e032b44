"""Events worth marking on a trend chart: model changes (from the logs) and incidents."""

from __future__ import annotations

from ..store.db import Store


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
        "SELECT incident_id, system, severity, started_at, detected_at, resolved_at, detected_by,"
        " summary FROM incidents WHERE $system IS NULL OR system = $system ORDER BY started_at",
        {"system": system})
