"""Where a load is checked before it is stored. On DuckDB that is the store itself, inside one
transaction. On ClickHouse it is a DuckDB in this process: the file is read and every rule
checked there, as for a DuckDB store, against the stored rows that share an identity with the
file's (ClickHouse finds them), and what the load decided (new rows, rejects, the log line) is
then sent to ClickHouse. The rules are written once, in DuckDB's SQL, for both engines.

The room works within the DuckDB settings the store was opened with (its memory limit; past it
DuckDB spills to the room's folder), and what it sends travels in batches of BATCH_ROWS, each
an Arrow stream file beside it that ClickHouse reads itself: no stage holds the whole load.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..sql import identifier
from .clickhouse import SENT_BY_A_LOAD as SENT  # the log line last
from .schema import INGEST_ID, Kind

BATCH_ROWS = 1_000_000  # rows sent to ClickHouse per insert


class DuckDBRoom:
    """The DuckDB store checks a load in its own transaction: nothing to fetch or send."""

    def __init__(self, cur) -> None:
        self.cur = cur

    def bring_stored_twins(self, kind: Kind, identities_sql: str) -> None:
        """The stored rows are already here."""

    def send(self, ingest_id: str) -> None:
        """The transaction commits them."""


class ClickHouseRoom:
    """A DuckDB file in the load's scratch folder, holding what a load into a ClickHouse store
    needs to be checked."""

    def __init__(self, store, cur, folder: Path) -> None:
        self.store, self.cur, self.folder = store, cur, folder

    def bring_stored_twins(self, kind: Kind, identities_sql: str) -> None:
        """Copy into the room's table the stored rows whose identity one of `identities_sql`'s
        rows has (a SELECT over the room): ClickHouse matches them, so only they travel."""
        if not self.store.scalar(f"SELECT count(*) > 0 FROM {kind.table}"):
            return  # nothing stored yet: no identities to send
        keys = _arrow(self.cur, identities_sql).read_all()
        if not keys.num_rows:
            return
        twins = self.store.matching_rows(kind.table, kind.identity, keys)
        if twins.num_rows:
            self.cur.register("_twins", twins)
            self.cur.execute(f"INSERT INTO {kind.table} BY NAME SELECT * FROM _twins")
            self.cur.unregister("_twins")

    def send(self, ingest_id: str) -> None:
        """Send the load's new rows, rejects and log line to ClickHouse, the log line last.
        A send cut short takes back what it had sent; one whose process is killed is marked
        (begin_send), and the store removes it at its next opening."""
        self.store.begin_send(ingest_id)
        try:
            with self.store.transaction():
                for table in SENT:
                    self._send_table(table, ingest_id)
        except BaseException:
            self._take_back(ingest_id)
            raise
        self.store.end_send(ingest_id)

    def _send_table(self, table: str, ingest_id: str) -> None:
        """The load's rows of `table`, BATCH_ROWS at a time (stored by day, as the room's
        insert wrote them: each insert touches few of ClickHouse's monthly partitions)."""
        batch_file = self.folder / f"send-{table}.arrows"
        reader = _arrow(self.cur, f"SELECT * FROM {identifier(table)} WHERE {INGEST_ID} = ?",
                        [ingest_id])
        while _write(reader, batch_file):
            self.store.insert_file(table, batch_file, reader.schema.names)
        reader.close()
        batch_file.unlink(missing_ok=True)

    def _take_back(self, ingest_id: str) -> None:
        """Remove what a send cut short had sent; when ClickHouse cannot be reached for that
        either, the rows name their ingest, and `scorecard ingest --undo` removes them."""
        cleaned = True
        for table in SENT:  # every table tried, even after one fails: less is left behind
            try:
                self.store.cursor().execute(
                    f"DELETE FROM {identifier(table)} WHERE {INGEST_ID} = ?", [ingest_id])
            except Exception:  # the send's own error is the one to report
                cleaned = False  # the mark stays: the next opening (or --undo) ends the job
        if cleaned:
            try:
                self.store.end_send(ingest_id)
            except Exception:
                pass


def _arrow(cur, sql: str, params: list | None = None):
    """A query's rows as Arrow batches of BATCH_ROWS, produced as they are read. A result the
    cursor's last statement left unread is let go first (DuckDB runs no relation while one
    is pending)."""
    cur.abort()
    return cur.sql(sql, params=params or None).to_arrow_reader(BATCH_ROWS)


def _write(reader, path: Path) -> int:
    """The reader's next BATCH_ROWS rows (or those left) as an Arrow stream file at `path`,
    replacing the one before; says how many rows it holds."""
    import pyarrow.ipc as ipc

    rows = 0
    with ipc.new_stream(str(path), reader.schema) as out:
        while rows < BATCH_ROWS:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            rows += batch.num_rows
            out.write_batch(batch)
    return rows


@contextmanager
def room_for(store, workdir: Path) -> Iterator[DuckDBRoom | ClickHouseRoom]:
    """The room a load into `store` is checked in, open for writing. The caller sends what the
    load decided (`send`) as its last step inside; leaving with an error stores nothing."""
    if store.dialect.name == "duckdb":
        with store.transaction() as cur:
            yield DuckDBRoom(cur)
        return
    from .db import Store

    # a file beside the load's other scratch files, so a large load can spill to disk
    with Store(workdir / "room.duckdb", settings=store.room_settings) as room, \
            room.transaction() as cur:
        yield ClickHouseRoom(store, cur, workdir)
