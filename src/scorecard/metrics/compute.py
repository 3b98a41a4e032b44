"""Run the metric queries and assemble values, intervals, samples and statuses per scope."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..errors import BadInput
from ..sql import Dialect
from ..store.db import Store
from . import rollups
from .families import base, catalog
from .families.base import Context
from .registry import registry
from .thresholds import Thresholds

OVERALL = base.OVERALL


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
        return {"value": self.value, "status": self.status, "n": self.n, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "target": self.target, "limit": self.limit,
                "insufficient": self.insufficient, **self.extra}


@dataclass(frozen=True)
class Window:
    as_of: date
    start: datetime
    end: datetime
    window_days: int
    baseline_days: int

    def context(self, thresholds: Thresholds, systems: list[str], rolled: bool,
                dialect: Dialect) -> Context:
        """What the metric queries over this window are built from, in the store's dialect."""
        return Context(thresholds, tuple(systems), self.start, self.end, self.baseline_days,
                       rolled, dialect=dialect)


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
    """The current window W = [end - window_days, end), end = the day after as_of at 00:00 UTC.
    By default as_of is the newest event's UTC day, but never later than today's: a row
    stamped a little ahead (within the future tolerance) is stored and moves no window."""
    if window_days < 1 or baseline_days < 1:
        raise BadInput("Window and baseline lengths must be at least one day.")
    today = datetime.now(timezone.utc).date()
    newest = store.scalar(base.newest_day_query())
    day = parse_day(as_of) or (min(newest, today) if newest else today)
    end = datetime.combine(day + timedelta(days=1), time())
    return Window(day, end - timedelta(days=window_days), end, window_days, baseline_days)


def collect(rows: list[dict], into: dict, key=lambda row: row["scope"]) -> None:
    """Fold columns named 'metric:field' into into[key(row)][metric][field]."""
    for row in rows:
        cell = into.setdefault(key(row), {})
        for column, value in row.items():
            if ":" in column:
                metric_id, fld = column.split(":", 1)
                cell.setdefault(metric_id, {})[fld] = value


def systems(store: Store, rolled: bool) -> list[str]:
    return [r[0] for r in store.query(base.systems_query(rolled))]


def baselines_of(rows: list[dict]) -> dict[str, dict[str, Any]]:
    """Each scope's baseline period, from the rows of a family that gives them."""
    return {r["scope"]: {"start": r["baseline_start"], "end": r["baseline_end"],
                         "n": r["baseline_n"], "success_rate": r["baseline_rate"]}
            for r in rows if "baseline_start" in r}


def raw_metrics(store: Store, ctx: Context) -> tuple[dict, dict]:
    """Every metric's raw fields per scope, from a handful of grouped queries."""
    raw: dict[str, dict[str, dict]] = {}
    baselines: dict[str, dict[str, Any]] = {}
    fitting = [m for m in registry().metrics if catalog.room_of(m.family).prepare]
    plain = [m for m in registry().metrics if m not in fitting]
    # two at a time: each query has stretches where it keeps only one core busy; the
    # families that fit something first do so while the others' queries run
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = [pool.submit(store.query_dicts, q) for q in catalog.queries(ctx, plain)]
        if fitting:
            fitted = catalog.prepare(ctx, fitting, store.query_dicts)
            running += [pool.submit(store.query_dicts, q)
                        for q in catalog.queries(fitted, fitting)]
        for done in running:
            rows = done.result()
            collect(rows, raw)
            baselines.update(baselines_of(rows))
    return raw, baselines


def _as_number(value: Any) -> Any:
    """A number from the store as a float; a count stays a whole number."""
    if value is None or isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
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
    if catalog.room_of(metric.family).needs_baseline and baseline_overlaps:
        insufficient = True
        extra["note"] = "the baseline period overlaps the window"
    return MetricValue(value=value, status=threshold.status(value), n=n,
                       ci_low=_as_number(fields.get("ci_low")),
                       ci_high=_as_number(fields.get("ci_high")), target=threshold.target,
                       limit=threshold.limit, insufficient=insufficient, extra=extra)


def store_context(store: Store, thresholds: Thresholds, window: Window) -> Context:
    """The context the metric queries over `window` are built in: every system, and which of
    the store's derived tables (rollup, PSI bins, calibrations) cover its events."""
    rolled = rollups.ready(store)
    ctx = window.context(thresholds, systems(store, rolled), rolled, store.dialect)
    return replace(ctx, binned=rollups.daily_bins_ready(store, ctx),
                   calibrated=rollups.calibrations_ready(store, ctx))


def compute_scorecard(store: Store, thresholds: Thresholds, *, as_of: str | date | None = None,
                      window_days: int = 7, baseline_days: int = 28) -> Scorecard:
    """All metrics for every system and for all systems together."""
    window = resolve_window(store, as_of, window_days, baseline_days)
    ctx = store_context(store, thresholds, window)
    names = list(ctx.systems)
    raw, baselines = raw_metrics(store, ctx)
    values: dict[str, dict[str, MetricValue]] = {}
    for scope in [OVERALL, *names]:
        baseline = baselines.get(scope) or {}
        overlaps = bool(baseline.get("end") and baseline["end"] > window.start)
        values[scope] = {m.id: judge(m.id, raw.get(scope, {}).get(m.id, {}), thresholds,
                                     scope or None, overlaps)
                         for m in registry().metrics}
        flag_unreliable(values[scope])
    return Scorecard(window, names, values, baselines)


def flag_unreliable(scope_values: dict[str, MetricValue]) -> None:
    """Mark each metric declared reliable only while another is not red, when that one is."""
    for m in registry().metrics:
        other = m.reliable_while and scope_values.get(m.reliable_while)
        if other and other.status == "red" and scope_values[m.id].value is not None:
            scope_values[m.id].extra["unreliable"] = (
                f"{registry().get(m.reliable_while).title} is red")


def baseline_values(store: Store, thresholds: Thresholds, card: Scorecard) -> dict[str, dict]:
    """The windowed metrics over each scope's baseline period: scope -> metric id -> value,
    for the scorecard's change-against-baseline column. Counts are scaled to the window's
    length, so that 28 baseline days compare with a 7-day window."""
    windowed = [m for m in registry().metrics if catalog.room_of(m.family).shared_by == "window"]
    ctx = card.window.context(thresholds, card.systems, rollups.ready(store), store.dialect)
    values: dict[str, dict] = {}
    periods = {(b["start"], b["end"]) for b in card.baselines.values() if b.get("start")}
    for start, end in periods:
        raw: dict[str, dict[str, dict]] = {}
        for query in catalog.queries(replace(ctx, start=start, end=end), windowed):
            collect(store.query_dicts(query), raw)
        scale = card.window.window_days / max((end - start).days, 1)
        for scope, baseline in card.baselines.items():
            if (baseline.get("start"), baseline.get("end")) != (start, end):
                continue
            values[scope] = {}
            for m, fields in raw.get(scope, {}).items():
                value = judge(m, fields, thresholds, scope or None).value
                if value is not None and registry().get(m).family == "count":
                    value *= scale
                values[scope][m] = value
    return values
