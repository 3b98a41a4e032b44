"""Label lag: the `quantile` of hours from each decision to the moment its outcome became known
(the event's `field`, outcome_at), over the events whose outcome became known in the window,
or, per period, in each period."""

from __future__ import annotations

from ...sql import Query, identifier
from ..registry import Metric
from .base import EVENTS, Context, column, period_start

NAMES = ("lag",)


def _query(ctx: Context, metrics: list[Metric], period: str | None) -> Query:
    d = ctx.dialect
    known = identifier(metrics[0].field)
    hours = f"{d.minutes_between('timestamp', known)} / 60"
    cols = [f"{d.quantile(hours, m.quantile)} AS {column(m.id, 'value')}, "
            f"count(*) AS {column(m.id, 'n')}" for m in metrics]
    return ctx.query(f"""
SELECT coalesce(system, '') AS scope, period_start, {', '.join(cols)}
FROM (SELECT *, {period_start(ctx, period, known)} AS period_start FROM {EVENTS}
      WHERE {known} >= $start AND {known} < $end)
GROUP BY GROUPING SETS ((system, period_start), (period_start)) ORDER BY scope, period_start""")


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
