"""The metric queries, built from the registry. Text only: `Store` runs them.

Every query returns one row per scope: a system's name, or '' for all systems together.
Time bounds are bound parameters; per-system settings (SLO, floor, targets, pinned baselines)
enter as small VALUES tables, so one query serves every system at once.
"""

from __future__ import annotations

import re
from typing import Callable

from ..store.rollup import COUNT as ROLLUP_COUNT
from .registry import Metric, registry
from .thresholds import Thresholds

Z95 = 1.959964
OVERALL = ""
WEEK_US = 7 * 86400 * 1_000_000


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def wilson(num: str, den: str, z: float = Z95) -> tuple[str, str, str]:
    """SQL for (value, ci_low, ci_high) of num/den with the Wilson score interval."""
    p = f"({num})::DOUBLE / NULLIF({den}, 0)"
    n = f"NULLIF({den}, 0)::DOUBLE"
    z2 = z * z
    centre = f"(({p}) + {z2} / (2 * {n})) / (1 + {z2} / {n})"
    half = f"({z} * sqrt(({p}) * (1 - ({p})) / {n} + {z2} / (4 * {n} * {n})) / (1 + {z2} / {n}))"
    # exact bounds at the edges, where floating point would leave 1 - 2e-16
    low = f"CASE WHEN ({num}) = 0 THEN 0.0 ELSE greatest(0.0, {centre} - {half}) END"
    high = f"CASE WHEN ({num}) = ({den}) THEN 1.0 ELSE least(1.0, {centre} + {half}) END"
    return p, low, high


def two_sided_p(z: str) -> str:
    """SQL for the two-sided normal p-value of z: erfc(|z|/sqrt 2), Abramowitz-Stegun 7.1.26."""
    x = f"(abs({z}) / sqrt(2))"
    t = f"(1 / (1 + 0.3275911 * {x}))"
    poly = (f"({t} * (0.254829592 + {t} * (-0.284496736 + {t} * (1.421413741 + {t} * "
            f"(-1.453152027 + {t} * 1.061405429)))))")
    return f"least(1.0, {poly} * exp(-{x} * {x}))"


def params_table(thresholds: Thresholds, systems: list[str]) -> str:
    """VALUES (system, slo, floor, success target, failure target) for every system."""
    rows = ["(NULL::VARCHAR, NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE)"]
    for s in [OVERALL, *systems]:
        name = s or None
        rows.append(f"({lit(s)}, {lit(thresholds.slo_ms(name))}, {lit(thresholds.floor(name))}, "
                    f"{lit(thresholds.for_metric('success_rate', name).target)}, "
                    f"{lit(thresholds.for_metric('failure_rate', name).target)})")
    return (f"params(system, slo, floor, sr_target, fr_target) AS (VALUES {', '.join(rows)})")


def _fill(sql: str) -> str:
    return sql.replace("{slo}", "__slo").replace("{floor}", "__floor")


LATENCY_QUANTILES = "latency__quantiles"


def _quantile_metrics(metrics: list[Metric]) -> list[Metric]:
    return [m for m in metrics if m.family == "quantile"]


def _window_aggregates(metrics: list[Metric]) -> list[tuple[str, str]]:
    """(alias, aggregate) pairs over the window's events. All are counts or sums, so that the
    all-systems value is the sum of the systems' values, except the latency quantiles, which
    are one aggregate (one sort) giving the list of them."""
    cols: list[tuple[str, str]] = []
    quantiles = [str(m.quantile) for m in _quantile_metrics(metrics)]
    if quantiles:
        cols.append((LATENCY_QUANTILES, f"quantile_cont(latency_ms, [{', '.join(quantiles)}])"))
    for m in metrics:
        if m.family in ("rate", "ratio"):
            cols += [(m.id + "__num", _fill(m.numerator)), (m.id + "__den", _fill(m.denominator))]
        elif m.family == "count":
            cols.append((m.id + "__num", _fill(m.expression)))
        elif m.family == "quantile":
            cols.append((m.id + "__den", "count(latency_ms)"))
        elif m.family == "gap":
            for side, cond in (("in", "latency_ms <= __slo"), ("out", "latency_ms > __slo")):
                cols += [(f"{m.id}__s_{side}",
                          f"count(*) FILTER (WHERE {cond} AND outcome = 'success')"),
                         (f"{m.id}__l_{side}",
                          f"count(*) FILTER (WHERE {cond} AND outcome IN ('success', 'failure'))")]
    return cols


