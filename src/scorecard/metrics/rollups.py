"""The daily rollup the metric queries read: each windowed count or sum, per system and day."""

from __future__ import annotations

from functools import lru_cache

from ..store.db import Store
from ..store.rollup import Rollup
from . import sql


@lru_cache(maxsize=1)
def daily_rollup() -> Rollup:
    return Rollup(sql.ROLLUP, sql.rollup_measures())


def refresh(store: Store) -> str:
    """Bring the rollup up to date with the stored events (after an ingest, or on first use)."""
    return daily_rollup().refresh(store)


def ready(store: Store) -> bool:
    """Whether the queries may read the rollup: it covers exactly the stored events. A store
    opened read-only whose rollup is behind is answered from the events instead."""
    if not store.read_only and not daily_rollup().is_current(store):
        refresh(store)
    return daily_rollup().is_current(store)
