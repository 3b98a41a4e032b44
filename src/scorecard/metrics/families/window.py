"""Metrics over the window's events: rates (with a Wilson interval), ratios, counts, latency
quantiles and the success gap across the latency SLO, all in one grouped pass.

Systems are aggregated once; the all-systems row sums their counts and sums, and only the
latency quantiles read the window's events a second time. With a ready rollup, the counts
and sums that add up over days are read from it instead of the events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...sql import Dialect, Query, identifier
from ..registry import Metric, registry
from .base import (Context, column, counts_source, events_with_settings, measure_sql,
                   measure_within, params_table, ratio, rollup_columns)
from .stats_sql import wilson

NAMES = ("rate", "ratio", "count", "quantile", "gap")
QUANTILES = "latency__quantiles"
EVENTS_COUNT = ("count_all", "count(*)", "count")  # the n of ratios


@dataclass(frozen=True)
class Slicing:
    """Events grouped by the value of one dimension (SPEC section 3, Slices): an empty value is
    the slice `(none)`; with `kept`, a value outside it falls in `(other)`. Values reach the
    query as parameters, never as SQL text."""

    dimension: str
    kept: tuple[str, ...] | None = None
    system: str | None = None  # only this system's events (its scope and the overall agree)

    def value_sql(self, d: Dialect, column_sql: str) -> str:
        value = f"coalesce(nullif({column_sql}, ''), '{NO_VALUE}')"
        if self.kept is None:
            return value
        if not self.kept:
            return f"'{OTHER}'"
        return f"CASE WHEN {d.contains('$kept', value)} THEN {value} ELSE '{OTHER}' END"

    def params(self) -> dict:
        return {**({"kept": list(self.kept)} if self.kept else {}),
                **({"system": self.system} if self.system is not None else {})}


NO_VALUE, OTHER = "(none)", "(other)"


def _kind(measure) -> str:
    return "count" if measure.kind in ("count", "count_of") else "sum"


def _aggregates(ctx: Context, metrics: list[Metric]) -> list[tuple[str, str, str]]:
    """(alias, aggregate, kind) over the window's events: the events count, the latency
    quantiles as one aggregate (one sort), and each metric's measures. Kind is count, sum or
    quantiles: how the all-systems value is made from the systems' values."""
    d = ctx.dialect
    cols = [EVENTS_COUNT]
    quantiles = [m.quantile for m in metrics if m.family == "quantile"]
    if quantiles:
        cols.append((QUANTILES, d.quantiles("latency_ms", quantiles), "quantiles"))
    for m in metrics:
        if m.family == "gap":
            rate = registry().get(m.based_on[0])
            for side, cond in (("in", "latency_ms <= {slo}"), ("out", "latency_ms > {slo}")):
                cols += [(f"{m.id}__s_{side}", measure_within(rate.numerator, cond, d),
                          _kind(rate.numerator)),
                         (f"{m.id}__l_{side}", measure_within(rate.denominator, cond, d),
                          _kind(rate.denominator))]
            continue
        for part, measure in (("num", m.numerator), ("den", m.denominator)):
            if measure is not None:
                cols.append((f"{m.id}__{part}", measure_sql(measure, d), _kind(measure)))
    return cols


def _results(ctx: Context, metrics: list[Metric], numerators: bool = False) -> list[str]:
    """Outer SELECT list: value, ci_low, ci_high, n for each metric (and a ratio's numerator,
    when asked: what a slice spends is the numerator of cost per outcome)."""
    d = ctx.dialect
    cols = []
    quantile_ids = [m.id for m in metrics if m.family == "quantile"]
    for m in metrics:
        num, den = identifier(m.id + "__num"), identifier(m.id + "__den")
        low = high = "NULL"
        if m.family == "rate":
            value, low, high = wilson(num, den, d)
            n = den
        elif m.family == "ratio":
            value, n = ratio(num, den, d), "count_all"
            if numerators:
                cols.append(f"{num} AS {column(m.id, 'numerator')}")
        elif m.family == "count":
            value, n = d.double(num), num
        elif m.family == "quantile":
            value = d.item(identifier(QUANTILES), quantile_ids.index(m.id) + 1)
            n = den
        else:  # gap
            s_in, l_in = identifier(m.id + "__s_in"), identifier(m.id + "__l_in")
            s_out, l_out = identifier(m.id + "__s_out"), identifier(m.id + "__l_out")
            value = f"100 * ({ratio(s_in, l_in, d)} - {ratio(s_out, l_out, d)})"
            n = f"least({l_in}, {l_out})"
        cols += [f"{value} AS {column(m.id, 'value')}", f"{low} AS {column(m.id, 'ci_low')}",
                 f"{high} AS {column(m.id, 'ci_high')}", f"{n} AS {column(m.id, 'n')}"]
    return cols


