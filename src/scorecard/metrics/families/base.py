"""What every family shares: the context a query is built in, the measures' SQL, the
per-system settings table, and where counts and sums are read (events or the daily rollup)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from ...sql import DUCKDB, Dialect, Query, identifier, literal
from ...store.rollup import COUNT as ROLLUP_COUNT  # noqa: F401 (psi reads it from here)
from ..registry import Measure, Metric, registry
from ..thresholds import Thresholds

OVERALL = ""  # the scope of all systems together
EVENTS = "inference_events"
ROLLUP = "daily_rollup"
SETTING_COLUMNS = {"slo": "__slo", "floor": "__floor"}  # per-system settings, per event row

@dataclass(frozen=True)
class Context:
    """Everything a family's query depends on besides its metrics."""

    thresholds: Thresholds
    systems: tuple[str, ...]
    start: datetime
    end: datetime
    baseline_days: int = 28
    rolled: bool = False  # whether counts and sums may be read from the daily rollup
    binned: bool = False  # whether the PSI's window counts may be read from psi_daily
    calibrated: bool = False  # whether the estimate's kept calibrations cover the events
    dialect: Dialect = DUCKDB
    # what families fitted from the store before their queries were built (catalog.prepare)
    fitted: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def query(self, text: str) -> Query:
        """The text with the window's bounds ($start, $end) it uses."""
        return Query.using(text, {"start": self.start, "end": self.end})


def column(metric_id: str, field: str) -> str:
    """The result column of one field of a metric: "metric:field"."""
    return identifier(f"{metric_id}:{field}")


def ratio(num: str, den: str, d: Dialect) -> str:
    return f"{d.double(num)} / NULLIF({den}, 0)"


def measure_sql(measure: Measure, d: Dialect = DUCKDB) -> str:
    """The aggregate a measure declares, its {slo} and {floor} read from the event's row."""
    if measure.kind == "count":
        condition = None if measure.count == "*" else measure.count.format_map(SETTING_COLUMNS)
        return d.count_if(condition)
    if measure.kind == "count_of":
        return f"count({measure.count_of})"  # a plain column name (Measure checks it)
    if isinstance(measure.sum, str):
        return f"sum({measure.sum})"
    return " + ".join(f"coalesce(sum({c}), 0)" for c in measure.sum)


def params_table(ctx: Context, targets: Iterable[str] = ()) -> str:
    """CTE `params`: (system, slo, floor, one "<id>:target" per metric in `targets`) for every
    system and for all systems ('')."""
    targets = list(targets)
    columns = [("system", "VARCHAR"), ("slo", "DOUBLE"), ("floor", "DOUBLE"),
               *((column(t, "target"), "DOUBLE") for t in targets)]
    rows = []
    for s in [OVERALL, *ctx.systems]:
        name = s or None
        values = [ctx.thresholds.slo_ms(name), ctx.thresholds.floor(name),
                  *(ctx.thresholds.for_metric(t, name).target for t in targets)]
        rows.append([ctx.dialect.literal(s), *(literal(float(v)) for v in values)])
    return ctx.dialect.values_cte("params", columns, rows)


def events_with_settings(where: str, extra: str = "") -> str:
    """SELECT of the events meeting `where`, each with its system's latency SLO and confidence
    floor (columns named in SETTING_COLUMNS) from the `params` CTE, plus `extra` columns."""
    slo, floor = SETTING_COLUMNS["slo"], SETTING_COLUMNS["floor"]
    default = "(SELECT {} FROM params WHERE system = '')".format  # one join: see below
    # (ClickHouse names the columns of `e.*` by their table when two joins share a name)
    return (f"SELECT e.*, coalesce(p.slo, {default('slo')}) AS {slo}, coalesce(p.floor, "
            f"{default('floor')}) AS {floor}{extra} FROM {EVENTS} e LEFT JOIN params p "
            f"ON p.system = e.system WHERE {where}")


def rollup_columns(d: Dialect = DUCKDB) -> dict[str, str]:
    """Aggregate SQL -> its column in the daily rollup: the events count and every declared
    measure that adds up over days (see `Measure.adds_up_over_days`)."""
    columns = {"count(*)": f"{DAILY}count_all"}
    for metric in registry().metrics:
        for part, measure in (("num", metric.numerator), ("den", metric.denominator)):
            if measure is not None and measure.adds_up_over_days:
                columns.setdefault(measure_sql(measure, d), f"{DAILY}{metric.id}__{part}")
    return columns


# the rollup's columns are named apart from the sums read from them (`sum(daily__x) AS x`):
# ClickHouse would take a column named like its own sum's alias for the alias
DAILY = "daily__"


def counts_source(ctx: Context) -> tuple[str, str, Callable[[str], str]]:
    """Where counts and sums are read: (table, its day-aligned time column, aggregate -> SQL).
    From the rollup an aggregate is the sum of its daily column; from the events, itself."""
    if ctx.rolled:
        columns = rollup_columns(ctx.dialect)
        return ROLLUP, "day", lambda aggregate: f"sum({identifier(columns[aggregate])})"
    return EVENTS, "timestamp", lambda aggregate: aggregate


def rate_measures(metric: Metric, d: Dialect = DUCKDB) -> tuple[str, str]:
    """(numerator, denominator) SQL of a rate metric."""
    return measure_sql(metric.numerator, d), measure_sql(metric.denominator, d)


def counted_row(measure: Measure) -> str:
    """The condition under which one event counts towards a count measure."""
    if measure.kind == "count_of":
        return f"{measure.count_of} IS NOT NULL"
    if measure.kind != "count":
        raise ValueError("only a count measure says which rows it counts")
    return "true" if measure.count == "*" else f"({measure.count.format_map(SETTING_COLUMNS)})"


def measure_within(measure: Measure, condition: str, d: Dialect = DUCKDB) -> str:
    """The measure over only the rows meeting `condition` as well."""
    condition = condition.format_map(SETTING_COLUMNS)
    if measure.kind == "count":
        own = None if measure.count == "*" else measure.count.format_map(SETTING_COLUMNS)
        return d.count_if(condition if own is None else f"{condition} AND ({own})")
    return d.filtered(measure_sql(measure, d), condition)


def counting(ctx: Context, aggregates: Iterable[str]) -> Context:
    """The context to read these aggregates in: from the rollup only if it holds them all."""
    if ctx.rolled and not set(aggregates) <= set(rollup_columns(ctx.dialect)):
        return replace(ctx, rolled=False)
    return ctx


def period_start(ctx: Context, period: str | None, column_: str) -> str:
    """The start of the period holding `column_`, or one constant when there are no periods."""
    return ctx.dialect.trunc(period, column_) if period else ctx.dialect.no_period()


def systems_query(rolled: bool) -> Query:
    """Every system with events or incidents, by name."""
    table = ROLLUP if rolled else EVENTS
    return Query(f"SELECT system FROM (SELECT system FROM {table} GROUP BY system "
                 "UNION SELECT system FROM incidents GROUP BY system) ORDER BY system")


def newest_per_system_query(rolled: bool) -> Query:
    """(system, newest event time): to the day from the rollup, exact from the events."""
    table, time_column = (ROLLUP, "day") if rolled else (EVENTS, "timestamp")
    return Query(f"SELECT system, max({time_column}) FROM {table} GROUP BY system")


def newest_day_query() -> Query:
    return Query(f"SELECT CAST(max(timestamp) AS DATE) FROM {EVENTS}")