def _all_aggregates(metrics: list[Metric]) -> list[tuple[str, str]]:
    """The events count (the n of ratios) and the metrics' own aggregates."""
    return [("count_all", "count(*)"), *_window_aggregates(metrics)]


def _is_quantile(aggregate: str) -> bool:
    return aggregate.startswith("quantile_cont(")


def _summed(alias: str, aggregate: str) -> str:
    """The all-systems total of a per-system count or sum (a count of nothing is 0)."""
    total = f"sum({q(alias)})"
    return f"coalesce({total}, 0) AS {q(alias)}" if aggregate.startswith("count(") else \
        f"{total} AS {q(alias)}"


def _window_results(metrics: list[Metric]) -> list[str]:
    """Outer SELECT list: value, ci_low, ci_high, n for each windowed metric."""
    cols = []
    for m in metrics:
        num, den = q(m.id + "__num"), q(m.id + "__den")
        if m.family == "rate":
            value, low, high = wilson(num, den)
            n = den
        elif m.family == "ratio":
            value, low, high, n = f"{num}::DOUBLE / NULLIF({den}, 0)", "NULL", "NULL", "count_all"
        elif m.family == "count":
            value, low, high, n = f"{num}::DOUBLE", "NULL", "NULL", num
        elif m.family == "quantile":
            position = _quantile_metrics(metrics).index(m) + 1
            value, low, high, n = f"{q(LATENCY_QUANTILES)}[{position}]", "NULL", "NULL", den
        elif m.family == "gap":
            s_in, l_in = q(m.id + "__s_in"), q(m.id + "__l_in")
            s_out, l_out = q(m.id + "__s_out"), q(m.id + "__l_out")
            value = (f"100 * ({s_in}::DOUBLE / NULLIF({l_in}, 0) - "
                     f"{s_out}::DOUBLE / NULLIF({l_out}, 0))")
            low, high, n = "NULL", "NULL", f"least({l_in}, {l_out})"
        else:
            continue
        cols += [f"{value} AS {q(m.id + ':value')}", f"{low} AS {q(m.id + ':ci_low')}",
                 f"{high} AS {q(m.id + ':ci_high')}", f"{n} AS {q(m.id + ':n')}"]
    return cols


WINDOW_FAMILIES = ("rate", "ratio", "count", "quantile", "gap")
ROLLUP = "daily_rollup"
BUCKET_COUNTS = (("s", "count(*) FILTER (WHERE outcome = 'success')"),
                 ("l", "count(*) FILTER (WHERE outcome IN ('success', 'failure'))"),
                 ("failed", "count(*) FILTER (WHERE status <> 'ok')"))
_NOT_ADDITIVE = re.compile(r"__slo|__floor|\b(avg|min|max|quantile\w*|median|mode|stddev\w*|"
                           r"var\w*|list|string_agg|arg_\w+|approx\w*)\s*\(|distinct",
                           re.IGNORECASE)


def adds_up_over_days(aggregate: str) -> bool:
    """Whether a day-by-day sum of the aggregate equals it over the whole period: counts and
    sums that do not depend on a system's SLO or confidence floor."""
    return _NOT_ADDITIVE.search(aggregate) is None


def rollup_columns() -> dict[str, str]:
    """Aggregate -> its column in the daily rollup, for every windowed aggregate that adds up
    over days and for the weekly buckets' counts."""
    columns: dict[str, str] = {}
    for alias, aggregate in [*_all_aggregates(registry().of_family(*WINDOW_FAMILIES)),
                             *BUCKET_COUNTS]:
        if adds_up_over_days(aggregate):
            columns.setdefault(aggregate, alias)
    return columns


def rollup_measures() -> tuple[tuple[str, str], ...]:
    """(column, aggregate) pairs of the daily rollup."""
    return tuple((column, aggregate) for aggregate, column in rollup_columns().items())


