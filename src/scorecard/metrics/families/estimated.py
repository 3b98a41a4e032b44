"""Estimated success while outcomes are missing (SPEC section 3): realised successes plus, for
each decision without an outcome, its calibrated chance of success, over the decisions with a
known outcome and those estimated.

Before the queries are built, each system's calibration (isotonic, of success on the `field`
column, confidence) comes from `calibration.py`. The window's query counts the realised
outcomes (from the daily rollup when it is ready) and applies each system's curve to its
unlabelled events, joined to the curve's pieces by confidence bucket and range. All systems
together: each event uses its own system's curve, and the unlabelled events of a system
without a fit are left out."""

from __future__ import annotations

from math import floor

from ...sql import Query, identifier
from ..registry import Metric
from .base import (EVENTS, Context, column, counted_row, counting, counts_source, measure_sql,
                   period_start)
from .calibration import based_on

NAMES = ("estimated",)


BUCKETS = 64  # the curve's pieces are looked up by confidence bucket, then by range


CURVE_COLUMNS = [("system", "VARCHAR"), ("bucket", "INTEGER"), ("lo", "DOUBLE"), ("hi", "DOUBLE"),
                 ("x0", "DOUBLE"), ("y0", "DOUBLE"), ("slope", "DOUBLE")]
FIT_COLUMNS = [("system", "VARCHAR"), ("events", "BIGINT"), ("fitted", "BOOLEAN")]


def _curves(ctx: Context, metric: Metric) -> tuple[str, dict]:
    """CTEs `curves(system, bucket, lo, hi, x0, y0, slope)`: the pieces of every system's curve
    fitted on enough events (y0 + slope * (x - x0) for lo <= x < hi), once per confidence
    bucket they reach; and `fits(system, events, fitted)`: each system's fit. With the
    parameters that carry their rows."""
    d = ctx.dialect
    fitted = ctx.fitted.get("estimated", {}).get(metric.id, {})
    enough = {s: c for s, c in fitted.items() if c.events >= (metric.min_fit or 1)}
    pieces = []
    for system, curve in enough.items():
        segments = curve.segments()
        for i, (lo, x0, y0, slope) in enumerate(segments):
            hi = segments[i + 1][0] if i + 1 < len(segments) else 2.0  # above any confidence
            first, last = floor(max(lo, 0.0) * BUCKETS), floor(min(hi, 1.0) * BUCKETS)
            pieces += [(system, bucket, lo, hi, x0, y0, slope)
                       for bucket in range(first, last + 1)]
    fits = [(system, curve.events, system in enough) for system, curve in fitted.items()]
    params = {}
    for name, columns, rows in (("curves", CURVE_COLUMNS, pieces), ("fits", FIT_COLUMNS, fits)):
        params.update({f"{name}_{c}": [row[i] for row in rows] for i, (c, _) in enumerate(columns)})
    return (f"{d.lists_cte('curves', CURVE_COLUMNS)}, {d.lists_cte('fits', FIT_COLUMNS)}",
            params)


def _query(ctx: Context, metrics: list[Metric], period: str | None) -> Query:
    metric = metrics[0]  # metrics with one calibration share a query (catalog: apart)
    rate, x = based_on(metric), identifier(metric.field)
    unlabelled = f"{counted_row(rate.denominator)} IS NOT TRUE AND {x} IS NOT NULL"
    value = "CASE WHEN fitted AND l + u > 0 THEN (s + c) / (l + u) END"
    results = ", ".join(
        f"{value} AS {column(m.id, 'value')}, l + u AS {column(m.id, 'n')}, "
        f"u AS {column(m.id, 'n_estimated')}, fit_events AS {column(m.id, 'fit_events')}"
        for m in metrics)
    d = ctx.dialect
    s_sql, l_sql = measure_sql(rate.numerator, d), measure_sql(rate.denominator, d)
    counted = counting(ctx, [s_sql, l_sql])
    source, t, total = counts_source(counted)
    bucket = d.as_int(f"floor(e.{x} * {BUCKETS})")
    curves, curve_rows = _curves(ctx, metric)
    return Query.using(f"""
WITH {curves},
realised AS (
  SELECT system, period_start, {total(s_sql)} AS s, {total(l_sql)} AS l
  FROM (SELECT *, {period_start(ctx, period, t)} AS period_start FROM {source}
        WHERE {t} >= $start AND {t} < $end)
  GROUP BY system, period_start),
estimated AS (
  SELECT e.system, e.period_start, sum(k.y0 + k.slope * (e.{x} - k.x0)) AS c, count(*) AS u
  FROM (SELECT system, {x}, {period_start(ctx, period, 'timestamp')} AS period_start
        FROM {EVENTS} WHERE timestamp >= $start AND timestamp < $end AND {unlabelled}) e
  JOIN curves k ON k.system = e.system AND k.bucket = {bucket}
  WHERE e.{x} >= k.lo AND e.{x} < k.hi
  GROUP BY e.system, e.period_start),
per_system AS (
  SELECT r.system AS scope, r.period_start AS period_start, r.s AS s, r.l AS l, coalesce(t.c, 0) AS c,
         coalesce(t.u, 0) AS u, f.events AS fit_events, coalesce(f.fitted, false) AS fitted
  FROM realised r LEFT JOIN estimated t ON t.system = r.system
       AND t.period_start = r.period_start LEFT JOIN fits f ON f.system = r.system),
scopes AS (
  SELECT * FROM per_system
  UNION ALL
  SELECT '' AS scope, period_start, sum(s), sum(l), sum(c), sum(u), sum(fit_events),
         max(fitted) FROM per_system GROUP BY period_start)
SELECT scope, period_start, {results} FROM scopes ORDER BY scope, period_start""",
                       {"start": ctx.start, "end": ctx.end, **curve_rows})


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
