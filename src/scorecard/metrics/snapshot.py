"""The newest scorecard, error budgets, weekly trend table and attention drivers kept in the
store, so that the first person to open the app after a server start sees them at once instead
of waiting for every metric query (seconds at 100M events). `scorecard serve` keeps them at
start when missing or stale. They are derived data: the app uses them only while everything
they were computed from is unchanged (the data version, whether the rollup was read, the
thresholds in force, the metric registry); otherwise they are computed live, as before."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime

from ..store import records
from ..store.db import Store
from . import budgets, drivers, rollups
from .compute import MetricValue, Scorecard, Window, compute_scorecard
from .registry import registry
from .thresholds import Thresholds
from .trends import every_family_table

KEY = "scorecard_snapshot"
BUDGETS_KEY = "budgets_snapshot"
WEEKLY_KEY = "weekly_snapshot"
DRIVERS_KEY = "drivers_snapshot"
FORMAT = 3  # raise when the kept form changes


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
    """Compute the newest scorecard and what its page shows first, and keep them, unless the
    kept ones are current or the store holds no events; says whether it computed."""
    if not records.event_count(store):
        return False
    fingerprint = _fingerprint(store, thresholds)
    if kept(store, thresholds, fingerprint) is not None:
        return False
    card = compute_scorecard(store, thresholds)
    report = budgets.evaluate(store, thresholds)
    weekly = every_family_table(store, thresholds, "week")
    found = drivers.attention_drivers(store, thresholds, card)

    def kept_as(name: str, value) -> str:
        return json.dumps({"fingerprint": fingerprint, name: value}, default=_encode)

    records.set_meta(store, {
        KEY: kept_as("card", asdict(card)),
        BUDGETS_KEY: kept_as("report", asdict(report)),
        WEEKLY_KEY: kept_as("table", [[scope, start, metrics]
                                      for (scope, start), metrics in weekly.items()]),
        DRIVERS_KEY: kept_as("drivers", {system: asdict(d) for system, d in found.items()})},
        changes_data=False)
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


def kept_weekly(store: Store, thresholds: Thresholds) -> dict | None:
    """The kept weekly trend table (`every_family_table`), if it is current."""
    data = _current(store, thresholds, WEEKLY_KEY)
    if data is None:
        return None
    return {(scope, start): metrics for scope, start, metrics in data["table"]}


def kept_drivers(store: Store, thresholds: Thresholds) -> dict[str, drivers.Driver] | None:
    """The kept drivers of the newest scorecard's flagged metrics, if they are current."""
    data = _current(store, thresholds, DRIVERS_KEY)
    if data is None:
        return None
    return {system: drivers.Driver(**fields) for system, fields in data["drivers"].items()}


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
