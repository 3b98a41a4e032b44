"""Failure recovery: median minutes to `field` (detect: start to detection; recover: detection
to resolution, resolved incidents only) over incidents started in the 90 days to the window's
end, or, per period, those started in each period."""

from __future__ import annotations

from ...sql import Query
from ..registry import Metric
from .base import Context, column, period_start

NAMES = ("incidents",)
DAYS = 90
SPANS = {"detect": ("started_at", "detected_at"), "recover": ("detected_at", "resolved_at")}


def _query(ctx: Context, metrics: list[Metric], period: str | None) -> Query:
    d = ctx.dialect
    since = "$start" if period else d.minus_days("$end", DAYS)
    cols = []
    for m in metrics:
        start, end = SPANS[m.field]
        minutes = d.quantile(d.minutes_between(start, end), 0.5)
        if m.field == "recover":
            cols += [f"{d.filtered(minutes, 'resolved_at IS NOT NULL')} AS {column(m.id, 'value')}",
                     f"count(resolved_at) AS {column(m.id, 'n')}",
                     f"count(*) - count(resolved_at) AS {column(m.id, 'open')}"]
        else:
            cols += [f"{minutes} AS {column(m.id, 'value')}", f"count(*) AS {column(m.id, 'n')}"]
    return ctx.query(f"""
SELECT coalesce(system, '') AS scope, period_start, {', '.join(cols)}
FROM (SELECT *, {period_start(ctx, period, 'started_at')} AS period_start FROM incidents
      WHERE started_at >= {since} AND started_at < $end)
GROUP BY GROUPING SETS ((system, period_start), (period_start)) ORDER BY scope, period_start""")


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
