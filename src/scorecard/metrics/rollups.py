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
        cur.execute("CREATE OR REPLACE TEMP TABLE _kept AS "
                    + sql.psi_baselines_query(thresholds, systems, baseline_days))
        cur.execute(f"DELETE FROM {sql.PSI_BASELINES} k USING _kept n "
                    "WHERE k.scope = n.scope AND k.b0 = n.b0 AND k.b1 = n.b1")
        cur.execute(f"INSERT INTO {sql.PSI_BASELINES} SELECT * FROM _kept")
        cur.execute("DROP TABLE _kept")
    return done


def ready(store: Store) -> bool:
    """Whether the queries may read the derived tables: the rollup covers exactly the stored
    events. Reading never writes: a store whose rollup is behind (one written by an older
    version, or an ingest cut short) is answered from the events until the next write."""
    return daily_rollup().is_current(store)


def bring_up_to_date(store: Store, thresholds: Thresholds | None = None) -> bool:
    """At a writer's start (`scorecard serve`): refresh the derived tables if they are behind.
    Says whether anything was done."""
    if store.read_only or daily_rollup().is_current(store) or not store.scalar(
            "SELECT count(*) FROM inference_events"):
        return False
    refresh(store, thresholds)
    return True
