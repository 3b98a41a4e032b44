"""The store's tables on ClickHouse, derived from the same column declarations as DuckDB's.

Events are a MergeTree partitioned by month and ordered by (system, timestamp), as ClickHouse
users keep logs; the small tables (settings, logs, sign-offs) are MergeTrees ordered by their
key. A ClickHouse store starts at the schema version DuckDB stores have reached; later versions
append their statements here, as DuckDB's do in schema.py.
"""

from __future__ import annotations

from ..sql.clickhouse import CLICKHOUSE, TIME
from .schema import INGEST_ID, KINDS, SCHEMA_VERSION, Column, Kind


def _column(c: Column) -> str:
    native = CLICKHOUSE.native_type(c.sql_type)
    sql_type = native if c.required else f"Nullable({native})"
    if c.kind == "choice":  # a handful of words: stored once each
        sql_type = f"LowCardinality({sql_type})"
    return f'"{c.name}" {sql_type}'


def _kind_table(kind: Kind, order_by: tuple[str, ...], partition: str) -> str:
    cols = ",\n  ".join([*(_column(c) for c in kind.columns),
                         f"{INGEST_ID} Nullable(String)"])
    return (f"CREATE TABLE IF NOT EXISTS {kind.table} (\n  {cols}\n) ENGINE = MergeTree "
            f"PARTITION BY {partition} ORDER BY ({', '.join(order_by)})")


def _table(name: str, columns: str, order_by: str = "tuple()", updated: bool = False) -> str:
    """A small MergeTree; an `updated` one takes UPDATE statements (lightweight updates)."""
    settings = (" SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1"
                if updated else "")
    return (f"CREATE TABLE IF NOT EXISTS {name} ({columns}) ENGINE = MergeTree "
            f"ORDER BY {order_by}{settings}")


_T = f"Nullable({TIME})"

FIRST_VERSION = 8  # the DuckDB schema version ClickHouse stores began at

# Each migration is (version, statements); a statement is SQL, or a function of the store for
# one that depends on what the store holds.
MIGRATIONS: list[tuple[int, list]] = [
    (
        FIRST_VERSION,
        [
            _table("store_meta", "key String, value Nullable(String)", "key"),
            _kind_table(KINDS["events"], ("system", "timestamp"), "toYYYYMM(timestamp)"),
            _kind_table(KINDS["incidents"], ("system", "started_at"), "toYYYYMM(started_at)"),
            _table("ingest_log", f"ingest_id String, recorded_at {TIME}, actor Nullable(String), "
                   "via Nullable(String), kind Nullable(String), file Nullable(String), "
                   "size_bytes Nullable(Int64), sha256 Nullable(String), rows_read Nullable(Int64),"
                   " inserted Nullable(Int64), duplicates Nullable(Int64), "
                   "rejected Nullable(Int64), status String, message Nullable(String), "
                   "conflicts Nullable(Int64)", "recorded_at"),
            _table("rejected_rows", "ingest_id String, kind String, file Nullable(String), "
                   "row_number Nullable(Int64), reason String, raw Nullable(String)",
                   "ingest_id"),
            _table("threshold_changes", f"recorded_at {TIME}, actor String, "
                   "system Nullable(String), metric String, old_value Nullable(String), "
                   "new_value Nullable(String), reason String", "recorded_at"),
            _table("signoffs", f"recorded_at {TIME}, actor String, question String, "
                   "system Nullable(String), status Nullable(String), note Nullable(String), "
                   "as_of Nullable(Date32)", "recorded_at"),
            _table("signins", f"recorded_at {TIME}, username String, role Nullable(String), "
                   "event String, client Nullable(String), detail Nullable(String)",
                   "recorded_at"),
            _table("ingest_undos", f"ingest_id String, recorded_at {TIME}, actor String, "
                   "via Nullable(String), reason String, events_removed Nullable(Int64), "
                   "incidents_removed Nullable(Int64)", "recorded_at"),
            _table("psi_baselines", f"scope String, b0 {_T}, b1 {_T}, n Nullable(Int64), "
                   "q Array(Float64), bins Array(Tuple(bin Int32, c Int64))", "scope"),
            _table("sessions", f"session_id String, token_hash String, username String, "
                   "role Nullable(String), credential Nullable(String), client Nullable(String),"
                   f" started_at {TIME}, last_seen_at {TIME}, expires_at {TIME}, ended_at {_T}, "
                   "ended_by Nullable(String), end_reason Nullable(String)", "session_id",
                   updated=True),
            _table("psi_daily", f"scope String, b0 {_T}, b1 {_T}, n Nullable(Int64), day {_T}, "
                   "bin Nullable(Int32), c Nullable(Int64)", "scope"),
            _table("calibrations", f"metric String, system Nullable(String), b0 {_T}, b1 {_T}, "
                   "n Nullable(Int64), events Nullable(Int64), xs Array(Float64), "
                   "ys Array(Float64)", "metric"),
        ],
    ),
]


def _add_slice_columns(store) -> None:
    """Version 9: release, team, feature and customer after outcome_at, where a new table has
    them. A store reading its events in place gets its view made again through its map."""
    from .in_place import in_place_map, link

    if store.events_in_place is not None:
        link(store, in_place_map(store))
        return
    after = "outcome_at"
    for c in KINDS["events"].columns:
        if c.since == 9:
            store._run(f'ALTER TABLE inference_events ADD COLUMN IF NOT EXISTS {_column(c)} '
                       f'AFTER "{after}"')
            after = c.name


MIGRATIONS.append((9, [_add_slice_columns]))
MIGRATIONS.append((10, [
    _table("digest_sends", f"recorded_at {TIME}, subscription String, period String, "
           "step String, claim String, runner Nullable(String), detail Nullable(String)",
           "(subscription, period, recorded_at)"),
]))
MIGRATIONS.append((11, [
    _table("retention_log", f"recorded_at {TIME}, actor String, via Nullable(String), "
           f"keep_days Int64, cutoff {TIME}, removed Nullable(String)", "recorded_at"),
]))
assert MIGRATIONS[-1][0] == SCHEMA_VERSION, "a DuckDB migration without its ClickHouse one"