def _summed(alias: str, kind: str) -> str:
    """The all-systems total of a per-system count or sum (a count of nothing is 0)."""
    total = f"sum({identifier(alias)})"
    return f"coalesce({total}, 0) AS {identifier(alias)}" if kind == "count" \
        else f"{total} AS {identifier(alias)}"


def query(ctx: Context, metrics: list[Metric], period: str | None = None,
          by: Slicing | None = None) -> Query:
    """The metrics per scope over [$start, $end), and per period too when `period` is set;
    per value of a dimension within each scope (column `slice`), with each ratio's numerator,
    when `by` is set."""
    d = ctx.dialect
    if by is not None:
        ctx = replace(ctx, rolled=False)  # the rollup keeps systems and days, not slices
    aggregates = _aggregates(ctx, metrics)
    inner = [*(["slice"] if by else []), *(["period_start"] if period else [])]
    key = "".join(f"{k}, " for k in inner)
    keys = ", ".join(["scope", *inner])
    by_inner = f"GROUP BY {', '.join(inner)}" if inner else ""
    quantiles = [(a, e) for a, e, kind in aggregates if kind == "quantiles"]
    additive = [(a, e, kind) for a, e, kind in aggregates if kind != "quantiles"]
    source, t, total = counts_source(ctx)
    rolled_up_here = set(rollup_columns(ctx.dialect)) if ctx.rolled else set()
    from_rollup = [(a, e) for a, e, _ in additive if e in rolled_up_here]
    from_events = [(a, e) for a, e, _ in aggregates if (a, e) not in from_rollup]
    groups = ", ".join(["system", *inner])
    extra = f", {d.trunc(period, 'e.timestamp')} AS period_start" if period else ""
    if by is not None:
        extra += f", {by.value_sql(d, 'e.' + identifier(by.dimension))} AS slice"
    per_system = (f"SELECT system AS scope, {key}"
                  f"{', '.join(f'{e} AS {identifier(a)}' for a, e in from_events)} "
                  f"FROM ev GROUP BY {groups}")
    if from_rollup:
        period_of_day = f", {d.trunc(period, t)} AS period_start" if period else ""
        rolled_up = (f"SELECT system AS scope, {key}"
                     f"{', '.join(f'{total(e)} AS {identifier(a)}' for a, e in from_rollup)} "
                     f"FROM (SELECT *{period_of_day} FROM {source} "
                     f"WHERE {t} >= $start AND {t} < $end) GROUP BY {groups}")
        per_system = (f"SELECT * FROM ({rolled_up}) AS r LEFT JOIN ({per_system}) AS e "
                      f"USING ({keys})"
                      if from_events else rolled_up)
    overall = "overall_sums"
    quantile_cte = ""
    if quantiles:
        quantile_cte = (f"overall_quantiles AS (SELECT {key}"
                        f"{', '.join(f'{e} AS {identifier(a)}' for a, e in quantiles)} "
                        f"FROM ev {by_inner}),")
        overall += (f" JOIN overall_quantiles USING ({', '.join(inner)})" if inner
                    else " CROSS JOIN overall_quantiles")
    names = ", ".join(identifier(a) for a, _, _ in aggregates)
    where = "e.timestamp >= $start AND e.timestamp < $end"
    if by is not None and by.system is not None:
        where += " AND e.system = $system"
    ev = events_with_settings(where, extra)
    text = f"""
WITH {params_table(ctx)},
{d.inline_cte("ev", ev)},
per_system AS ({per_system}),
overall_sums AS (SELECT {key}{', '.join(_summed(a, kind) for a, _, kind in additive)}
                 FROM per_system {by_inner}),
{quantile_cte}
agg AS (
  SELECT {keys}, {names} FROM per_system
  UNION ALL
  SELECT '' AS scope, {key}{names} FROM {overall}
)
SELECT {keys}, {', '.join(_results(ctx, metrics, by is not None))} FROM agg ORDER BY {keys}"""
    return Query.using(text, {"start": ctx.start, "end": ctx.end,
                              **(by.params() if by is not None else {})})


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return query(ctx, metrics)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return query(ctx, metrics, period)
