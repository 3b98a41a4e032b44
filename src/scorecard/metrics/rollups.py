"""Derived tables the metric queries read instead of the events, kept up to date after ingests:
the daily rollup (each windowed count or sum per system and day) and each scope's baseline
confidence deciles and bin counts for the PSI. Both are checked against the events before use;
a store whose derived tables are behind is answered from the events."""

from __future__ import annotations

from functools import lru_cache

from ..store.db import Store
from ..store.rollup import Rollup
from . import sql
from .thresholds import Thresholds

DEFAULT_BASELINE_DAYS = 28


@lru_cache(maxsize=1)
def daily_rollup() -> Rollup:
    return Rollup(sql.ROLLUP, sql.rollup_measures())


def refresh(store: Store, thresholds: Thresholds | None = None,
            baseline_days: int = DEFAULT_BASELINE_DAYS) -> str:
    """Bring the derived tables up to date with the stored events (after an ingest, or on
    first use). Baselines are kept for these thresholds' pinned dates, if any. Says what
    happened to the rollup: current, added or rebuilt."""
    done = daily_rollup().refresh(store)
    thresholds = thresholds or Thresholds.model_construct()  # only the pins matter here
    systems = [r[0] for r in store.query(sql.systems_query(rolled=True))]
    with store.transaction(changes_data=False) as cur:
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {sql.PSI_BASELINES} (
            scope VARCHAR, b0 TIMESTAMP, b1 TIMESTAMP, n BIGINT, q DOUBLE[],
            bins STRUCT(bin INTEGER, c BIGINT)[])""")
        cur.execute("CREATE OR REPLACE TEMP TABLE _kept AS "
                    + sql.psi_baselines_query(thresholds, systems, baseline_days))
        cur.execute(f"DELETE FROM {sql.PSI_BASELINES} k USING _kept n "
                    "WHERE k.scope = n.scope AND k.b0 = n.b0 AND k.b1 = n.b1")
        cur.execute(f"INSERT INTO {sql.PSI_BASELINES} SELECT * FROM _kept")
        cur.execute("DROP TABLE _kept")
    return done


def ready(store: Store, thresholds: Thresholds | None = None,
          baseline_days: int = DEFAULT_BASELINE_DAYS) -> bool:
    """Whether the queries may read the derived tables: the rollup covers exactly the stored
    events. A writable store is brought up to date first; a read-only one that is behind is
    answered from the events."""
    if not daily_rollup().is_current(store):
        if store.read_only:
            return False
        refresh(store, thresholds, baseline_days)  # leaves both tables current
    return bool(store.scalar("SELECT count(*) FROM information_schema.tables "
                             "WHERE table_name = ?", [sql.PSI_BASELINES]))