def counts_source(rolled: bool) -> tuple[str, str, Callable[[str], str]]:
    """Where counts and sums are read: (table, its day-aligned time column, aggregate -> SQL).
    From the rollup an aggregate is the sum of its daily column; from the events, itself."""
    if rolled:
        column = rollup_columns()
        return ROLLUP, "day", lambda aggregate: f"sum({q(column[aggregate])})"
    return "inference_events", "timestamp", lambda aggregate: aggregate


def window_query(thresholds: Thresholds, systems: list[str], period: str | None = None,
                 only: set[str] | None = None, rolled: bool = False) -> str:
    """The windowed metrics (all, or `only` these ids) per scope over [$start, $end); per
    period too when `period` is set. With `rolled`, counts and sums come from the daily rollup
    and only the rest (quantiles, counts against the SLO or floor) read the events.

    Systems are aggregated once; the all-systems row sums their counts and sums, and only the
    latency quantiles read the window's events a second time."""
    metrics = [m for m in registry().of_family(*WINDOW_FAMILIES) if only is None or m.id in only]
    aggregates = _all_aggregates(metrics)
    key = "period_start, " if period else ""
    by_period = "GROUP BY period_start" if period else ""
    period_col = f", date_trunc('{period}', e.timestamp) AS period_start" if period else ""
    additive = [(a, e) for a, e in aggregates if not _is_quantile(e)]
    quantiles = [(a, e) for a, e in aggregates if _is_quantile(e)]
    from_rollup = [(a, e) for a, e in aggregates if rolled and adds_up_over_days(e)]
    from_events = [(a, e) for a, e in aggregates if (a, e) not in from_rollup]
    groups = f"system{', period_start' if period else ''}"
    from_ev = ", ".join(f"{e} AS {q(a)}" for a, e in from_events)
    per_system = f"SELECT system AS scope, {key}{from_ev} FROM ev GROUP BY {groups}"
    if from_rollup:
        source, t, total = counts_source(rolled)
        period_of_day = f", date_trunc('{period}', {t}) AS period_start" if period else ""
        rolled_up = (f"SELECT system AS scope, {key}"
                     f"{', '.join(f'{total(e)} AS {q(a)}' for a, e in from_rollup)} "
                     f"FROM (SELECT *{period_of_day} FROM {source} "
                     f"WHERE {t} >= $start AND {t} < $end) GROUP BY {groups}")
        per_system = (f"SELECT * FROM ({rolled_up}) LEFT JOIN ({per_system}) "
                      f"USING (scope{', period_start' if period else ''})" if from_events
                      else rolled_up)
    summed = [_summed(a, e) for a, e in additive]
    overall, quantile_cte = "overall_sums", ""
    if quantiles:
        quantile_cte = (f"overall_quantiles AS (SELECT {key}"
                        f"{', '.join(f'{e} AS {q(a)}' for a, e in quantiles)} FROM ev {by_period}),")
        overall += (" JOIN overall_quantiles USING (period_start)" if period
                    else " CROSS JOIN overall_quantiles")
    return f"""
WITH {params_table(thresholds, systems)},
ev AS NOT MATERIALIZED (
  SELECT e.*, coalesce(p.slo, d.slo) AS __slo, coalesce(p.floor, d.floor) AS __floor{period_col}
  FROM inference_events e
  LEFT JOIN params p ON p.system = e.system
  CROSS JOIN (SELECT slo, floor FROM params WHERE system = '') d
  WHERE e.timestamp >= $start AND e.timestamp < $end
),
per_system AS ({per_system}),
overall_sums AS (SELECT {key}{', '.join(summed)} FROM per_system {by_period}),
{quantile_cte}
agg AS (
  SELECT * FROM per_system
  UNION ALL BY NAME
  SELECT '' AS scope, * FROM {overall}
)
SELECT scope, {key}{', '.join(_window_results(metrics))} FROM agg ORDER BY scope, {key}1"""


PERIODS = ("day", "week", "month")
NO_PERIOD = "TIMESTAMP '1970-01-01'"


def period_expr(period: str | None, column: str) -> str:
    """The start of the period holding `column`, or a constant when there are no periods."""
    return f"date_trunc('{period}', {column})" if period else NO_PERIOD


