"""Estimated success while outcomes are missing (SPEC section 3): realised successes plus, for
each decision without an outcome, its calibrated chance of success, over the decisions with a
known outcome and those estimated.

Before the queries are built, `prepare` fits each system's calibration (isotonic, on the
`field` column, confidence) on the system's labelled events in its baseline period: the store
groups them by distinct confidence, Python pools adjacent violators over that short result.
The window's query counts the realised outcomes (from the daily rollup when it is ready) and
applies each system's curve to its unlabelled events, joined to the curve's pieces by
confidence bucket and range. The curves are kept by writes
(`to_keep`, refreshed with the rollups) and fitted anew only when none covers the events. All systems together: each event uses its own system's curve, and
the unlabelled events of a system without a fit are left out."""

from __future__ import annotations

from math import floor
from typing import Callable

from ...sql import Query, identifier, literal_list
from .. import isotonic
from ..registry import Metric, registry
from . import baseline_period
from .base import (EVENTS, Context, column, counted_row, counting, counts_source, measure_sql,
                   period_start)

NAMES = ("estimated",)
Run = Callable[[Query], list[dict]]
MOST_POINTS = 20_000  # distinct confidences per system fitted exactly; past it, to 4 decimals


def _rate(metric: Metric):
    return registry().get(metric.based_on[0])


KEPT = "calibrations"  # each system's curve over its baseline, kept by writes


def fit_query(ctx: Context, metric: Metric, systems: list[str] | None = None) -> Query:
    """(system, b0, b1, x, n, s): per system (of `systems`, or all) and distinct confidence in
    its baseline [b0, b1), the labelled events and the successes among them, in order."""
    rate, x = _rate(metric), identifier(metric.field)
    only = f" AND e.system IN {literal_list(systems)}" if systems else ""
    return ctx.query(f"""
WITH {baseline_period.bounds(ctx).strip()},
points AS (
  SELECT e.system, b.b0, b.b1, e.{x} AS x, {measure_sql(rate.denominator)} AS n,
         {measure_sql(rate.numerator)} AS s
  FROM {EVENTS} e JOIN bounds b ON b.scope = e.system AND e.timestamp >= b.b0
       AND e.timestamp < b.b1
  WHERE e.{x} IS NOT NULL{only} GROUP BY e.system, b.b0, b.b1, e.{x}),
sizes AS (SELECT system, count(*) AS k FROM points WHERE n > 0 GROUP BY system)
SELECT system, b0, b1, x, sum(n) AS n, sum(s) AS s
FROM (SELECT p.system, p.b0, p.b1, p.n, p.s,
             CASE WHEN z.k > {MOST_POINTS} THEN round(p.x, 4) ELSE p.x END AS x
      FROM points p JOIN sizes z ON z.system = p.system WHERE p.n > 0)
GROUP BY system, b0, b1, x ORDER BY system, x""")


def fitted_live(ctx: Context, metric: Metric, run: Run,
                systems: list[str] | None = None) -> dict[str, tuple]:
    """system -> (b0, b1, calibration) fitted from the events now."""
    points: dict[str, list] = {}
    bounds: dict[str, tuple] = {}
    for row in run(fit_query(ctx, metric, systems)):
        points.setdefault(row["system"], []).append((row["x"], row["n"], row["s"]))
        bounds[row["system"]] = (row["b0"], row["b1"])
    return {system: (*bounds[system], isotonic.fit(rows)) for system, rows in points.items()}


def kept_query(ctx: Context, metric: Metric) -> Query:
    """The kept curves whose baseline is the one in force for their system (a system with
    incidents but no events keeps an empty curve without one)."""
    return Query.using(f"""
WITH {baseline_period.bounds(ctx).strip()}
SELECT k.system, k.events, k.xs, k.ys FROM {KEPT} k LEFT JOIN bounds b ON b.scope = k.system
WHERE k.metric = $metric AND (b.b0 = k.b0 AND b.b1 = k.b1 OR b.scope IS NULL AND k.b0 IS NULL)
""", {"metric": metric.id})


def prepare(ctx: Context, metrics: list[Metric], run: Run) -> dict[str, dict]:
    """metric id -> system -> its calibration (None: no labelled baseline events): the kept
    curves while they cover the stored events (`ctx.calibrated`), fitted now otherwise."""
    fits: dict[str, dict] = {}
    for metric in metrics:
        curves: dict = {}
        if ctx.calibrated:
            for row in run(kept_query(ctx, metric)):
                curves[row["system"]] = isotonic.Calibration(
                    tuple(row["xs"]), tuple(row["ys"]), row["events"]) if row["xs"] else None
        missing = [s for s in ctx.systems if s not in curves]
        if missing:
            live = fitted_live(ctx, metric, run, missing if ctx.calibrated else None)
            curves.update({s: fit for s, (_, _, fit) in live.items()})
        fits[metric.id] = {s: c for s, c in curves.items() if c is not None}
    return fits


def to_keep(ctx: Context, run: Run) -> Query:
    """Rows for `calibrations`: every estimated metric's curve for every system, fitted over
    the baselines in force (a system without labelled baseline events keeps an empty one)."""
    rows: list[tuple] = []
    metrics = [m for m in registry().metrics if m.family in NAMES]
    bounds = {r["scope"]: (r["b0"], r["b1"]) for r in run(Query(
        f"WITH {baseline_period.bounds(ctx).strip()} SELECT scope, b0, b1 FROM bounds"))}
    for metric in metrics:
        live = fitted_live(ctx, metric, run)
        for system in ctx.systems:
            b0, b1, fit = live.get(system, (*bounds.get(system, (None, None)), None))
            rows.append((metric.id, system, b0, b1, fit.events if fit else 0,
                         list(fit.xs) if fit else [], list(fit.ys) if fit else []))
    if not rows:
        return Query(f"SELECT * FROM {KEPT} WHERE false")
    columns = ("metric", "system", "b0", "b1", "events", "xs", "ys")
    params = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    return Query("SELECT " + ", ".join(f"unnest(${c}) AS {c}" for c in columns), params)


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
    rate, x = _rate(metric), identifier(metric.field)
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
  JOIN curves k ON k.system = e.system AND k.bucket = {bucket} AND e.{x} >= k.lo
       AND e.{x} < k.hi
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
SELECT scope, period_start, {results} FROM scopes ORDER BY scope, period_start""",
                       {"start": ctx.start, "end": ctx.end, **curve_rows})


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
