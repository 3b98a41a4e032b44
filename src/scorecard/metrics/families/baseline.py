"""Change against baseline: the `based_on` rate in the window (or each period) minus the same
rate over the scope's baseline period, in points, with a pooled two-proportion z-test.
Its rows also say each scope's baseline period, for the scorecard's baseline column."""

from __future__ import annotations

from ...sql import Query
from ..registry import Metric, registry
from . import baseline_period
from .base import Context, column, counting, counts_source, period_start, rate_measures, ratio
from .stats_sql import two_sided_p

NAMES = ("baseline",)


def _query(ctx: Context, metrics: list[Metric], period: str | None) -> Query:
    d = ctx.dialect
    rate = registry().get(metrics[0].based_on[0])
    s, lab = rate_measures(rate, d)
    ctx = counting(ctx, [s, lab])
    source, t, total = counts_source(ctx)
    s, lab = total(s), total(lab)
    z = "(pw - pb) / NULLIF(sqrt(pp * (1 - pp) * (1.0 / lw + 1.0 / lb)), 0)"
    results = ", ".join(
        f"100 * (pw - pb) AS {column(m.id, 'value')}, "
        f"CASE WHEN lw > 0 AND lb > 0 THEN {two_sided_p(z)} END AS {column(m.id, 'p_value')}, "
        f"least(lw, lb) AS {column(m.id, 'n')}" for m in metrics)
    return ctx.query(f"""
WITH {baseline_period.bounds(ctx).strip()},
base AS (SELECT scope, {s} AS sb, {lab} AS lb
         FROM ({baseline_period.scoped(source, t)}) GROUP BY scope),
win AS (
  SELECT coalesce(system, '') AS scope, period_start, {s} AS sw, {lab} AS lw
  FROM (SELECT *, {period_start(ctx, period, t)} AS period_start FROM {source}
        WHERE {t} >= $start AND {t} < $end)
  GROUP BY GROUPING SETS ((system, period_start), (period_start))
),
joined AS (
  SELECT b.scope AS scope, w.period_start AS period_start, bo.b0 AS b0, bo.b1 AS b1, sb, lb,
         coalesce(sw, 0) AS sw, coalesce(lw, 0) AS lw, {ratio('sb', 'lb', d)} AS pb,
         {ratio('sw', 'lw', d)} AS pw, {ratio('sb + sw', 'lb + lw', d)} AS pp
  FROM base b JOIN bounds bo ON bo.scope = b.scope LEFT JOIN win w ON w.scope = b.scope
)
SELECT scope, period_start, b0 AS baseline_start, b1 AS baseline_end, lb AS baseline_n,
       pb AS baseline_rate, {results}
FROM joined ORDER BY scope, period_start""")


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
