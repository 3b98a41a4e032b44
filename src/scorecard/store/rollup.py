"""Daily rollups: per system and UTC day, counts and sums over the events, kept in step with them.

A window of whole days then reads a few rows per day instead of every event. The rollup is
derived data: its columns are given by the caller (the metrics layer), it is rebuilt when they
change, and it records how many events it covers, so a reader can tell whether it is current
and fall back to the events when it is not.

How it keeps up is the engine's (`Dialect.rollup_fed_by`): on DuckDB events are only ever
appended, new ones are the rows past the recorded count, and the scorecard adds their sums to
the days they fall on after each write; on ClickHouse the rollup is a SummingMergeTree fed by a
materialized view on the events, so every insert, by this program or another writer, keeps it
current, and it is whole while its event counts add up to the events stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..sql import DUCKDB, Dialect, identifier
from .db import Store
from .records import set_meta

EVENTS = "inference_events"
COUNT = "__events"  # every rollup counts its events, which is how it checks it is whole


@dataclass(frozen=True)
class Rollup:
    """A table `name` with (system, day) and one column per (name, additive aggregate SQL)."""

    name: str
    measures: tuple[tuple[str, str], ...]
    dialect: Dialect = DUCKDB

    @property
    def signature(self) -> str:
        return hashlib.sha256(self.aggregate_query("").encode()).hexdigest()[:16]

    @property
    def _meta_key(self) -> str:
        return f"rollup:{self.name}"

    def aggregate_query(self, where: str = "") -> str:
        """The rollup's rows computed from the events (`where` narrows them)."""
        cols = ", ".join(f"{sql} AS {identifier(name)}" for name, sql in self.measures)
        return (f"SELECT system, {self.dialect.trunc('day', 'timestamp')} AS day, "
                f"count(*) AS {COUNT}, {cols} FROM {EVENTS} {where} GROUP BY ALL")

    def _kept(self, cur) -> dict:
        """What store_meta says of the rollup, if it was made with these columns."""
        row = cur.execute("SELECT value FROM store_meta WHERE key = ?", [self._meta_key]).fetchone()
        meta = json.loads(row[0]) if row else {}
        return meta if meta.get("signature") == self.signature else {}

    def _covered(self, cur) -> int | None:
        """How many events the rollup covers, or None when it is missing or out of date."""
        return self._kept(cur).get("events")

    def is_current(self, store: Store) -> bool:
        """Whether the rollup covers exactly the events now stored."""
        cur = store.cursor()
        events = cur.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0]
        if self.dialect.rollup_fed_by == "view":
            return bool(self._kept(cur).get("fed")) and self._sum_of_counts(cur) == events
        return self._covered(cur) == events

    def refresh(self, store: Store) -> str:
        """Add the events stored since the last refresh, or rebuild when that cannot be done
        (the columns changed, or events were deleted). Says which: current, added, rebuilt."""
        if self.dialect.rollup_fed_by == "view":
            return self._refresh_fed(store)
        with store.transaction(changes_data=False) as cur:
            events = cur.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0]
            covered = self._covered(cur)
            if covered == events:
                return "current"
            done = "added"
            if covered is not None and covered < events:
                self._add(cur, covered)
            if covered is None or covered > events or self._sum_of_counts(cur) != events:
                cur.execute(f"CREATE OR REPLACE TABLE {identifier(self.name)} AS "
                            f"{self.aggregate_query('')} ORDER BY day, system")
                done = "rebuilt"
            cur.execute("INSERT OR REPLACE INTO store_meta VALUES (?, ?)",
                        [self._meta_key, json.dumps({"signature": self.signature,
                                                     "events": events})])
            return done

    def _sum_of_counts(self, cur) -> int:
        return cur.execute(f"SELECT coalesce(sum({COUNT}), 0) FROM {identifier(self.name)}"
                           ).fetchone()[0]

    def _add(self, cur, covered: int) -> None:
        """Fold the sums of the events past `covered` into the days they fall on."""
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _delta AS "
                    f"{self.aggregate_query(f'WHERE rowid >= {int(covered)}')}")
        sums = ", ".join(f"sum({identifier(name)}) AS {identifier(name)}"
                         for name in [COUNT, *dict(self.measures)])
        cur.execute(f"""CREATE OR REPLACE TEMP TABLE _merged AS
            SELECT system, day, {sums} FROM (
              SELECT r.* FROM {identifier(self.name)} r SEMI JOIN _delta d USING (system, day)
              UNION ALL BY NAME SELECT * FROM _delta)
            GROUP BY system, day""")
        cur.execute(f"DELETE FROM {identifier(self.name)} r USING _delta d "
                    "WHERE r.system = d.system AND r.day = d.day")
        cur.execute(f"INSERT INTO {identifier(self.name)} BY NAME SELECT * FROM _merged")
        cur.execute("DROP TABLE _delta")
        cur.execute("DROP TABLE _merged")

    # -- fed by the engine (ClickHouse) -------------------------------------------------------

    @property
    def _feeder(self) -> str:
        return f"{self.name}_feed"

    def _refresh_fed(self, store) -> str:
        """Make the summing table and the view that feeds it when they are missing or declare
        other columns, and fill it again from the events when its counts do not add up to them
        (events taken back, or a fill cut short)."""
        select, name = self.aggregate_query(""), identifier(self.name)
        with store.transaction(changes_data=False) as cur:
            events = cur.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0]
            if not self._kept(cur).get("fed"):
                for statement in self.dialect.fed_rollup(name, identifier(self._feeder), select):
                    cur.execute(statement)
            elif self._sum_of_counts(cur) == events:
                return "current"
            else:
                cur.execute(f"TRUNCATE TABLE {name}")
            cur.execute(f"INSERT INTO {name} {select}")
        set_meta(store, {self._meta_key: json.dumps({"signature": self.signature, "fed": True})},
                 changes_data=False)
        return "rebuilt"
