"""Each system's calibration of success on confidence for the estimated success rate: fitted
over its labelled baseline events (the store groups them by distinct confidence, rounded when
there are very many; Python pools adjacent violators over that short result), kept by writes
in `calibrations` (refreshed with the rollups) and fitted afresh only for systems whose kept
curve is not for the baseline in force, or when none covers the stored events."""

from __future__ import annotations

import hashlib
import json
from typing import Callable

from ...sql import Query, identifier
from .. import isotonic
from ..registry import Metric, registry
from . import baseline_period
from .base import EVENTS, ROLLUP, ROLLUP_COUNT, Context, measure_sql

Run = Callable[[Query], list[dict]]  # runs a query on the store, rows as dicts
FAMILIES = ("estimated",)  # the families whose metrics are calibrated
MOST_POINTS = 20_000  # distinct confidences per system fitted exactly; past it, to 4 decimals


def based_on(metric: Metric):
    """The rate a calibrated metric estimates."""
    return registry().get(metric.based_on[0])


KEPT = "calibrations"  # each system's curve over its baseline, kept by writes
KEPT_COLUMNS = [("metric", "VARCHAR"), ("system", "VARCHAR"), ("b0", "TIMESTAMP"),
                ("b1", "TIMESTAMP"), ("n", "BIGINT"), ("events", "BIGINT"), ("xs", "DOUBLE[]"),
                ("ys", "DOUBLE[]")]


def fit_query(ctx: Context, metric: Metric, systems: list[str] | None = None) -> Query:
    """(system, x, n, s): per system (of `systems`, or all) and distinct confidence in its
    baseline, the labelled events and the successes among them, in order. A system with more
    than MOST_POINTS distinct confidences has them rounded to 4 decimals (half to even, as
    numpy rounds), which keeps their order and the result short."""
    rate, x, d = based_on(metric), identifier(metric.field), ctx.dialect
    only = f" AND e.system IN {d.literal_list(systems)}" if systems else ""
    return ctx.query(f"""
WITH {baseline_period.bounds(ctx).strip()},
points AS (
  SELECT * FROM (
    SELECT e.system, e.{x} AS x, {measure_sql(rate.denominator, d)} AS n,
           {measure_sql(rate.numerator, d)} AS s
    FROM {EVENTS} e JOIN bounds b ON b.scope = e.system
    WHERE e.timestamp >= b.b0 AND e.timestamp < b.b1
      AND {baseline_period.within_any('e.timestamp')} AND e.{x} IS NOT NULL{only}
    GROUP BY e.system, e.{x})
  WHERE n > 0),
sizes AS (SELECT system, count(*) AS points FROM points GROUP BY system)
SELECT system, x, sum(n) AS n, sum(s) AS s FROM (
  SELECT p.system, CASE WHEN z.points > {MOST_POINTS}
         THEN {d.double(d.round_half_even('p.x * 10000'))} / 10000 ELSE p.x END AS x, p.n, p.s
  FROM points p JOIN sizes z ON z.system = p.system)
GROUP BY system, x ORDER BY system, x""")


def fitted_live(ctx: Context, metric: Metric, run: Run,
                systems: list[str] | None = None) -> dict[str, isotonic.Calibration]:
    """system -> its calibration fitted from the events now."""
    points: dict[str, list] = {}
    for row in run(fit_query(ctx, metric, systems)):
        points.setdefault(row["system"], []).append((row["x"], row["n"], row["s"]))
    return {system: isotonic.fit(rows) for system, rows in points.items()}


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
            curves.update(fitted_live(ctx, metric, run, missing if ctx.calibrated else None))
        fits[metric.id] = {s: c for s, c in curves.items() if c is not None}
    return fits


def _baselines(ctx: Context) -> Query:
    """(system, b0, b1, n): each system's baseline in force and its events, from the rollup."""
    return Query(f"""
WITH {baseline_period.bounds(ctx, rolled=True).strip()}
SELECT b.scope AS system, b.b0, b.b1, CAST(coalesce(sum(r.{ROLLUP_COUNT}), 0) AS BIGINT) AS n
FROM bounds b LEFT JOIN {ROLLUP} r ON r.system = b.scope AND r.day >= b.b0 AND r.day < b.b1
WHERE b.scope <> '' GROUP BY b.scope, b.b0, b.b1""")


def declared() -> str:
    """A fingerprint of what the curves are fitted from: the calibrated metrics' declarations
    and the rates they are based on. Kept curves of another declaration are refitted."""
    metrics = [m for m in registry().metrics if m.family in FAMILIES]
    parts = [m.model_dump(mode="json") for m in metrics]
    parts += [based_on(m).model_dump(mode="json") for m in metrics]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def to_keep(ctx: Context, run: Run, refit_all: bool = False) -> Query:
    """Rows for `calibrations` (keyed by metric and system): the curve of every estimated
    metric for each system whose baseline, or the events in it, changed since its curve was
    kept; a system without labelled baseline events keeps an empty one. Read after the
    rollup is brought up to date: an ingest that only appends later days refits nothing;
    `refit_all` when the declarations changed (see `declared`)."""
    rows: list[tuple] = []
    now = {r["system"]: (r["b0"], r["b1"], r["n"]) for r in run(_baselines(ctx))}
    kept = {(r["metric"], r["system"]): (r["b0"], r["b1"], r["n"]) for r in run(Query(
        f"SELECT metric, system, b0, b1, n FROM {KEPT}"))}
    for metric in [m for m in registry().metrics if m.family in FAMILIES]:
        stale = [s for s in ctx.systems
                 if refit_all or kept.get((metric.id, s)) != now.get(s, (None, None, 0))]
        live = fitted_live(ctx, metric, run, stale) if stale else {}
        for system in stale:
            b0, b1, n = now.get(system, (None, None, 0))
            fit = live.get(system)
            rows.append((metric.id, system, b0, b1, n, fit.events if fit else 0,
                         list(fit.xs) if fit else [], list(fit.ys) if fit else []))
    if not rows:
        return Query(f"SELECT * FROM {KEPT} WHERE false")
    params = {f"kept_{c}": [r[i] for r in rows] for i, (c, _) in enumerate(KEPT_COLUMNS)}
    names = ", ".join(c for c, _ in KEPT_COLUMNS)
    return Query(f"WITH {ctx.dialect.lists_cte('kept', KEPT_COLUMNS)} SELECT {names} FROM kept",
                 params)

