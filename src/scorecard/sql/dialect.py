"""What differs from one SQL engine to another, and nowhere else. DuckDB is the first dialect;
another engine gets a subclass that renders the same pieces its own way."""

from __future__ import annotations

from datetime import date, datetime

from .quoting import literal

PERIODS = ("day", "week", "month")


class Dialect:
    """The DuckDB rendering of every engine-specific piece the metric queries use."""

    name = "duckdb"
    # whether the scorecard keeps derived tables (daily rollup, PSI bins, calibrations) in
    # this engine's stores, refreshed after each write; without them queries read the events
    keeps_derived_tables = True
    # how the daily rollup keeps up with new events: "rows", the scorecard adds the rows past
    # those it covers after each write (by row position); or "view", the engine feeds it on
    # every insert (`fed_rollup`)
    rollup_fed_by = "rows"

    # -- types and values -------------------------------------------------------------------

    def double(self, expr: str) -> str:
        return f"({expr})::DOUBLE"

    def as_int(self, expr: str) -> str:
        return f"({expr})::INT"

    def typed_null(self, sql_type: str) -> str:
        return f"NULL::{sql_type}"

    def timestamp(self, value: date | datetime) -> str:
        return f"TIMESTAMP {literal(value.isoformat())}"

    def literal(self, value) -> str:
        """A value as this engine reads it written in the SQL text (a backslash is itself)."""
        return literal(value)

    def literal_list(self, values) -> str:
        """A parenthesised list of literals for IN (never empty)."""
        items = [self.literal(v) for v in values]
        if not items:
            raise ValueError("An SQL list needs at least one value.")
        return "(" + ", ".join(items) + ")"

    def retention_ttl(self, columns: dict[str, str], days: int) -> list[str]:
        """Statements that make the engine itself drop rows past the retention (none here:
        DuckDB has no TTL, so `scorecard retention` runs from a schedule)."""
        return []

    def now(self) -> str:
        """The engine's clock, as a UTC timestamp (the store's times are naive UTC)."""
        return "CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)"

    def no_period(self) -> str:
        """The period start of rows when there are no periods: one constant time."""
        return self.timestamp(date(1970, 1, 1))

    def values_cte(self, name: str, columns: list[tuple[str, str]], rows: list[list[str]]) -> str:
        """A CTE of literal rows; `columns` are (name, SQL type). A first all-NULL row gives the
        columns their types (and makes an empty table possible)."""
        typed = ", ".join(self.typed_null(sql_type) for _, sql_type in columns)
        body = ", ".join([f"({typed})", *(f"({', '.join(row)})" for row in rows)])
        return f"{name}({', '.join(c for c, _ in columns)}) AS (VALUES {body})"

    def lists_cte(self, name: str, columns: list[tuple[str, str]]) -> str:
        """A CTE whose rows zip list parameters, `$<name>_<column>` for each (column, SQL type):
        many rows without writing each value into the text."""
        items = ", ".join(f"unnest(CAST(${name}_{c} AS {t}[])) AS {c}" for c, t in columns)
        return f"{name} AS (SELECT {items})"

    # -- aggregates -------------------------------------------------------------------------

    def count_if(self, condition: str | None) -> str:
        """count(*) of the rows meeting `condition` (all rows when None)."""
        return "count(*)" if condition is None else f"count(*) FILTER (WHERE {condition})"

    def filtered(self, aggregate: str, condition: str) -> str:
        return f"{aggregate} FILTER (WHERE {condition})"

    def quantile(self, expr: str, q: float) -> str:
        """The linear-interpolated quantile (numpy's default)."""
        return f"quantile_cont({expr}, {q})"

    def quantiles(self, expr: str, qs: list[float]) -> str:
        """A list of quantiles in one sort; `item(list, i)` reads the i-th (from 1)."""
        return f"quantile_cont({expr}, [{', '.join(str(q) for q in qs)}])"

    def distinct_sorted_quantiles(self, expr: str, qs: list[float]) -> str:
        return f"list_sort(list_distinct({self.quantiles(expr, qs)}))"

    def item(self, array: str, position: int | str) -> str:
        return f"{array}[{position}]"

    def length(self, array: str) -> str:
        return f"len({array})"

    def arg_min(self, arg: str, value: str) -> str:
        return f"arg_min({arg}, {value})"

    def arg_max(self, arg: str, value: str) -> str:
        return f"arg_max({arg}, {value})"

    def var_samp(self, expr: str) -> str:
        return f"var_samp({expr})"

    def covar_samp(self, x: str, y: str) -> str:
        return f"covar_samp({x}, {y})"

    def stddev(self, expr: str) -> str:
        return f"stddev_samp({expr})"

    def round_half_even(self, expr: str) -> str:
        """`expr` rounded to a whole number, halves to the even one (as numpy rounds)."""
        return f"round_even({expr}, 0)"

    # -- time -------------------------------------------------------------------------------

    @staticmethod
    def _period(period: str) -> str:
        """The period, checked: it is written into the SQL."""
        if period not in PERIODS:
            raise ValueError(f"Period must be one of {', '.join(PERIODS)}, not {period!r}.")
        return period

    def trunc(self, period: str, expr: str) -> str:
        """The start of the day, ISO week (Monday) or month holding `expr`."""
        return f"date_trunc({literal(self._period(period))}, {expr})"

    def add_days(self, expr: str, days: int) -> str:
        return f"{expr} + INTERVAL {int(days)} DAY"

    def minus_days(self, expr: str, days: int) -> str:
        return f"{expr} - INTERVAL {int(days)} DAY"

    def plus_one(self, period: str, expr: str) -> str:
        """`expr` moved on by one period."""
        return f"{expr} + INTERVAL 1 {self._period(period)}"

    def row_position(self) -> str:
        """A row's place in its table, growing as rows are appended."""
        return "rowid"

    def fed_rollup(self, table: str, feeder: str, select: str) -> list[str]:
        """Statements making `table`, summed by (system, day), fed by the view `feeder` with
        `select` over every insert into the events (where `rollup_fed_by` is "view")."""
        raise NotImplementedError(f"{self.name} rollups are kept by row position")

    def trailing_days_sum(self, expr: str, partition: str, day: str, days: int) -> str:
        """The sum of `expr` over the rows of the same `partition` whose `day` lies within the
        `days` days ending at this row's (a window function over daily rows)."""
        return (f"sum({expr}) OVER (PARTITION BY {partition} ORDER BY {day} RANGE BETWEEN "
                f"INTERVAL {int(days) - 1} DAY PRECEDING AND CURRENT ROW)")

    def epoch_us(self, expr: str) -> str:
        return f"epoch_us({expr})"

    def minutes_between(self, start: str, end: str) -> str:
        return f"epoch({end} - {start}) / 60"

    def days_between(self, start: str, end: str) -> str:
        return f"datediff('day', {start}, {end})"

    # -- writing ----------------------------------------------------------------------------

    def keep_meta(self) -> list[str]:
        """Statements that keep `$value` under `$key` in store_meta, replacing any value."""
        return ["INSERT OR REPLACE INTO store_meta VALUES ($key, $value)"]

    def contains(self, array: str, item: str) -> str:
        return f"list_contains({array}, {item})"

    # -- query shape ------------------------------------------------------------------------

    def inline_cte(self, name: str, body: str) -> str:
        """A CTE the engine should fold into its readers rather than compute once."""
        return f"{name} AS NOT MATERIALIZED ({body})"

    def shared_cte(self, name: str, body: str) -> str:
        """A CTE read several times, computed once. DuckDB decides that itself, and well."""
        return f"{name} AS ({body})"

    def bins_from(self, array: str) -> str:
        """0..len(array): one row per bin (set-returning)."""
        return f"unnest(range({self.length(array)} + 1))"

    def pack_bins(self, bin_: str, count: str) -> str:
        """An aggregate: the (bin, c) pairs as one list, in bin order."""
        return f"list({{'bin': {bin_}, 'c': {count}}} ORDER BY {bin_})"

    def unpack(self, packed: str) -> str:
        """One row per element of a packed list (set-returning); fields read as `.bin`, `.c`."""
        return f"unnest({packed})"


DUCKDB = Dialect()
