"""Estimated success while outcomes are missing (SPEC section 3): realised successes plus, for
each decision without an outcome, its calibrated chance of success, over the decisions with a
known outcome and those estimated.

Before the queries are built, `prepare` fits each system's calibration (isotonic, on the
`field` column, confidence) on the system's labelled events in its baseline period: the store
groups them by distinct confidence, Python pools adjacent violators over that short result.
The window's query then applies each system's curve to its unlabelled events with an as-of
join on the curve's pieces. All systems together: each event uses its own system's curve, and
the unlabelled events of a system without a fit are left out."""

from __future__ import annotations

from typing import Callable

from ...sql import Query, identifier, literal
from .. import isotonic
from ..registry import Metric, registry
from . import baseline_period
from .base import EVENTS, Context, column, counted_row, measure_sql, period_start

NAMES = ("estimated",)
MOST_POINTS = 20_000  # distinct confidences per system fitted exactly; past it, to 4 decimals


def _rate(metric: Metric):
    return registry().get(metric.based_on[0])


def fit_query(ctx: Context, metric: Metric) -> Query:
    """(system, x, n, s): per system and distinct confidence in its baseline, the labelled
    events and the successes among them, in confidence order."""
    rate, x = _rate(metric), identifier(metric.field)
    return ctx.query(f"""
WITH {baseline_period.bounds(ctx).strip()},
points AS (
  SELECT e.system, e.{x} AS x, {measure_sql(rate.denominator)} AS n,
         {measure_sql(rate.numerator)} AS s
  FROM {EVENTS} e JOIN bounds b ON b.scope = e.system AND e.timestamp >= b.b0
       AND e.timestamp < b.b1
  WHERE e.{x} IS NOT NULL GROUP BY e.system, e.{x}),
sizes AS (SELECT system, count(*) AS k FROM points WHERE n > 0 GROUP BY system)
SELECT system, x, sum(n) AS n, sum(s) AS s
FROM (SELECT p.system, CASE WHEN z.k > {MOST_POINTS} THEN round(p.x, 4) ELSE p.x END AS x,
             p.n, p.s FROM points p JOIN sizes z ON z.system = p.system WHERE p.n > 0)
GROUP BY system, x ORDER BY system, x""")


def prepare(ctx: Context, metrics: list[Metric],
            run: Callable[[Query], list[dict]]) -> dict[str, dict[str, isotonic.Calibration]]:
    """metric id -> system -> its fitted calibration (every system with labelled baseline
    events; whether it has enough is the query's to judge)."""
    fits: dict[str, dict[str, isotonic.Calibration]] = {}
    for metric in metrics:
        points: dict[str, list] = {}
        for row in run(fit_query(ctx, metric)):
            points.setdefault(row["system"], []).append((row["x"], row["n"], row["s"]))
        fits[metric.id] = {system: fitted for system, rows in points.items()
                           if (fitted := isotonic.fit(rows)) is not None}
    return fits


def _curves(ctx: Context, metric: Metric) -> str:
    """CTEs `curves(system, lo, x0, y0, slope)`: the pieces of every system's curve fitted on
    enough events, and `fits(system, events)`: how many events each system's fit had."""
    d = ctx.dialect
    fitted = ctx.fitted.get("estimated", {}).get(metric.id, {})
    enough = {s: c for s, c in fitted.items() if c.events >= (metric.min_fit or 1)}
    pieces = [[literal(system), *(literal(float(v)) for v in piece)]
              for system, curve in enough.items() for piece in curve.segments()]
    counts = [[literal(system), literal(curve.events), literal(system in enough)]
              for system, curve in fitted.items()]
    return ", ".join([
        d.values_cte("curves", [("system", "VARCHAR"), ("lo", "DOUBLE"), ("x0", "DOUBLE"),
                                ("y0", "DOUBLE"), ("slope", "DOUBLE")], pieces),
        d.values_cte("fits", [("system", "VARCHAR"), ("events", "BIGINT"),
                              ("fitted", "BOOLEAN")], counts)])


def _query(ctx: Context, metrics: list[Metric], period: str | None) -> Query:
    metric = metrics[0]  # metrics with one calibration share a query (catalog: apart)
    rate, x = _rate(metric), identifier(metric.field)
    unlabelled = f"{counted_row(rate.denominator)} IS NOT TRUE AND {x} IS NOT NULL"
    value = "CASE WHEN fitted AND l + u > 0 THEN (s + c) / (l + u) END"
    results = ", ".join(
        f"{value} AS {column(m.id, 'value')}, l + u AS {column(m.id, 'n')}, "
        f"u AS {column(m.id, 'n_estimated')}, fit_events AS {column(m.id, 'fit_events')}"
        for m in metrics)
    return ctx.query(f"""
WITH {_curves(ctx, metric)},
win AS (SELECT *, {period_start(ctx, period, 'timestamp')} AS period_start FROM {EVENTS}
        WHERE timestamp >= $start AND timestamp < $end),
realised AS (SELECT system, period_start, {measure_sql(rate.numerator)} AS s,
                    {measure_sql(rate.denominator)} AS l
             FROM win GROUP BY system, period_start),
estimated AS (
  SELECT e.system, e.period_start, sum(k.y0 + k.slope * (e.{x} - k.x0)) AS c, count(*) AS u
  FROM (SELECT system, period_start, {x} FROM win WHERE {unlabelled}) e
  ASOF JOIN curves k ON k.system = e.system AND e.{x} >= k.lo
  GROUP BY e.system, e.period_start),
per_system AS (
  SELECT r.system AS scope, r.period_start, r.s, r.l, coalesce(t.c, 0) AS c,
         coalesce(t.u, 0) AS u, f.events AS fit_events, coalesce(f.fitted, false) AS fitted
  FROM realised r LEFT JOIN estimated t ON t.system = r.system
       AND t.period_start = r.period_start LEFT JOIN fits f ON f.system = r.system),
scopes AS (
  SELECT * FROM per_system
  UNION ALL
  SELECT '' AS scope, period_start, sum(s), sum(l), sum(c), sum(u), sum(fit_events),
         max(fitted) FROM per_system GROUP BY period_start)
SELECT scope, period_start, {results} FROM scopes ORDER BY scope, period_start""")


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
