"""Scoring data where it already lives: a ClickHouse store whose events are another tool's rows
(Langfuse's observations, for one), read in place through a column map, never copied or
written.

The map names the source (a FROM clause: a table or view, with joins if the tool keeps what
the contract needs in several tables), which of its rows are decisions, and a ClickHouse
expression for each contract column. The store's `inference_events` becomes a view that types
each column as the contract does and leaves out the rows that break a contract rule; linking
says how many do, so nothing is left out unseen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import BadInput, ScorecardError
from ..sql import identifier, literal_list
from ..sql.clickhouse import CLICKHOUSE
from . import records
from .schema import EVENT_COLUMNS, INGEST_ID, Column

META_KEY = "events_in_place"  # store_meta: the map the events are read through, as JSON


class InPlaceMap(BaseModel):
    """Where the events live and how each contract column is read from them."""

    model_config = ConfigDict(extra="forbid")

    source: str  # a FROM clause in ClickHouse SQL
    where: str | None = None  # which of its rows are decisions
    columns: dict[str, str]  # contract column -> ClickHouse expression over the source

    @field_validator("columns")
    @classmethod
    def _known_and_complete(cls, columns: dict[str, str]) -> dict[str, str]:
        known = {c.name for c in EVENT_COLUMNS}
        unknown = sorted(set(columns) - known)
        if unknown:
            raise ValueError(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not "
                             "a contract column")
        missing = [c.name for c in EVENT_COLUMNS if c.required and c.name not in columns]
        if missing:
            raise ValueError(f"it maps no {', '.join(missing)} (each required column needs one)")
        return columns

    @classmethod
    def load(cls, path: Path) -> "InPlaceMap":
        from ..settings import read_yaml

        if not path.is_file():
            raise BadInput(f"There is no map file at {path}.")
        try:
            return cls.model_validate(read_yaml(path) or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the file"
            raise BadInput(f"{path.name} cannot be used: {where}: "
                           f"{first['msg'].removeprefix('Value error, ')}.") from None


def _typed(column: Column, expression: str | None) -> str:
    """The contract column from its expression, typed as the contract types it (a missing
    number is NULL, not NaN)."""
    if expression is None:
        return CLICKHOUSE.typed_null(column.sql_type)
    value = f"CAST(({expression}) AS Nullable({CLICKHOUSE.native_type(column.sql_type)}))"
    if column.kind == "float":
        value = f"nullIf({value}, nan)"
    return value


def _rule(column: Column) -> str | None:
    """ClickHouse SQL true for a value that keeps the column's contract rule."""
    name, checks = identifier(column.name), []
    if column.choices:
        checks.append(f"{name} IN {literal_list(column.choices)}")
    if column.non_negative:
        checks.append(f"{name} >= 0")
    if column.unit_interval:
        checks.append(f"{name} BETWEEN 0 AND 1")
    if column.kind in ("text", "choice"):
        checks.append(f"length({name}) <= {int(column.max_length)}")
    if column.required:
        present = f"{name} IS NOT NULL" + (f" AND {name} <> ''" if column.kind == "text" else "")
        return " AND ".join([present, *checks])
    return f"({name} IS NULL OR ({' AND '.join(checks)}))" if checks else None


def mapped_rows(m: InPlaceMap) -> str:
    """Every source row the map names, as contract columns (before the rules)."""
    columns = ", ".join(f"{_typed(c, m.columns.get(c.name))} AS {identifier(c.name)}"
                        for c in EVENT_COLUMNS)
    where = f" WHERE {m.where}" if m.where else ""
    return (f"SELECT {columns}, CAST(NULL AS Nullable(String)) AS {INGEST_ID} "
            f"FROM {m.source}{where}")


OUTSIDE_FUNCTIONS = {"file"}  # scalar functions that read beyond the store (a server's files)


def reaching_outside(store, sql: str) -> str | None:
    """What in `sql` would read beyond the store's tables, by ClickHouse's own parse of it: a
    table function (file, url, s3, remote, ...) anywhere in a FROM, or a scalar function that
    reads files; None when it reads tables and views only."""
    lines = [line for (line,) in store.query(f"EXPLAIN AST {sql}")]
    for i, line in enumerate(lines):
        name = line.strip().split(" ")
        if name[0] != "Function" or len(name) < 2:
            continue
        parent = lines[i - 1].strip() if i else ""
        if parent.startswith("TableExpression"):
            return f"the table function {name[1]}()"
        if name[1] in OUTSIDE_FUNCTIONS:
            return f"the function {name[1]}()"
    return None


def keeping_the_rules() -> str:
    return " AND ".join(r for r in (_rule(c) for c in EVENT_COLUMNS) if r)


@dataclass(frozen=True)
class Linked:
    source_rows: int
    breaking_rules: int


def link(store, m: InPlaceMap) -> Linked:
    """Read the store's events in place through `m`. Refused when the store holds loaded
    events (they would be hidden) or when the map's SQL does not run."""
    if store.dialect.name != "clickhouse":
        raise BadInput("Events are read in place only from ClickHouse; give a chdb:// or "
                       "clickhouse:// store.")
    mapped = mapped_rows(m)
    try:
        outside = reaching_outside(store, mapped)
    except ScorecardError as exc:
        raise BadInput(f"The map's SQL does not parse: "
                       f"{str(exc).split('refused a query: ', 1)[-1]}") from None
    if outside:
        raise BadInput(f"The map may name tables, views and column expressions only; it uses "
                       f"{outside}, which reads beyond the store.")
    try:
        counts = store.query(f"SELECT count(*), count(*) FILTER (WHERE NOT ({keeping_the_rules()}"
                             f")) FROM ({mapped})")[0]
    except ScorecardError as exc:
        raise BadInput(f"The map's SQL does not run on this store: "
                       f"{str(exc).split('refused a query: ', 1)[-1]}") from None
    if store.events_in_place is None:
        loaded = store.scalar("SELECT count(*) FROM inference_events")
        if loaded:
            raise BadInput(f"The store holds {loaded:,} loaded events, which reading in place "
                           "would hide; link a new store.")
    with store.transaction() as cur:
        cur.execute("DROP TABLE IF EXISTS inference_events")
        cur.execute("DROP VIEW IF EXISTS inference_events")
        cur.execute(f"CREATE VIEW inference_events AS SELECT * FROM ({mapped}) "
                    f"WHERE {keeping_the_rules()}")
        store.set_meta(META_KEY, m.model_dump_json())
    return Linked(int(counts[0]), int(counts[1]))


def in_place_map(store) -> InPlaceMap | None:
    """The map a store reads its events through, or None when it holds them itself."""
    text = records.meta(store, META_KEY)
    return InPlaceMap.model_validate(json.loads(text)) if text else None