def _weekly_verdict(keys: str) -> str:
    """From CTE `buckets` (keys, s, l, failed, n): share of buckets meeting both targets, and
    the coefficient of variation of their success rates, per `keys`."""
    return f"""
rated AS (
  SELECT b.*, b.s::DOUBLE / b.l AS sr, b.failed::DOUBLE / b.n AS fr,
         coalesce(p.sr_target, d.sr_target) AS sr_target,
         coalesce(p.fr_target, d.fr_target) AS fr_target
  FROM buckets b LEFT JOIN params p ON p.system = b.scope AND b.scope <> ''
  CROSS JOIN (SELECT sr_target, fr_target FROM params WHERE system = '') d
  WHERE b.l > 0
)
SELECT {keys},
       avg(CASE WHEN sr >= sr_target AND fr <= fr_target THEN 1.0 ELSE 0.0 END)
           AS "weeks_meeting_slo:value",
       count(*) AS "weeks_meeting_slo:n",
       CASE WHEN count(*) >= 2 AND avg(sr) > 0 THEN stddev_samp(sr) / avg(sr) END
           AS "weekly_success_cv:value",
       count(*) AS "weekly_success_cv:n"
FROM rated GROUP BY {keys} ORDER BY {keys}"""


def _bucket_counts(unit: str, unit_of: str, since: str, rolled: bool) -> str:
    """Success, labelled, failed and all events per system and `unit` (a bucket or a day)
    from `since` to $end, and for all systems as the sum over systems. `unit_of` gives the
    unit from `{t}`, a day-aligned time: the events' timestamp, or the rollup's day."""
    source, t, total = counts_source(rolled)
    sums = ", ".join(f"{total(e)} AS {a}" for a, e in [*BUCKET_COUNTS, ("n", "count(*)")])
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
  SELECT '' AS scope, {unit}, sum(s), sum(l), sum(failed), sum(n) FROM per_system GROUP BY {unit}
)"""


def weekly_query(thresholds: Thresholds, systems: list[str], rolled: bool = False) -> str:
    """Temporal reliability over the 8 seven-day buckets that end at $end."""
    since = "$end - INTERVAL 56 DAY"
    bucket = f"8 - floor((epoch_us({{t}}) - epoch_us({since})) / {WEEK_US})::INTEGER"
    return f"""
WITH {params_table(thresholds, systems)},{_bucket_counts("k", bucket, since, rolled)},
buckets AS (SELECT * FROM counts),{_weekly_verdict("scope")}"""


def weekly_trend_query(thresholds: Thresholds, systems: list[str], period: str,
                       rolled: bool = False) -> str:
    """Temporal reliability as of the end of each period: 8 seven-day buckets ending there."""
    days = _bucket_counts("d", "date_trunc('day', {t})", "$start - INTERVAL 56 DAY", rolled)
    return f"""
WITH {params_table(thresholds, systems)},
{days.strip()},
periods AS (
  SELECT DISTINCT scope, date_trunc('{period}', d) AS period_start,
         date_trunc('{period}', d) + INTERVAL 1 {period} AS pe
  FROM counts WHERE d >= $start
),
buckets AS (
  SELECT p.scope, p.period_start, 8 - floor(datediff('day', p.pe - INTERVAL 56 DAY, dl.d) / 7)
         AS k, sum(s) AS s, sum(l) AS l, sum(failed) AS failed, sum(n) AS n
  FROM periods p JOIN counts dl ON dl.scope = p.scope AND dl.d >= p.pe - INTERVAL 56 DAY
       AND dl.d < p.pe
  GROUP BY ALL
),{_weekly_verdict("scope, period_start")}"""


def baseline_bounds(thresholds: Thresholds, systems: list[str], baseline_days: int,
                    rolled: bool = False) -> str:
    """CTEs `firsts` and `bounds(scope, b0, b1)`: each system's baseline and the overall one."""
    pins = ["(NULL::VARCHAR, NULL::TIMESTAMP, NULL::TIMESTAMP)"]
    for s in systems:
        pinned = thresholds.baseline(s)
        if pinned:
            pins.append(f"({lit(s)}, TIMESTAMP {lit(pinned.start.isoformat())}, "
                        f"TIMESTAMP {lit(pinned.end.isoformat())})")
    source, t, _ = counts_source(rolled)
    return f"""
pins(system, b0, b1) AS (VALUES {', '.join(pins)}),
firsts AS (SELECT system, date_trunc('day', min({t})) AS d0 FROM {source} GROUP BY system),
bounds AS (
  SELECT f.system AS scope, coalesce(p.b0, f.d0) AS b0,
         coalesce(p.b1, f.d0 + INTERVAL {int(baseline_days)} DAY) AS b1
  FROM firsts f LEFT JOIN pins p ON p.system = f.system
  UNION ALL
  SELECT '', min(d0), min(d0) + INTERVAL {int(baseline_days)} DAY FROM firsts
)"""


