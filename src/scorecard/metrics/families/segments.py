"""Bias over time: the lowest segment's `based_on` rate divided by the highest, among segments
with at least `min_segment` events in the rate's denominator. Of segments with the same rate,
the first by name is named worst or best, so every engine names the same one."""

from __future__ import annotations

from ...sql import Query
from ..registry import Metric, registry
from .base import Context, column, period_start, rate_measures, ratio

NAMES = ("segments",)
DEFAULT_MIN_SEGMENT = 30


def _one(ctx: Context, m: Metric, period: str | None) -> str:
    """The metric's columns per scope and period, as a SELECT."""
    d = ctx.dialect
    num, den = rate_measures(registry().get(m.based_on[0]), d)
    min_segment = int(m.min_segment or DEFAULT_MIN_SEGMENT)
    return f"""
WITH seg AS (
  SELECT coalesce(system, '') AS scope, period_start, segment,
         {ratio(num, den, d)} AS rate, {den} AS l
  FROM (SELECT *, {period_start(ctx, period, 'timestamp')} AS period_start FROM inference_events
        WHERE timestamp >= $start AND timestamp < $end AND segment IS NOT NULL)
  GROUP BY GROUPING SETS ((system, period_start, segment), (period_start, segment))
)
SELECT scope, period_start,
       CASE WHEN count(*) >= 2 AND max(rate) > 0 THEN min(rate) / max(rate) END
           AS {column(m.id, 'value')},
       count(*) AS {column(m.id, 'n')},
       {d.arg_min('segment', '(rate, segment)')} AS {column(m.id, 'worst_segment')},
       min(rate) AS {column(m.id, 'worst_rate')},
       {d.arg_min('segment', '(-rate, segment)')} AS {column(m.id, 'best_segment')},
       max(rate) AS {column(m.id, 'best_rate')}
FROM seg WHERE l >= {min_segment} GROUP BY scope, period_start"""


def _query(ctx: Context, metrics: list[Metric], period: str | None) -> Query:
    """One metric (the catalog gives each its own query)."""
    (metric,) = metrics
    return ctx.query(_one(ctx, metric, period) + " ORDER BY scope, period_start")


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
