"""The DuckDB store: one connection per process, a cursor per thread, one writer at a time.

All SQL the product runs goes through `Store.query`/`Store.transaction`, so another engine can
later stand where DuckDB stands.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb

from ..errors import ScorecardError, StoreBusy
from ..sql import DUCKDB, Query, identifier
from .schema import MIGRATIONS, SCHEMA_VERSION

_LOCK_WORDS = ("lock", "conflicting")


def writable(path: Path) -> bool:
    """Whether this process may write the store file (and the folder beside it, where DuckDB
    keeps its write-ahead log); a new file needs a writable folder."""
    path = Path(path)
    folder = path.parent if path.parent.exists() else None
    if path.exists():
        return os.access(path, os.W_OK) and folder is not None and os.access(folder, os.W_OK)
    return folder is None or os.access(folder, os.W_OK)


def _statement(sql: str | Query, params: list | dict | None) -> tuple[str, list | dict]:
    """Text and parameters of a query given as a `Query`, or as text with its parameters."""
    if isinstance(sql, Query):
        return sql.text, dict(sql.params)
    return sql, params or []


def _is_lock_error(exc: Exception) -> bool:
    return isinstance(exc, duckdb.IOException) and any(w in str(exc).lower() for w in _LOCK_WORDS)


class Store:
    """A DuckDB file holding the scorecard's tables.

    Readers take a per-thread cursor; writers go through `transaction()`, which serialises writes
    inside the process. Another process holding the file makes the open wait up to `wait_seconds`,
    then fail with one sentence.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        wait_seconds: float = 30.0,
        settings: dict | None = None,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise ScorecardError(f"There is no store at {self.path}; ingest a file into it first.")
        new = not self.path.exists()
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._connect(wait_seconds, settings or {})
        if new and self.path.exists():
            os.chmod(self.path, 0o600)  # the store holds decisions about people
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._check_or_migrate()

    # -- connection -------------------------------------------------------------------------

    def _connect(self, wait_seconds: float, settings: dict) -> duckdb.DuckDBPyConnection:
        config: dict[str, Any] = {}
        if settings.get("memory_limit"):
            config["memory_limit"] = str(settings["memory_limit"])
        if settings.get("threads"):
            config["threads"] = int(settings["threads"])
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                conn = duckdb.connect(str(self.path), read_only=self.read_only, config=config)
                conn.execute("SET TimeZone = 'UTC'")
                return conn
            except duckdb.Error as exc:
                if _is_lock_error(exc) and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                if _is_lock_error(exc):
                    raise StoreBusy(
                        f"The store {self.path} is in use by another program and stayed busy for "
                        f"{wait_seconds:g} seconds; try again when it has finished."
                    ) from None
                raise ScorecardError(f"The store {self.path} could not be opened: {exc}.") from None

    dialect = DUCKDB
    events_in_place = None  # a DuckDB store holds its events itself
    read_only_because: str | None = None  # said when a write is refused (a passing reason)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (DuckDB connections are not shared across threads)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            self._local.cursor = cur
        return cur

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------------

    def query(self, sql: str | Query, params: list | dict | None = None) -> list[tuple]:
        """Rows of a query as tuples."""
        return self.cursor().execute(*_statement(sql, params)).fetchall()

    def query_dicts(self, sql: str | Query, params: list | dict | None = None) -> list[dict]:
        """Rows of a query as dicts keyed by column name (for small, aggregated results)."""
        cur = self.cursor().execute(*_statement(sql, params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def query_df(self, sql: str | Query, params: list | dict | None = None):
        """A small, aggregated result as a pandas DataFrame (never a whole table)."""
        return self.cursor().execute(*_statement(sql, params)).df()

    def scalar(self, sql: str | Query, params: list | dict | None = None) -> Any:
        row = self.cursor().execute(*_statement(sql, params)).fetchone()
        return row[0] if row else None

    def copy_to(self, target: Path) -> None:
        """A copy of the store as it is now, complete in one file (no write runs meanwhile)."""
        with self._write_lock:
            self.cursor().execute("CHECKPOINT")
            shutil.copyfile(self.path, target)
            os.chmod(target, 0o600)

    def sends_in_flight(self) -> dict[str, dict]:
        """A DuckDB load is one transaction: none is ever left half sent."""
        return {}

    def checkpoint(self) -> None:
        """Write everything logged so far into the file itself (a file handed on whole)."""
        self.cursor().execute("CHECKPOINT")

    def data_version(self) -> int:
        """A number that grows with every committed change to the data; caches key on it."""
        value = self.scalar("SELECT value FROM store_meta WHERE key = 'data_version'")
        return int(value or 0)

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self, changes_data: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic write: everything inside commits together or not at all. A write that
        leaves every metric as it was (a sign-in, a sign-off, a log line) says
        `changes_data=False`, so cached results stay valid."""
        if self.read_only and self.read_only_because:
            raise ScorecardError(f"Nothing can be saved while {self.read_only_because}; try "
                                 "again when it has finished.")
        if self.read_only:
            raise ScorecardError(f"The store {self.path} is open for reading only here, so "
                                 "nothing can be saved to it.")
        with self._write_lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                if changes_data:
                    cur.execute(
                        "INSERT OR REPLACE INTO store_meta VALUES ('data_version', "
                        "CAST(coalesce((SELECT CAST(value AS BIGINT) FROM store_meta "
                        "WHERE key = 'data_version'), 0) + 1 AS VARCHAR))"
                    )
                cur.execute("COMMIT")
            except BaseException:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise
            finally:
                cur.close()

    def replace_rows(self, table: str, rows: Query, key: tuple[str, ...] | None,
                     meta: dict[str, str] | None = None) -> None:
        """In one write, the rows of `rows` take the place of the rows of `table` with the same
        `key` (with no key, of every row), and `meta` is kept in `store_meta`: derived data
        only, so it leaves every metric as it was."""
        name = identifier(table)
        with self.transaction(changes_data=False) as cur:
            cur.execute(f"CREATE OR REPLACE TEMP TABLE _replacing AS {rows.text}",
                        dict(rows.params))
            if key is None:
                cur.execute(f"DELETE FROM {name}")
            else:
                same = " AND ".join(f"k.{identifier(c)} = n.{identifier(c)}" for c in key)
                cur.execute(f"DELETE FROM {name} k USING _replacing n WHERE {same}")
            cur.execute(f"INSERT INTO {name} SELECT * FROM _replacing")
            cur.execute("DROP TABLE _replacing")
            for meta_key, value in (meta or {}).items():
                cur.execute("INSERT OR REPLACE INTO store_meta VALUES (?, ?)", [meta_key, value])

    # -- schema -----------------------------------------------------------------------------

    def schema_version(self) -> int:
        exists = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'store_meta'"
        )
        if not exists:
            return 0
        value = self.scalar("SELECT value FROM store_meta WHERE key = 'schema_version'")
        return int(value or 0)

    def _check_or_migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise ScorecardError(
                f"The store {self.path} has schema version {current}, newer than this program's "
                f"{SCHEMA_VERSION}; upgrade scorecard to read it."
            )
        if current == SCHEMA_VERSION:
            return
        if self.read_only:
            raise ScorecardError(
                f"The store {self.path} has schema version {current} and needs an upgrade to "
                f"{SCHEMA_VERSION}; open it once for writing (for example with `scorecard ingest`)."
            )
        with self.transaction() as cur:
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    cur.execute(statement)
                cur.execute(
                    "INSERT OR REPLACE INTO store_meta VALUES ('schema_version', ?)", [str(version)]
                )