def _scoped(source: str = "inference_events", t: str = "timestamp") -> str:
    """Rows of `source` in each scope's baseline bounds (a system's own, and all systems)."""
    return f"""
  SELECT b.scope, e.* FROM {source} e JOIN bounds b
    ON b.scope = e.system AND e.{t} >= b.b0 AND e.{t} < b.b1
  UNION ALL
  SELECT '' AS scope, e.* FROM {source} e JOIN bounds b
    ON b.scope = '' AND e.{t} >= b.b0 AND e.{t} < b.b1"""


def baseline_query(thresholds: Thresholds, systems: list[str], baseline_days: int,
                   period: str | None = None, rolled: bool = False) -> str:
    """Success in the baseline against the window (or each period), pooled two-proportion z-test."""
    z = "(pw - pb) / NULLIF(sqrt(pp * (1 - pp) * (1.0 / lw + 1.0 / lb)), 0)"
    source, t, total = counts_source(rolled)
    s, lab = (total(e) for _, e in BUCKET_COUNTS[:2])
    return f"""
WITH {baseline_bounds(thresholds, systems, baseline_days, rolled).strip()},
base AS (SELECT scope, {s} AS sb, {lab} AS lb FROM ({_scoped(source, t)}) GROUP BY scope),
win AS (
  SELECT coalesce(system, '') AS scope, period_start, {s} AS sw, {lab} AS lw
  FROM (SELECT *, {period_expr(period, t)} AS period_start FROM {source}
        WHERE {t} >= $start AND {t} < $end)
  GROUP BY GROUPING SETS ((system, period_start), (period_start))
),
joined AS (
  SELECT b.scope, w.period_start, bo.b0, bo.b1, sb, lb, coalesce(sw, 0) AS sw,
         coalesce(lw, 0) AS lw, sb::DOUBLE / NULLIF(lb, 0) AS pb,
         sw::DOUBLE / NULLIF(lw, 0) AS pw, (sb + sw)::DOUBLE / NULLIF(lb + lw, 0) AS pp
  FROM base b JOIN bounds bo ON bo.scope = b.scope LEFT JOIN win w ON w.scope = b.scope
)
SELECT scope, period_start, b0 AS baseline_start, b1 AS baseline_end, lb AS baseline_n,
       pb AS baseline_rate, 100 * (pw - pb) AS "success_rate_change_pp:value",
       CASE WHEN lw > 0 AND lb > 0 THEN {two_sided_p(z)} END AS "success_rate_change_pp:p_value",
       least(lw, lb) AS "success_rate_change_pp:n"
FROM joined ORDER BY scope, period_start"""


_EDGE_COLUMNS = ", ".join(f"q[{i}] AS e{i}" for i in range(1, 10))


def _bin_of(edges: str) -> str:
    """The bin of `confidence` under the edges in table alias `edges`: how many of the (sorted,
    distinct) edges lie below it. Edges are nine scalar columns, NULL past the last, which
    keeps this to nine comparisons per row."""
    return " + ".join(f"coalesce({edges}.e{i} < confidence, false)::INT" for i in range(1, 10))


PSI_BASELINES = "psi_baselines"
DECILES = "[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]"


