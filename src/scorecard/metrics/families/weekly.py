"""Temporal reliability: the `based_on` rates over the 8 seven-day buckets that end at the
window's end (or at each period's end, for trends). `statistic` share_meeting is the share of
buckets where every rate is on the good side of its target; cv is the coefficient of
variation of the first rate over the buckets."""

from __future__ import annotations

from ...sql import Query
from ..registry import Metric, registry
from .base import Context, column, counting, counts_source, params_table, rate_measures, ratio

NAMES = ("weekly",)
DAYS = 56
WEEK_US = 7 * 86400 * 1_000_000


def _rates(metrics: list[Metric]) -> list[Metric]:
    """The rates the metrics are based on (the catalog groups metrics by them)."""
    return [registry().get(i) for i in metrics[0].based_on]


def _verdict(ctx: Context, metrics: list[Metric], rates: list[Metric], keys: str) -> str:
    """From CTE `buckets` (keys, r1_num, r1_den, ...): each metric's statistic per `keys`."""
    d = ctx.dialect
    rated = ", ".join(
        f"{ratio(f'b.r{i}_num', f'b.r{i}_den', d)} AS r{i}, "
        f"coalesce(p.{column(r.id, 'target')}, o.{column(r.id, 'target')}) AS t{i}"
        for i, r in enumerate(rates, 1))
    on_target = " AND ".join(
        f"r{i} {'>=' if r.direction == 'higher_is_better' else '<='} t{i}"
        for i, r in enumerate(rates, 1))
    targets = ", ".join(column(r.id, "target") for r in rates)
    stats = {"share_meeting": f"avg(CASE WHEN {on_target} THEN 1.0 ELSE 0.0 END)",
             "cv": f"CASE WHEN count(*) >= 2 AND avg(r1) > 0 THEN {d.stddev('r1')} / avg(r1) END"}
    cols = ", ".join(f"{stats[m.statistic]} AS {column(m.id, 'value')}, "
                     f"count(*) AS {column(m.id, 'n')}" for m in metrics)
    return f"""
rated AS (
  SELECT b.*, {rated}
  FROM buckets b LEFT JOIN params p ON p.system = b.scope AND b.scope <> ''
  CROSS JOIN (SELECT {targets} FROM params WHERE system = '') o
  WHERE b.r1_den > 0
)
SELECT {keys}, {cols} FROM rated GROUP BY {keys} ORDER BY {keys}"""


def _counts(ctx: Context, rates: list[Metric], unit: str, unit_of: str, since: str) -> str:
    """CTE `counts`: each rate's numerator and denominator per system and `unit` (a bucket or
    a day) from `since` to $end, and for all systems as their sum. `unit_of` gives the unit
    from `{t}`, a day-aligned time: the events' timestamp, or the rollup's day."""
    parts = [(f"r{i}_{part}", sql) for i, r in enumerate(rates, 1)
             for part, sql in zip(("num", "den"), rate_measures(r, ctx.dialect))]
    source, t, total = counts_source(counting(ctx, [sql for _, sql in parts]))
    sums = ", ".join(f"{total(sql)} AS {name}" for name, sql in parts)
    totals = ", ".join(f"sum({name}) AS {name}" for name, _ in parts)
    return f"""
per_system AS (
  SELECT system AS scope, {unit}, {sums}
  FROM (SELECT *, {unit_of.format(t=t)} AS {unit} FROM {source}
        WHERE {t} >= {since} AND {t} < $end)
  GROUP BY system, {unit}
),
counts AS (
  SELECT * FROM per_system
  UNION ALL
  SELECT '' AS scope, {unit}, {totals} FROM per_system GROUP BY {unit}
)"""


def current(ctx: Context, metrics: list[Metric]) -> Query:
    d, rates = ctx.dialect, _rates(metrics)
    since = d.minus_days("$end", DAYS)
    weeks_in = f"floor(({d.epoch_us('{t}')} - {d.epoch_us(since)}) / {WEEK_US})"
    bucket = f"8 - {d.as_int(weeks_in)}"
    return ctx.query(f"""
WITH {params_table(ctx, [r.id for r in rates])},{_counts(ctx, rates, "k", bucket, since)},
buckets AS (SELECT * FROM counts),{_verdict(ctx, metrics, rates, "scope")}""")


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    """As of the end of each period: the 8 seven-day buckets ending there."""
    d, rates = ctx.dialect, _rates(metrics)
    days = _counts(ctx, rates, "d", d.trunc("day", "{t}"), d.minus_days("$start", DAYS))
    sums = ", ".join(f"sum(r{i}_{part}) AS r{i}_{part}" for i in range(1, len(rates) + 1)
                     for part in ("num", "den"))
    week = f"floor({d.days_between(d.minus_days('p.pe', DAYS), 'dl.d')} / 7)"
    return ctx.query(f"""
WITH {params_table(ctx, [r.id for r in rates])},
{days.strip()},
periods AS (
  SELECT DISTINCT scope, {d.trunc(period, 'd')} AS period_start,
         {d.plus_one(period, d.trunc(period, 'd'))} AS pe
  FROM counts WHERE d >= $start
),
buckets AS (
  SELECT p.scope, p.period_start, 8 - {week} AS k, {sums}
  FROM periods p JOIN counts dl ON dl.scope = p.scope
  WHERE dl.d >= {d.minus_days('p.pe', DAYS)} AND dl.d < p.pe
  GROUP BY p.scope, p.period_start, k
),{_verdict(ctx, metrics, rates, "scope, period_start")}""")
