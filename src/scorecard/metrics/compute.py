"""Run the metric queries and assemble values, intervals, samples and statuses per scope."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..errors import BadInput
from ..store.db import Store
from . import rollups, sql
from .registry import registry
from .thresholds import Thresholds

OVERALL = sql.OVERALL


@dataclass
class MetricValue:
    """One metric for one scope: value with interval and sample, and what it means."""

    value: float | None
    status: str
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    target: float | None = None
    limit: float | None = None
    insufficient: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


@dataclass(frozen=True)
class Window:
    as_of: date
    start: datetime
    end: datetime
    window_days: int
    baseline_days: int

    def params(self) -> dict:
        return {"start": self.start, "end": self.end}


@dataclass
class Scorecard:
    window: Window
    systems: list[str]
    values: dict[str, dict[str, MetricValue]]  # scope ('' = all systems) -> metric id -> value
    baselines: dict[str, dict[str, Any]]

    def scope(self, system: str | None) -> dict[str, MetricValue]:
        return self.values[system or OVERALL]


def parse_day(text: str | date | None) -> date | None:
    if text is None or isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"'{text}' is not a date; use YYYY-MM-DD.") from None


def resolve_window(store: Store, as_of: str | date | None = None, window_days: int = 7,
                   baseline_days: int = 28) -> Window:
    """The current window W = [end - window_days, end), end = the day after as_of at 00:00 UTC."""
    if window_days < 1 or baseline_days < 1:
        raise BadInput("Window and baseline lengths must be at least one day.")
    day = parse_day(as_of) or store.scalar(sql.newest_day_query()) \
        or datetime.now(timezone.utc).date()
    end = datetime.combine(day + timedelta(days=1), time())
    return Window(day, end - timedelta(days=window_days), end, window_days, baseline_days)


def run(store: Store, query: str, window: Window) -> list[dict]:
    params = {k: v for k, v in window.params().items() if f"${k}" in query}
    return store.query_dicts(query, params)


def collect(rows: list[dict], into: dict, key=lambda row: row["scope"]) -> None:
    """Fold columns named 'metric:field' into into[key(row)][metric][field]."""
    for row in rows:
        cell = into.setdefault(key(row), {})
        for column, value in row.items():
            if ":" in column:
                metric_id, fld = column.split(":", 1)
                cell.setdefault(metric_id, {})[fld] = value


def raw_metrics(store: Store, thresholds: Thresholds, window: Window, systems: list[str],
                rolled: bool) -> tuple[dict, dict]:
    """Every metric's raw fields per scope, from a handful of grouped queries."""
    raw: dict[str, dict[str, dict]] = {}
    min_segment = registry().get("disparity_ratio").min_segment or 30
    days = window.baseline_days
    for query in (sql.window_query(thresholds, systems, rolled=rolled),
                  sql.weekly_query(thresholds, systems, rolled),
                  sql.psi_query(thresholds, systems, days, rolled=rolled),
                  sql.incidents_query(), sql.segments_query(min_segment)):
        collect(run(store, query, window), raw)
    baseline_rows = run(store, sql.baseline_query(thresholds, systems, days, rolled=rolled),
                        window)
    collect(baseline_rows, raw)
    baselines = {r["scope"]: {"start": r["baseline_start"], "end": r["baseline_end"],
                              "n": r["baseline_n"], "success_rate": r["baseline_rate"]}
                 for r in baseline_rows}
    return raw, baselines


def _as_number(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def judge(metric_id: str, fields: dict, thresholds: Thresholds, system: str | None,
          baseline_overlaps: bool = False) -> MetricValue:
    """Value plus status, target, limit and the insufficient-data flag for one metric."""
    metric = registry().get(metric_id)
    threshold = thresholds.for_metric(metric_id, system)
    value = _as_number(fields.get("value"))
    n = fields.get("n")
    n = int(n) if n is not None else None
    extra = {k: _as_number(v) if not isinstance(v, str) else v for k, v in fields.items()
             if k not in ("value", "n", "ci_low", "ci_high")}
    insufficient = value is not None and (n is None or n < metric.min_sample)
    if metric.family in ("baseline", "psi") and baseline_overlaps:
        insufficient = True
        extra["note"] = "the baseline period overlaps the window"
    return MetricValue(value=value, status=threshold.status(value), n=n,
                       ci_low=_as_number(fields.get("ci_low")),
                       ci_high=_as_number(fields.get("ci_high")), target=threshold.target,
                       limit=threshold.limit, insufficient=insufficient, extra=extra)


def compute_scorecard(store: Store, thresholds: Thresholds, *, as_of: str | date | None = None,
                      window_days: int = 7, baseline_days: int = 28) -> Scorecard:
    """All metrics for every system and for all systems together."""
    window = resolve_window(store, as_of, window_days, baseline_days)
    rolled = rollups.ready(store)
    systems = [r[0] for r in store.query(sql.systems_query(rolled))]
    raw, baselines = raw_metrics(store, thresholds, window, systems, rolled)
    values: dict[str, dict[str, MetricValue]] = {}
    for scope in [OVERALL, *systems]:
        base = baselines.get(scope) or {}
        overlaps = bool(base.get("end") and base["end"] > window.start)
        values[scope] = {m.id: judge(m.id, raw.get(scope, {}).get(m.id, {}), thresholds,
                                     scope or None, overlaps)
                         for m in registry().metrics}
    return Scorecard(window, systems, values, baselines)


def baseline_values(store: Store, thresholds: Thresholds, card: Scorecard) -> dict[str, dict]:
    """The windowed metrics over each scope's baseline period: scope -> metric id -> value,
    for the scorecard's change-against-baseline column. Counts are scaled to the window's
    length, so that 28 baseline days compare with a 7-day window."""
    query = sql.window_query(thresholds, card.systems, rolled=rollups.ready(store))
    values: dict[str, dict] = {}
    periods = {(b["start"], b["end"]) for b in card.baselines.values() if b.get("start")}
    for start, end in periods:
        raw: dict[str, dict[str, dict]] = {}
        collect(store.query_dicts(query, {"start": start, "end": end}), raw)
        scale = card.window.window_days / max((end - start).days, 1)
        for scope, base in card.baselines.items():
            if (base.get("start"), base.get("end")) != (start, end):
                continue
            values[scope] = {}
            for m, fields in raw.get(scope, {}).items():
                value = judge(m, fields, thresholds, scope or None).value
                if value is not None and registry().get(m).family == "count":
                    value *= scale
                values[scope][m] = value
    return values
