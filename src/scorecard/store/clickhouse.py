"""The ClickHouse store: the same reading and writing surface as the DuckDB store, over chDB
(ClickHouse in this process, `chdb://DIR`) or a server over HTTP (`clickhouse://...`). The SQL
is the same on both; only the transport differs.

ClickHouse has no transactions across statements: a write is a sequence of statements, each
atomic on its own. A load is checked whole before any of it is sent (loading_room.py), and a
send cut short is taken back, but a reader can see part of a large load while it is sent.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ..errors import ScorecardError
from ..processes import alive
from ..sql import Query, identifier
from ..sql.clickhouse import CLICKHOUSE, SETTINGS, as_parameter_text, render
from .schema import SCHEMA_VERSION
from .schema_clickhouse import MIGRATIONS
from .undo import remove_ingest_rows

SENDING = "sending:"  # store_meta key of a load on its way: SENDING + ingest id
SENT_BY_A_LOAD = ("inference_events", "incidents", "rejected_rows", "ingest_log")

_ROWS = re.compile(r"\s*\(*\s*(SELECT|WITH|DESCRIBE|SHOW|EXPLAIN)\b", re.IGNORECASE)


def _statement(sql: str | Query, params) -> tuple[str, dict]:
    if isinstance(sql, Query):
        return render(sql.text, sql.params)
    return render(sql, params)


def _first_line(exc: Exception) -> str:
    """The engine's own words, shortened to the sentence a person needs."""
    text = str(exc).strip()
    if "Connection refused" in text or "Name or service not known" in text \
            or "timed out" in text.lower():
        return "no server answered there (is it running, and is the address right?)"
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split(" (version ")[0].rstrip(".")


def _naive(table):
    """An Arrow table as DuckDB's would read: times in UTC without a zone, and the words of a
    LowCardinality column as plain text."""
    import pyarrow as pa

    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            column = column.cast(pa.timestamp(field.type.unit))
        elif pa.types.is_dictionary(field.type):
            column = column.cast(field.type.value_type)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _escaped(params: dict) -> dict:
    """Parameters as the text ClickHouse parses them from (clickhouse-connect writes the same
    for a server)."""
    return {k: as_parameter_text(v) for k, v in params.items()}


class ChdbTransport:
    """ClickHouse in this process, its data in a folder."""

    def __init__(self, folder: Path, read_only: bool) -> None:
        import chdb

        folder = folder.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        settings = "&".join(f"{k}={v}" for k, v in SETTINGS.items())
        self._conn = chdb.connect(f"file:{folder}?{settings}" + ("&mode=ro" if read_only else ""))
        self._lock = threading.Lock()  # one statement at a time on the connection

    def arrow(self, text: str, params: dict):
        with self._lock:
            return self._conn.query(text, "ArrowTable", params=_escaped(params))

    def command(self, text: str, params: dict) -> None:
        with self._lock:
            self._conn.query(text, "Null", params=_escaped(params))

    def insert_arrow(self, table: str, data) -> None:
        """Append an Arrow table's rows to `table` (columns by name)."""
        with self._lock:
            self._conn.query(f"INSERT INTO {table} ({', '.join(data.column_names)}) "
                             "SELECT * FROM Python(data)", "Null")

    def insert_file(self, table: str, path: Path, columns: list[str]) -> None:
        """Append the rows of an Arrow stream file, read by ClickHouse itself."""
        names = ", ".join(identifier(c) for c in columns)
        with self._lock:  # the parts of the insert sorted and written on every core
            self._conn.query(f"INSERT INTO {table} ({names}) SELECT {names} FROM "
                             f"file({CLICKHOUSE.literal(str(path))}, ArrowStream) "
                             f"SETTINGS max_insert_threads = {os.cpu_count() or 1}", "Null")

    def close(self) -> None:
        self._conn.close()


class HttpTransport:
    """A ClickHouse server or cluster over HTTP, through clickhouse-connect."""

    def __init__(self, address: "ClickHouseAddress", password: str | None) -> None:
        import logging

        import clickhouse_connect

        # its failures reach the person as our one sentence, not also as its log lines
        logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)

        self._client = clickhouse_connect.get_client(
            host=address.host, port=address.port, username=address.user,
            password=password or "", database=address.database,
            settings=SETTINGS,
            autogenerate_session_id=False)

    def arrow(self, text: str, params: dict):
        return self._client.query_arrow(text, parameters=params, use_strings=True)

    def command(self, text: str, params: dict) -> None:
        self._client.command(text, parameters=params)

    def insert_arrow(self, table: str, data) -> None:
        self._client.insert_arrow(table, data)

    def insert_file(self, table: str, path: Path, columns: list[str]) -> None:
        """Stream an Arrow stream file to the server, which reads it as one insert."""
        with open(path, "rb") as data:
            self._client.raw_insert(table, columns, insert_block=data, fmt="ArrowStream")

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class ClickHouseAddress:
    """Where a ClickHouse store is: a chDB folder, or a server's user, host, port and database."""

    folder: Path | None = None
    user: str = "default"
    host: str = "localhost"
    port: int = 8123
    database: str = "default"

    def __str__(self) -> str:
        if self.folder is not None:
            return f"chdb://{self.folder}"
        return f"clickhouse://{self.user}@{self.host}:{self.port}/{self.database}"