def _psi_baseline(thresholds: Thresholds, systems: list[str], baseline_days: int,
                  cached: bool) -> str:
    """CTEs ending in `edges(scope, q, e1..e9)` and `base_counts(scope, bin, c)`: each scope's
    decile edges over its baseline and the baseline's count per bin.

    With `cached`, a scope whose baseline still holds the events it held when its edges and
    counts were kept (events are only appended, so the same count is the same rows) reads them
    from `psi_baselines`; only the other scopes read their baseline's events. Such scopes are
    in `live(scope, b0, b1, n)`."""
    bounds = baseline_bounds(thresholds, systems, baseline_days, rolled=cached).strip()
    scoped = f"SELECT scope, confidence FROM ({_scoped()}) WHERE confidence IS NOT NULL"
    deciles = (f"SELECT scope, list_sort(list_distinct(quantile_cont(confidence, {DECILES}))) "
               "AS q FROM base GROUP BY scope")
    counts = (f"SELECT scope, {_bin_of('edges')} AS bin, count(*) AS c "
              "FROM base JOIN edges USING (scope) GROUP BY ALL")
    if not cached:
        return f"""
WITH {bounds},
base AS ({scoped}),
quantiles AS ({deciles}),
edges AS (SELECT scope, q, {_EDGE_COLUMNS} FROM quantiles),
base_counts AS ({counts})"""
    return f"""
WITH {bounds},
counted AS (
  SELECT b.scope, b.b0, b.b1, coalesce(sum(r.{ROLLUP_COUNT}), 0) AS n
  FROM bounds b LEFT JOIN {ROLLUP} r
    ON (b.scope = '' OR r.system = b.scope) AND r.day >= b.b0 AND r.day < b.b1
  GROUP BY ALL
),
hits AS (SELECT k.* FROM {PSI_BASELINES} k JOIN counted USING (scope, b0, b1, n)),
live AS (SELECT * FROM counted WHERE scope NOT IN (SELECT scope FROM hits)),
base AS ({scoped} AND scope IN (SELECT scope FROM live)),
quantiles AS (SELECT scope, q FROM hits UNION ALL {deciles}),
edges AS (SELECT scope, q, {_EDGE_COLUMNS} FROM quantiles),
base_counts AS (
  {counts}
  UNION ALL
  SELECT scope, b.bin, b.c FROM (SELECT scope, unnest(bins) AS b FROM hits)
)"""


def psi_baselines_query(thresholds: Thresholds, systems: list[str], baseline_days: int) -> str:
    """Rows for `psi_baselines`: the edges and bin counts of every scope not kept yet."""
    return f"""{_psi_baseline(thresholds, systems, baseline_days, cached=True)}
SELECT l.scope, l.b0, l.b1, l.n, e.q, list({{'bin': c.bin, 'c': c.c}} ORDER BY c.bin) AS bins
FROM live l JOIN edges e USING (scope) JOIN base_counts c USING (scope)
GROUP BY ALL"""


def psi_query(thresholds: Thresholds, systems: list[str], baseline_days: int,
              period: str | None = None, rolled: bool = False) -> str:
    """Population stability index of confidence, baseline (expected) against window (actual).

    Each window event is binned once under its system's edges and once under the all-systems
    edges, in one pass; the two scopes' counts are then summed from those pairs. With `rolled`,
    the baselines' edges and counts come from `psi_baselines` where they are still current."""
    ps = period_expr(period, "timestamp")
    return f"""{_psi_baseline(thresholds, systems, baseline_days, cached=rolled)},
win_pairs AS (
  SELECT e.system, {ps} AS period_start, CASE WHEN s.scope IS NOT NULL THEN {_bin_of("s")} END
         AS bin_s, CASE WHEN o.scope IS NOT NULL THEN {_bin_of("o")} END AS bin_o, count(*) AS c
  FROM inference_events e LEFT JOIN edges s ON s.scope = e.system
  LEFT JOIN edges o ON o.scope = ''
  WHERE e.timestamp >= $start AND e.timestamp < $end AND e.confidence IS NOT NULL
  GROUP BY ALL
),
win_counts AS (
  SELECT system AS scope, period_start, bin_s AS bin, sum(c) AS c FROM win_pairs
  WHERE bin_s IS NOT NULL GROUP BY ALL
  UNION ALL
  SELECT '' AS scope, period_start, bin_o AS bin, sum(c) AS c FROM win_pairs
  WHERE bin_o IS NOT NULL GROUP BY ALL
),
periods AS (SELECT DISTINCT scope, period_start FROM win_counts),
base_total AS (SELECT scope, sum(c) AS tb FROM base_counts GROUP BY scope),
win_total AS (SELECT scope, period_start, sum(c) AS tw FROM win_counts GROUP BY ALL),
allbins AS (SELECT p.scope, p.period_start, unnest(range(len(e.q) + 1)) AS bin
            FROM periods p JOIN edges e USING (scope)),
props AS (
  SELECT a.scope, a.period_start, bt.tb, wt.tw,
         greatest(coalesce(b.c, 0)::DOUBLE / NULLIF(bt.tb, 0), 0.0001) AS e,
         greatest(coalesce(w.c, 0)::DOUBLE / NULLIF(wt.tw, 0), 0.0001) AS a
  FROM allbins a JOIN base_total bt USING (scope) JOIN win_total wt USING (scope, period_start)
  LEFT JOIN base_counts b USING (scope, bin) LEFT JOIN win_counts w USING (scope, period_start, bin)
)
SELECT scope, period_start,
       CASE WHEN tb >= 50 AND tw >= 50 THEN sum((a - e) * ln(a / e)) END AS "confidence_psi:value",
       least(tb, tw) AS "confidence_psi:n", count(*) AS "confidence_psi:bins"
FROM props GROUP BY scope, period_start, tb, tw ORDER BY scope, period_start"""


