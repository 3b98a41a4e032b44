"""Per-period series of every metric, and the test for risks that rise quietly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ..errors import BadInput
from ..store.db import Store
from ..sql.dialect import PERIODS
from .compute import Window, collect, judge, store_context
from .families import catalog
from .families.base import OVERALL
from .registry import registry
from .stats import linear_trend
from .thresholds import Thresholds

WIDE = Window(as_of=None, start=datetime(1900, 1, 1), end=datetime(2200, 1, 1), window_days=0,
              baseline_days=28)


@dataclass
class TrendPoint:
    start: datetime
    end: datetime
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    status: str = "unknown"
    insufficient: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict:
        data = asdict(self)
        data.update(data.pop("extra"))
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data


def period_end(start: datetime, period: str) -> datetime:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=1) + timedelta(days=32)).replace(day=1)


def trend_table(store: Store, thresholds: Thresholds, period: str, families: set[str],
                baseline_days: int = 28, only: set[str] | None = None
                ) -> dict[tuple[str, datetime], dict[str, dict]]:
    """(scope, period start) -> metric id -> raw fields, for the metric families asked for
    (and of those `only` these ids, when given). The events count always comes too: it says
    which periods hold events."""
    ctx = store_context(store, thresholds, replace(WIDE, baseline_days=baseline_days))
    volume = registry().volume
    wanted = [m for m in registry().metrics
              if m == volume or (m.family in families and (only is None or m.id in only))]
    table: dict[tuple[str, datetime], dict[str, dict]] = {}
    ctx = catalog.prepare(ctx, wanted, store.query_dicts)
    for query in catalog.queries(ctx, wanted, period):
        collect(store.query_dicts(query), table,
                key=lambda row: (row["scope"], row["period_start"]))
    return table


def every_family_table(store: Store, thresholds: Thresholds, period: str) -> dict:
    """The trend table of every metric family (what the leadership table reads)."""
    return trend_table(store, thresholds, period, {m.family for m in registry().metrics})


def trend_series(store: Store, thresholds: Thresholds, metric_id: str, period: str = "week",
                 system: str | None = None, baseline_days: int = 28) -> list[TrendPoint]:
    """One point per period that holds events, oldest first, for one scope."""
    if metric_id not in registry().ids:
        raise BadInput(f"There is no metric '{metric_id}'; choose one of "
                       f"{', '.join(registry().ids)}.")
    if period not in PERIODS:
        raise BadInput(f"Period must be day, week or month, not '{period}'.")
    family = registry().get(metric_id).family
    table = trend_table(store, thresholds, period, {family}, baseline_days, only={metric_id})
    return series_from_table(table, thresholds, metric_id, period, system)


def series_from_table(table: dict, thresholds: Thresholds, metric_id: str, period: str,
                      system: str | None) -> list[TrendPoint]:
    scope = system or OVERALL
    points = []
    for (s, start), metrics in sorted(table.items(), key=lambda kv: kv[0][1]):
        if s != scope or not metrics.get(registry().volume.id, {}).get("value"):
            continue
        mv = judge(metric_id, metrics.get(metric_id, {}), thresholds, system)
        points.append(TrendPoint(start, period_end(start, period), mv.value, mv.ci_low,
                                 mv.ci_high, mv.n, mv.status, mv.insufficient, mv.extra))
    return points


@dataclass
class QuietRisk:
    """A metric drifting the wrong way over recent weeks, significantly."""

    metric_id: str
    system: str | None
    slope_per_week: float
    p_value: float
    weeks: int
    last_value: float
    weeks_to_limit: float | None


def quiet_risks(table: dict, thresholds: Thresholds, scopes: list[str], until: datetime,
                weeks: int = 8, alpha: float = 0.05) -> list[QuietRisk]:
    """Metrics whose weekly series over the last `weeks` complete ISO weeks before `until`
    trends adversely with p < alpha, with the projected weeks until the limit is crossed."""
    risks = []
    for metric in registry().metrics:
        if metric == registry().volume:
            continue
        for scope in scopes:
            points = [p for p in series_from_table(table, thresholds, metric.id, "week",
                                                   scope or None)
                      if p.end <= until and p.value is not None][-weeks:]
            fit = linear_trend([p.value for p in points])
            if not fit:
                continue
            slope, p_value, fitted_last = fit
            adverse = slope < 0 if metric.direction == "higher_is_better" else slope > 0
            if not adverse or p_value >= alpha:
                continue
            limit = thresholds.for_metric(metric.id, scope or None).limit
            to_limit = (limit - fitted_last) / slope
            risks.append(QuietRisk(metric.id, scope or None, slope, p_value, len(points),
                                   points[-1].value, to_limit if to_limit > 0 else None))
    return sorted(risks, key=lambda r: r.p_value)
