"""The ClickHouse rendering of the dialect's pieces, and of a query's parameters: ClickHouse
binds `{name:Type}` where DuckDB binds `$name` and `?`. The same text reaches chDB and a server."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Mapping, Sequence

from .dialect import Dialect
from .quoting import literal

# session settings that make ClickHouse answer as standard SQL (and DuckDB) does: an aggregate
# over no rows is NULL, an outer join's missing side is NULL, a bare UNION removes repeats, a
# CAST keeps a NULL, and every time is read and written in UTC
SETTINGS: dict[str, Any] = {
    "aggregate_functions_null_for_empty": 1,
    "join_use_nulls": 1,
    "union_default_mode": "DISTINCT",
    "session_timezone": "UTC",
    "cast_keep_nullable": 1,
    "enable_materialized_cte": 1,  # see ClickHouseDialect.shared_cte
}

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$([A-Za-z_]\w*)|(\?)")
TIME = "DateTime64(6, 'UTC')"


def type_of(value: Any) -> str:
    """The ClickHouse type a Python parameter value is bound as."""
    if value is None:
        return "Nullable(String)"
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, datetime):
        return TIME
    if isinstance(value, date):
        return "Date32"
    if isinstance(value, (list, tuple)):
        inner = next((v for v in value if v is not None), None)
        return f"Array({'Nullable(String)' if inner is None else _nullable(type_of(inner))})"
    return "String"


def _nullable(sql_type: str) -> str:
    return sql_type if sql_type.startswith(("Nullable", "Array")) else f"Nullable({sql_type})"


_ESCAPED = ("\\", "'", "`", "\t", "\n")


def escaped(text: str) -> str:
    """Text as ClickHouse reads a parameter's value (its escaped form: a backslash before a
    backslash, quote, backtick, tab or newline)."""
    return "".join("\\" + c if c in _ESCAPED else c for c in text)


def bound_value(value: Any) -> Any:
    """A parameter value as the transports take it: a time as its UTC text, a list item by
    item (chDB is given `as_parameter_text` of it; clickhouse-connect writes it so itself)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [bound_value(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def as_parameter_text(value: Any) -> Any:
    """A bound value as the text ClickHouse parses a parameter from: text escaped, a list as an
    array literal of quoted items (what clickhouse-connect sends a server for the same value)."""
    if isinstance(value, str):
        return escaped(value)
    if isinstance(value, list):
        return "[" + ", ".join("NULL" if v is None else f"'{escaped(v)}'" if isinstance(v, str)
                               else str(v) for v in value) + "]"
    return value


def render(text: str, params: Mapping[str, Any] | Sequence[Any] | None) -> tuple[str, dict]:
    """The text with each `$name` and `?` placeholder as a typed ClickHouse parameter, and the
    parameters as ClickHouse reads them. A NULL parameter is written as NULL."""
    params = params or {}
    positional = list(params) if isinstance(params, (list, tuple)) else None
    named = {} if positional is not None else dict(params)
    bound: dict[str, Any] = {}
    count = 0

    def place(match: re.Match) -> str:
        nonlocal count
        if match.group(1) is None and match.group(2) is None:
            return match.group(0)  # a quoted string or name: left as written
        if match.group(2) is not None:
            if positional is None or count >= len(positional):
                raise ValueError("The query has more ? placeholders than parameters.")
            name, value = f"p{count}", positional[count]
            count += 1
        else:
            name, value = match.group(1), named[match.group(1)]
        if value is None:
            return "NULL"
        bound[name] = bound_value(value)
        return f"{{{name}:{type_of(value)}}}"

    out = _TOKENS.sub(place, text)
    return out, bound


class ClickHouseDialect(Dialect):
    """ClickHouse's rendering of the pieces the metric queries share with DuckDB."""

    name = "clickhouse"
    rollup_fed_by = "view"  # a materialized view: every insert, from any writer, feeds it

    def double(self, expr: str) -> str:
        return f"toFloat64({expr})"

    def as_int(self, expr: str) -> str:
        return f"toInt32({expr})"

    def typed_null(self, sql_type: str) -> str:
        return f"CAST(NULL AS Nullable({self.native_type(sql_type)}))"

    @staticmethod
    def native_type(sql_type: str) -> str:
        """A DuckDB type name (as the declarations write them) in ClickHouse's words."""
        if sql_type.endswith("[]"):
            return f"Array({ClickHouseDialect.native_type(sql_type[:-2])})"
        return {"VARCHAR": "String", "DOUBLE": "Float64", "BIGINT": "Int64", "INTEGER": "Int32",
                "INT": "Int32", "BOOLEAN": "Bool", "TIMESTAMP": TIME, "DATE": "Date32"}[
            sql_type.upper()]

    def timestamp(self, value: date | datetime) -> str:
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        return f"toDateTime64({literal(value.isoformat(sep=' '))}, 6, 'UTC')"

    def now(self) -> str:
        return "now64(6, 'UTC')"

    def literal(self, value) -> str:
        # ClickHouse reads a backslash in quoted text as an escape: doubled, it is itself
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
        return literal(value)

    def retention_ttl(self, columns: dict[str, str], days: int) -> list[str]:
        # whole UTC days, as `scorecard retention` counts: a row goes once the day it belongs
        # to is more than `days` days before today
        return [f"ALTER TABLE {table} MODIFY TTL toStartOfDay(toDateTime({column}, 'UTC')) "
                f"+ INTERVAL {int(days) + 1} DAY" for table, column in columns.items()]

    def lists_cte(self, name: str, columns: list[tuple[str, str]]) -> str:
        arrays = ", ".join(f"CAST(${name}_{c} AS Array({self._item_type(t)}))"
                           for c, t in columns)
        items = ", ".join(f"t.{i + 1} AS {c}" for i, (c, _) in enumerate(columns))
        return f"{name} AS (SELECT {items} FROM (SELECT arrayJoin(arrayZip({arrays})) AS t))"

    def _item_type(self, sql_type: str) -> str:
        """The type of a list parameter's items: NULL allowed, except in a list of lists."""
        native = self.native_type(sql_type)
        return native if sql_type.endswith("[]") else f"Nullable({native})"

    def quantile(self, expr: str, q: float) -> str:
        return f"quantileExactInclusive({float(q)})({expr})"

    def quantiles(self, expr: str, qs: list[float]) -> str:
        listed = ", ".join(str(float(q)) for q in qs)  # NULL, not NaNs, over no values
        return f"if(count({expr}) > 0, quantilesExactInclusive({listed})({expr}), NULL)"

    def distinct_sorted_quantiles(self, expr: str, qs: list[float]) -> str:
        return f"arraySort(arrayDistinct({self.quantiles(expr, qs)}))"

    def length(self, array: str) -> str:
        return f"length({array})"

    def arg_min(self, arg: str, value: str) -> str:
        return f"argMin({arg}, {value})"

    def arg_max(self, arg: str, value: str) -> str:
        return f"argMax({arg}, {value})"

    def var_samp(self, expr: str) -> str:
        return f"varSamp({expr})"

    def covar_samp(self, x: str, y: str) -> str:
        return f"covarSamp({x}, {y})"

    def stddev(self, expr: str) -> str:
        return f"stddevSamp({expr})"

    def round_half_even(self, expr: str) -> str:
        return f"roundBankers({expr}, 0)"

    def trunc(self, period: str, expr: str) -> str:
        start = {"day": "toStartOfDay({})", "week": "toMonday({})",
                 "month": "toStartOfMonth({})"}[self._period(period)].format(expr)
        return f"toDateTime64({start}, 6, 'UTC')"

    def add_days(self, expr: str, days: int) -> str:
        return f"addDays({expr}, {int(days)})"

    def minus_days(self, expr: str, days: int) -> str:
        return f"subtractDays({expr}, {int(days)})"

    def plus_one(self, period: str, expr: str) -> str:
        function = {"day": "addDays", "week": "addWeeks", "month": "addMonths"}
        return f"{function[self._period(period)]}({expr}, 1)"

    def row_position(self) -> str:
        raise NotImplementedError("ClickHouse tables have no row position; its rollup is fed "
                                  "by a materialized view and its PSI bins are counted anew.")

    def fed_rollup(self, table: str, feeder: str, select: str) -> list[str]:
        # SummingMergeTree adds up the rows of a (system, day) as it merges parts; readers
        # sum them anyway, so unmerged parts read the same
        return [f"DROP VIEW IF EXISTS {feeder}", f"DROP TABLE IF EXISTS {table}",
                f"CREATE TABLE {table} ENGINE = SummingMergeTree ORDER BY (system, day) "
                f"EMPTY AS {select}",
                f"CREATE MATERIALIZED VIEW {feeder} TO {table} AS {select}"]

    def trailing_days_sum(self, expr: str, partition: str, day: str, days: int) -> str:
        return (f"sum({expr}) OVER (PARTITION BY {partition} ORDER BY toDate32({day}) RANGE "
                f"BETWEEN {int(days) - 1} PRECEDING AND CURRENT ROW)")

    def epoch_us(self, expr: str) -> str:
        return f"toUnixTimestamp64Micro({expr})"

    def minutes_between(self, start: str, end: str) -> str:
        return (f"(toUnixTimestamp64Micro({end}) - toUnixTimestamp64Micro({start})) "
                "/ 60000000")

    def days_between(self, start: str, end: str) -> str:
        return f"dateDiff('day', {start}, {end})"

    def keep_meta(self) -> list[str]:
        # a lightweight delete, then the new row: store_meta is a plain MergeTree by key
        return ["DELETE FROM store_meta WHERE key = $key",
                "INSERT INTO store_meta VALUES ($key, $value)"]

    def contains(self, array: str, item: str) -> str:
        return f"has({array}, {item})"

    def inline_cte(self, name: str, body: str) -> str:
        return f"{name} AS ({body})"

    def shared_cte(self, name: str, body: str) -> str:
        # ClickHouse computes a plain CTE again at each reference (the PSI at 50M events:
        # 62 s plain, 6.7 s with its shared parts computed once)
        return f"{name} AS MATERIALIZED ({body})"

    def bins_from(self, array: str) -> str:
        return f"toInt64(arrayJoin(range(toUInt64({self.length(array)} + 1))))"

    def pack_bins(self, bin_: str, count: str) -> str:
        return (f"arraySort(x -> x.1, groupArray(CAST(({bin_}, {count}) AS "
                "Tuple(bin Int32, c Int64))))")

    def unpack(self, packed: str) -> str:
        return f"arrayJoin({packed})"


CLICKHOUSE = ClickHouseDialect()
