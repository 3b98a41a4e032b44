"""Input drift: the population stability index of confidence, baseline (expected) against the
window or each period (actual), over the baseline's decile bins.

Each window event is binned once under its system's edges and once under the all-systems
edges, in one pass. With a ready rollup, a scope's edges and bin counts are read from
`psi_baselines` while its baseline still holds the events it held when they were kept; and
when `psi_daily` holds every event binned under exactly those kept baselines (`ctx.binned`),
the window's counts are the sums of its days there."""

from __future__ import annotations

from ...sql import Query
from ..registry import Metric
from . import baseline_period
from .base import EVENTS, ROLLUP, ROLLUP_COUNT, Context, column, period_start

NAMES = ("psi",)
KEPT = "psi_baselines"
DAILY = "psi_daily"  # kept by psi_daily.py
DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
MIN_EACH_SIDE = 50  # events in the baseline and in the window for a value


def _edge_columns(ctx: Context) -> str:
    return ", ".join(f"{ctx.dialect.item('q', i)} AS e{i}" for i in range(1, len(DECILES) + 1))


def bin_of(ctx: Context, edges: str) -> str:
    """The bin of `confidence`: how many of the (sorted, distinct) edges in table `edges` lie
    below it. Edges are scalar columns, NULL past the last: one comparison per edge."""
    return " + ".join(ctx.dialect.as_int(f"coalesce({edges}.e{i} < confidence, false)")
                      for i in range(1, len(DECILES) + 1))


def baseline_ctes(ctx: Context, cached: bool) -> str:
    """CTEs ending in `edges(scope, q, e1..e9)` and `base_counts(scope, bin, c)`; with
    `cached`, scopes whose kept edges are stale or missing are in `live(scope, b0, b1, n)`."""
    d = ctx.dialect
    bounds = baseline_period.bounds(ctx, rolled=cached).strip()
    in_bounds = baseline_period.scoped(EVENTS, "timestamp", "e.confidence")
    scoped = f"SELECT scope, confidence FROM ({in_bounds}) WHERE confidence IS NOT NULL"
    deciles = (f"SELECT scope, {d.distinct_sorted_quantiles('confidence', DECILES)} AS q "
               "FROM base GROUP BY scope")
    counts = (f"SELECT scope, {bin_of(ctx, 'edges')} AS bin, CAST(count(*) AS BIGINT) AS c "
              "FROM base JOIN edges USING (scope) GROUP BY scope, bin")
    edges = d.shared_cte("edges", f"SELECT scope, q, {_edge_columns(ctx)} FROM quantiles")
    if not cached:
        return f"""
WITH {bounds},
{d.shared_cte("base", scoped)},
quantiles AS ({deciles}),
{edges},
{d.shared_cte("base_counts", counts)}"""
    return f"""
WITH {bounds},
counted AS (
  SELECT b.scope, b.b0, b.b1, CAST(coalesce(sum(r.{ROLLUP_COUNT}), 0) AS BIGINT) AS n
  FROM bounds b LEFT JOIN {ROLLUP} r
    ON (b.scope = '' OR r.system = b.scope) AND r.day >= b.b0 AND r.day < b.b1
  GROUP BY b.scope, b.b0, b.b1
),
hits AS (SELECT k.* FROM {KEPT} k JOIN counted USING (scope, b0, b1, n)),
live AS (SELECT * FROM counted WHERE scope NOT IN (SELECT scope FROM hits)),
base AS ({scoped} AND scope IN (SELECT scope FROM live)),
quantiles AS (SELECT scope, q FROM hits UNION ALL {deciles}),
{edges},
base_counts AS (
  {counts}
  UNION ALL
  SELECT scope, b.bin, b.c FROM (SELECT scope, {d.unpack('bins')} AS b FROM hits)
)"""


def kept_baselines(ctx: Context) -> Query:
    """Rows for `psi_baselines`: the edges and bin counts of every scope not kept yet."""
    return ctx.query(f"""{baseline_ctes(ctx, cached=True)}
SELECT l.scope, l.b0, l.b1, l.n, e.q, {ctx.dialect.pack_bins('c.bin', 'c.c')} AS bins
FROM live l JOIN edges e USING (scope) JOIN base_counts c USING (scope)
GROUP BY l.scope, l.b0, l.b1, l.n, e.q""")