class Result:
    """A statement's rows, read as a DuckDB cursor's are (fetchone, fetchall, description)."""

    def __init__(self, table) -> None:
        self._table = table
        self.description = [(name,) for name in (table.column_names if table else [])]
        self._rows: list[tuple] | None = None

    def _all(self) -> list[tuple]:
        if self._rows is None:
            data = self._table.to_pydict() if self._table is not None else {}
            self._rows = list(zip(*data.values())) if data else []
        return self._rows

    def fetchall(self) -> list[tuple]:
        return self._all()

    def fetchone(self) -> tuple | None:
        rows = self._all()
        return rows[0] if rows else None

    def df(self):
        return self._table.to_pandas()


class Writer:
    """What a write runs its statements through: `execute(sql, params)` as a DuckDB cursor."""

    def __init__(self, store: "ClickHouseStore") -> None:
        self._store = store

    def execute(self, sql: str | Query, params=None) -> Result:
        return self._store._run(sql, params)


class ClickHouseStore:
    """The scorecard's tables in ClickHouse."""

    def __init__(self, address: ClickHouseAddress, *, read_only: bool = False,
                 password: str | None = None, room_settings: dict | None = None) -> None:
        self.address = address
        self.room_settings = room_settings or {}  # DuckDB's, for the room loads are checked in
        self.path = str(address)
        self.read_only = read_only
        self._write_lock = threading.RLock()
        try:
            if address.folder is not None:
                if read_only and not address.folder.exists():
                    raise ScorecardError(f"There is no store at {address}; ingest a file into "
                                         "it first.")
                self._transport = ChdbTransport(address.folder, read_only)
            else:
                self._transport = HttpTransport(address, password)
            self._check_or_migrate()
            if not read_only:
                self.remove_sends_cut_short()
        except ScorecardError:
            raise
        except Exception as exc:  # the engine's own words, as one sentence
            raise ScorecardError(f"The ClickHouse store {address} could not be opened: "
                                 f"{_first_line(exc)}.") from None

    @property
    def dialect(self):
        from ..sql.clickhouse import CLICKHOUSE

        return CLICKHOUSE

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "ClickHouseStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------------

    def _run(self, sql: str | Query, params=None) -> Result:
        text, bound = _statement(sql, params)
        try:
            if _ROWS.match(text):
                return Result(_naive(self._transport.arrow(text, bound)))
            self._transport.command(text, bound)
            return Result(None)
        except Exception as exc:
            raise ScorecardError(f"The ClickHouse store {self.address} refused a query: "
                                 f"{_first_line(exc)}.") from exc

    def cursor(self) -> Writer:
        """Statements run one by one, as a DuckDB cursor runs them."""
        return Writer(self)

    def query(self, sql: str | Query, params=None) -> list[tuple]:
        return self._run(sql, params).fetchall()

    def query_dicts(self, sql: str | Query, params=None) -> list[dict]:
        result = self._run(sql, params)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]

    def query_df(self, sql: str | Query, params=None):
        return self._run(sql, params).df()

    def scalar(self, sql: str | Query, params=None) -> Any:
        row = self._run(sql, params).fetchone()
        return row[0] if row else None

    @property
    def events_in_place(self):
        """The map this store reads its events through from another tool's table, if any."""
        from .in_place import in_place_map

        return in_place_map(self)

    def checkpoint(self) -> None:
        """ClickHouse writes each insert's parts whole: nothing to fold in."""

    def data_version(self) -> int:
        return int(self.meta("data_version") or 0)

    def meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM store_meta WHERE key = ? LIMIT 1", [key])

    # -- writing ----------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        for statement in self.dialect.keep_meta():
            self._run(statement, {"key": key, "value": value})

    # -- loads cut short --------------------------------------------------------------------

    def begin_send(self, ingest_id: str) -> None:
        """Mark a load's rows as on their way: until end_send, a process that dies sending
        them (kill -9, a power cut) leaves a mark that says whose rows they are."""
        self.set_meta(SENDING + ingest_id, json.dumps({
            "host": socket.gethostname(), "pid": os.getpid(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}))

    def end_send(self, ingest_id: str) -> None:
        self._run("DELETE FROM store_meta WHERE key = ?", [SENDING + ingest_id])

    def sends_in_flight(self) -> dict[str, dict]:
        """The loads being sent, or cut short: ingest id -> who was sending it."""
        rows = self.query("SELECT key, value FROM store_meta WHERE startsWith(key, ?)",
                          [SENDING])
        return {key[len(SENDING):]: json.loads(value or "{}") for key, value in rows}

    def take_back_send(self, ingest_id: str, actor: str, via: str, reason: str) -> dict:
        """Remove every row a load cut short had sent, and record it as taken back."""
        with self.transaction() as cur:
            removed = remove_ingest_rows(cur, SENT_BY_A_LOAD, ingest_id, actor, via, reason)
        self.end_send(ingest_id)
        return removed

    def remove_sends_cut_short(self) -> None:
        """At opening: the rows of loads whose sending process on this machine has died are
        removed (a load is all or nothing). A load sent from another machine cannot be
        judged from here: `scorecard ingest --undo ID` removes it."""
        for ingest_id, sender in self.sends_in_flight().items():
            if sender.get("host") == socket.gethostname() and not alive(sender.get("pid")):
                self.take_back_send(ingest_id, "scorecard", "recovery",
                                    f"the load started {sender.get('started')} was cut short "
                                    f"(its process {sender.get('pid')} ended before it finished)")

    @contextmanager
    def transaction(self, changes_data: bool = True) -> Iterator[Writer]:
        """A write's statements, one after another (ClickHouse has no transactions); a write
        that changes the data moves the data version on when it has finished."""
        if self.read_only:
            raise ScorecardError(f"The store {self.address} is open for reading only here, so "
                                 "nothing can be saved to it.")
        with self._write_lock:
            yield Writer(self)
            if changes_data:
                self.set_meta("data_version", str(self.data_version() + 1))

    def replace_rows(self, table: str, rows: Query, key: tuple[str, ...] | None,
                     meta: dict[str, str] | None = None) -> None:
        """The rows of `rows` take the place of the rows of `table` with the same `key` (with
        no key, of every row), and `meta` is kept: derived data only. The rows are computed
        once, into a scratch table of the same columns, before anything is deleted."""
        name, scratch = identifier(table), f"_replacing_{uuid.uuid4().hex}"
        with self.transaction(changes_data=False) as cur:
            cur.execute(f"CREATE TABLE {scratch} AS {name} ENGINE = Memory")
            try:
                cur.execute(f"INSERT INTO {scratch} {rows.text}", dict(rows.params))
                if key is None:
                    cur.execute(f"TRUNCATE TABLE {name}")
                else:
                    columns = ", ".join(identifier(c) for c in key)
                    cur.execute(f"DELETE FROM {name} WHERE ({columns}) IN "
                                f"(SELECT {columns} FROM {scratch})")
                cur.execute(f"INSERT INTO {name} SELECT * FROM {scratch}")
            finally:
                cur.execute(f"DROP TABLE IF EXISTS {scratch}")
        for meta_key, value in (meta or {}).items():
            self.set_meta(meta_key, value)

    def insert_arrow(self, table: str, data) -> None:
        try:
            self._transport.insert_arrow(table, data)
        except Exception as exc:
            raise ScorecardError(f"The ClickHouse store {self.address} refused rows for "
                                 f"{table}: {_first_line(exc)}.") from exc

    def insert_file(self, table: str, path: Path, columns: list[str]) -> None:
        """Append the rows of an Arrow stream file (columns by name)."""
        try:
            self._transport.insert_file(table, path, columns)
        except Exception as exc:
            raise ScorecardError(f"The ClickHouse store {self.address} refused rows for "
                                 f"{table}: {_first_line(exc)}.") from exc

    def matching_rows(self, table: str, key: tuple[str, ...], keys):
        """The rows of `table` whose `key` columns equal one row of the Arrow table `keys`
        (ClickHouse matches them, so only the matches travel), as an Arrow table."""
        scratch = f"_keys_{uuid.uuid4().hex}"
        columns = ", ".join(identifier(c) for c in key)
        self._run(f"CREATE TABLE {scratch} ({', '.join(f'{identifier(c)} String' for c in key)})"
                  " ENGINE = Memory")
        try:
            self.insert_arrow(scratch, keys)
            return _naive(self._transport.arrow(
                f"SELECT * FROM {table} WHERE ({columns}) IN (SELECT {columns} FROM {scratch})",
                {}))
        finally:
            self._run(f"DROP TABLE IF EXISTS {scratch}")

    # -- schema -----------------------------------------------------------------------------

    def schema_version(self) -> int:
        exists = self.scalar("SELECT count() FROM system.tables WHERE database = "
                             "currentDatabase() AND name = 'store_meta'")
        return int(self.meta("schema_version") or 0) if exists else 0

    def _check_or_migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise ScorecardError(f"The store {self.address} has schema version {current}, newer "
                                 f"than this program's {SCHEMA_VERSION}; upgrade scorecard to "
                                 "read it.")
        if current == SCHEMA_VERSION:
            return
        if self.read_only:
            raise ScorecardError(f"The store {self.address} has schema version {current} and "
                                 f"needs an upgrade to {SCHEMA_VERSION}; open it once for "
                                 "writing.")
        for version, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                statement(self) if callable(statement) else self._run(statement)
            self.set_meta("schema_version", str(version))