def incidents_query(period: str | None = None) -> str:
    """Median minutes to detect and to recover: incidents started in [$end - 90 days, $end),
    or, per period, those started in each period."""
    since = "$start" if period else "$end - INTERVAL 90 DAY"
    return f"""
SELECT coalesce(system, '') AS scope, period_start,
       quantile_cont(epoch(detected_at - started_at) / 60, 0.5)
           AS "median_time_to_detect_minutes:value",
       count(*) AS "median_time_to_detect_minutes:n",
       quantile_cont(epoch(resolved_at - detected_at) / 60, 0.5)
           FILTER (WHERE resolved_at IS NOT NULL) AS "median_time_to_recover_minutes:value",
       count(resolved_at) AS "median_time_to_recover_minutes:n",
       count(*) - count(resolved_at) AS "median_time_to_recover_minutes:open"
FROM (SELECT *, {period_expr(period, 'started_at')} AS period_start FROM incidents
      WHERE started_at >= {since} AND started_at < $end)
GROUP BY GROUPING SETS ((system, period_start), (period_start)) ORDER BY scope, period_start"""


def segments_query(min_segment: int, period: str | None = None) -> str:
    """min / max of per-segment success rates among segments with enough labelled events."""
    return f"""
WITH seg AS (
  SELECT coalesce(system, '') AS scope, period_start, segment,
         count(*) FILTER (WHERE outcome = 'success')::DOUBLE
           / NULLIF(count(*) FILTER (WHERE outcome IN ('success', 'failure')), 0) AS rate,
         count(*) FILTER (WHERE outcome IN ('success', 'failure')) AS l
  FROM (SELECT *, {period_expr(period, 'timestamp')} AS period_start FROM inference_events
        WHERE timestamp >= $start AND timestamp < $end AND segment IS NOT NULL)
  GROUP BY GROUPING SETS ((system, period_start, segment), (period_start, segment))
)
SELECT scope, period_start,
       CASE WHEN count(*) >= 2 AND max(rate) > 0 THEN min(rate) / max(rate) END
           AS "disparity_ratio:value",
       count(*) AS "disparity_ratio:n",
       arg_min(segment, rate) AS "disparity_ratio:worst_segment",
       min(rate) AS "disparity_ratio:worst_rate",
       arg_max(segment, rate) AS "disparity_ratio:best_segment",
       max(rate) AS "disparity_ratio:best_rate"
FROM seg WHERE l >= {int(min_segment)} GROUP BY scope, period_start
ORDER BY scope, period_start"""


def systems_query(rolled: bool = False) -> str:
    return (f"SELECT system FROM {counts_source(rolled)[0]} GROUP BY system "
            "UNION SELECT system FROM incidents GROUP BY system ORDER BY 1")


def newest_per_system_query(rolled: bool = False) -> str:
    """(system, newest event time): to the day from the rollup, exact from the events."""
    table, time_column, _ = counts_source(rolled)
    return f"SELECT system, max({time_column}) FROM {table} GROUP BY system"


def newest_day_query() -> str:
    return "SELECT CAST(max(timestamp) AS DATE) FROM inference_events"