def _window_counts(ctx: Context, period: str | None) -> str:
    """CTE `win_counts(scope, period_start, bin, c)` over [$start, $end)."""
    if ctx.binned:  # the days' kept counts (every window starts and ends on a day)
        return f"""
win_counts AS (
  SELECT d.scope AS scope, {period_start(ctx, period, 'd.day')} AS period_start, d.bin AS bin,
         sum(d.c) AS c
  FROM {DAILY} d JOIN hits h USING (scope, b0, b1, n)
  WHERE d.day >= $start AND d.day < $end
  GROUP BY d.scope, period_start, d.bin
)"""
    pairs = f"""
  SELECT e.system AS system, {period_start(ctx, period, 'timestamp')} AS period_start,
         CASE WHEN s.scope IS NOT NULL THEN {bin_of(ctx, "s")} END AS bin_s,
         CASE WHEN o.scope IS NOT NULL THEN {bin_of(ctx, "o")} END AS bin_o,
         CAST(count(*) AS BIGINT) AS c
  FROM {EVENTS} e LEFT JOIN edges s ON s.scope = e.system
  LEFT JOIN edges o ON o.scope = ''
  WHERE e.timestamp >= $start AND e.timestamp < $end AND e.confidence IS NOT NULL
  GROUP BY e.system, period_start, bin_s, bin_o
"""
    d = ctx.dialect
    return f"""
{d.shared_cte("win_pairs", pairs)},
{d.shared_cte("win_counts", WINDOW_COUNTS)}"""


WINDOW_COUNTS = """
  SELECT system AS scope, period_start, bin_s AS bin, sum(c) AS c FROM win_pairs
  WHERE bin_s IS NOT NULL GROUP BY system, period_start, bin_s
  UNION ALL
  SELECT '' AS scope, period_start, bin_o AS bin, sum(c) AS c FROM win_pairs
  WHERE bin_o IS NOT NULL GROUP BY period_start, bin_o
"""


def _query(ctx: Context, metrics: list[Metric], period: str | None) -> Query:
    d = ctx.dialect
    results = ", ".join(
        f"CASE WHEN tb >= {MIN_EACH_SIDE} AND tw >= {MIN_EACH_SIDE} "
        f"THEN sum((pa - pe) * ln(pa / pe)) END AS {column(m.id, 'value')}, "
        f"least(tb, tw) AS {column(m.id, 'n')}, count(*) AS {column(m.id, 'bins')}"
        for m in metrics)
    return ctx.query(f"""{baseline_ctes(ctx, cached=ctx.rolled)},{_window_counts(ctx, period)},
periods AS (SELECT DISTINCT scope, period_start FROM win_counts),
base_total AS (SELECT scope, sum(c) AS tb FROM base_counts GROUP BY scope),
win_total AS (SELECT scope, period_start, sum(c) AS tw FROM win_counts
              GROUP BY scope, period_start),
allbins AS (SELECT p.scope AS scope, p.period_start AS period_start, {d.bins_from('eq.q')} AS bin
            FROM periods p JOIN edges eq USING (scope)),
props AS (
  SELECT ab.scope AS scope, ab.period_start AS period_start, bt.tb AS tb, wt.tw AS tw,
         greatest({d.double('coalesce(bc.c, 0)')} / NULLIF(bt.tb, 0), 0.0001) AS pe,
         greatest({d.double('coalesce(wc.c, 0)')} / NULLIF(wt.tw, 0), 0.0001) AS pa
  FROM allbins ab JOIN base_total bt USING (scope) JOIN win_total wt USING (scope, period_start)
  LEFT JOIN base_counts bc USING (scope, bin)
  LEFT JOIN win_counts wc USING (scope, period_start, bin)
)
SELECT scope, period_start, {results}
FROM props GROUP BY scope, period_start, tb, tw ORDER BY scope, period_start""")


def current(ctx: Context, metrics: list[Metric]) -> Query:
    return _query(ctx, metrics, None)


def trend(ctx: Context, metrics: list[Metric], period: str) -> Query:
    return _query(ctx, metrics, period)
