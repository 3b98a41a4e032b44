"""The newest scorecard and error budgets kept in the store, so that the first person to open
the app after a server start sees them at once instead of waiting for every metric query
(seconds at 100M events). `scorecard serve` keeps them at start when missing or stale. They
are derived data: the app uses them only while everything they were computed from is
unchanged (the data version, whether the rollup was read, the thresholds in force, the metric
registry); otherwise they are computed live, as before."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime

from ..store import records
from ..store.db import Store
from . import budgets, rollups
from .compute import MetricValue, Scorecard, Window, compute_scorecard
from .registry import registry
from .thresholds import Thresholds

KEY = "scorecard_snapshot"
BUDGETS_KEY = "budgets_snapshot"
FORMAT = 2  # raise when the kept form changes


def _fingerprint(store: Store, thresholds: Thresholds) -> str:
    parts = [FORMAT, store.data_version(), rollups.ready(store),
             thresholds.model_dump(mode="json"), registry().model_dump(mode="json")]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _encode(value):
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot keep a {type(value).__name__}")


def _decode(obj: dict):
    if "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    if "$date" in obj:
        return date.fromisoformat(obj["$date"])
    return obj


def keep(store: Store, thresholds: Thresholds) -> bool:
    """Compute the newest scorecard and keep it, unless the kept one is current or the store
    holds no events; says whether it computed."""
    if not records.event_count(store):
        return False
    fingerprint = _fingerprint(store, thresholds)
    if kept(store, thresholds, fingerprint) is not None:
        return False
    card = compute_scorecard(store, thresholds)
    report = budgets.evaluate(store, thresholds)
    records.set_meta(store, {
        KEY: json.dumps({"fingerprint": fingerprint, "card": asdict(card)}, default=_encode),
        BUDGETS_KEY: json.dumps({"fingerprint": fingerprint, "report": asdict(report)},
                                default=_encode)}, changes_data=False)
    return True


def _current(store: Store, thresholds: Thresholds, key: str,
             fingerprint: str | None = None) -> dict | None:
    text = records.meta(store, key)
    if not text:
        return None
    data = json.loads(text, object_hook=_decode)
    if data.get("fingerprint") != (fingerprint or _fingerprint(store, thresholds)):
        return None
    return data


def kept_budgets(store: Store, thresholds: Thresholds) -> budgets.BudgetReport | None:
    """The kept error budgets as of the newest event, if they are current."""
    data = _current(store, thresholds, BUDGETS_KEY)
    if data is None:
        return None
    report = data["report"]
    return budgets.BudgetReport(report["now"], {
        system: {name: budgets.Indicator(**{**fields, "alerts": [
            budgets.Alert(**a) for a in fields["alerts"]]}) for name, fields in ind.items()}
        for system, ind in report["systems"].items()})


def kept(store: Store, thresholds: Thresholds, fingerprint: str | None = None
         ) -> Scorecard | None:
    """The kept newest scorecard (7-day window, 28 baseline days), if it is current."""
    data = _current(store, thresholds, KEY, fingerprint)
    if data is None:
        return None
    card = data["card"]
    values = {scope: {mid: MetricValue(**fields) for mid, fields in metrics.items()}
              for scope, metrics in card["values"].items()}
    return Scorecard(Window(**card["window"]), card["systems"], values, card["baselines"])
