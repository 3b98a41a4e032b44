"""Derived tables the metric queries read instead of the events, kept up to date after ingests:
the daily rollup (each windowed count or sum per system and day), each scope's baseline
confidence deciles and bin counts for the PSI, and each system's calibration for the
estimated success rate. Both are checked against the events before use;
a store whose derived tables are behind is answered from the events."""

from __future__ import annotations

import json
from datetime import datetime

from ..sql import DUCKDB, Dialect
from ..store import records
from ..store.db import Store
from ..store.rollup import Rollup
from .families import base, calibration, psi, psi_daily
from .thresholds import Thresholds

DEFAULT_BASELINE_DAYS = 28


def daily_rollup(dialect: Dialect = DUCKDB) -> Rollup:
    """The rollup of every declared measure that adds up over days (from the registry)."""
    return Rollup(base.ROLLUP, tuple((column, aggregate) for aggregate, column
                                     in base.rollup_columns(dialect).items()), dialect)


def refresh(store: Store, thresholds: Thresholds | None = None,
            baseline_days: int = DEFAULT_BASELINE_DAYS) -> str:
    """Bring the derived tables up to date with the stored events (after an ingest, or on
    first use). Baselines are kept for these thresholds' pinned dates, if any. Says what
    happened to the rollup: current, added, rebuilt, or none kept in this engine."""
    if not store.dialect.keeps_derived_tables:
        return "none"
    done = daily_rollup(store.dialect).refresh(store)
    thresholds = thresholds or Thresholds.model_construct()  # only the pins matter here
    systems = tuple(r[0] for r in store.query(base.systems_query(rolled=True)))
    whole = base.Context(thresholds, systems, datetime.min, datetime.max, baseline_days, True,
                         dialect=store.dialect)
    store.replace_rows(psi.KEPT, psi.kept_baselines(whole), key=("scope", "b0", "b1"))
    _refresh_daily_bins(store, whole)
    declared = calibration.declared()
    refit_all = _calibrated_meta(store).get("declared") != declared
    store.replace_rows(calibration.KEPT,
                       calibration.to_keep(whole, store.query_dicts, refit_all),
                       key=("metric", "system"), meta={CALIBRATED: json.dumps(
                           {"events": records.event_count(store), "declared": declared})})
    return done


def feed(store: Store) -> None:
    """Before a load, where the engine feeds the rollup as rows arrive (ClickHouse): make it
    if it is missing, so that the load's inserts fill it instead of a pass over every event
    after the load."""
    if store.dialect.rollup_fed_by == "view" and store.events_in_place is None:
        daily_rollup(store.dialect).refresh(store)


CALIBRATED = "calibrations"  # store_meta: the events and declarations the curves were fitted on


def _calibrated_meta(store: Store) -> dict:
    return json.loads(records.meta(store, CALIBRATED) or "{}")


def _calibrations_current(store: Store, events: int) -> bool:
    meta = _calibrated_meta(store)
    return meta.get("events") == events and meta.get("declared") == calibration.declared()


def calibrations_ready(store: Store, ctx: base.Context) -> bool:
    """Whether the estimate may read its kept calibrations: fitted over exactly the stored
    events, for the metrics as declared now (each curve is used only while its baseline is
    the one in force)."""
    return ctx.rolled and _calibrations_current(store, records.event_count(store))


DAILY_META = "psi_daily"


def _daily_meta(store: Store) -> dict:
    return json.loads(records.meta(store, DAILY_META) or "{}")


def _keys(store: Store, ctx: base.Context) -> list[list[str]]:
    return [[str(v) for v in row] for row in store.query(psi_daily.current_keys(ctx))]


def _refresh_daily_bins(store: Store, whole: base.Context) -> None:
    """Bring `psi_daily` in step: the events past those it covers are added while the kept
    baselines are the same ones; otherwise it is rebuilt, as it is when an addition does not
    add up (row positions of deleted rows can make it count some events twice)."""
    keys, meta = _keys(store, whole), _daily_meta(store)
    now = {"events": records.event_count(store), "keys": keys}
    if meta == now:
        return
    kept = {DAILY_META: json.dumps(now)}
    covered = meta.get("events")
    if (meta.get("keys") == keys and covered is not None and covered < now["events"]
            and store.dialect.rollup_fed_by == "rows"):
        store.replace_rows(psi_daily.DAILY, psi_daily.daily_bins(whole, since_row=covered),
                           psi_daily.KEY, meta=kept)
        if store.scalar(psi_daily.complete()):
            return
    store.replace_rows(psi_daily.DAILY, psi_daily.daily_bins(whole), key=None, meta=kept)


def daily_bins_ready(store: Store, ctx: base.Context) -> bool:
    """Whether the PSI may read the window's counts from `psi_daily`: it covers exactly the
    stored events, binned under the kept baselines this context puts in force."""
    if not ctx.rolled:
        return False
    meta = _daily_meta(store)
    return (meta.get("events") == records.event_count(store)
            and meta.get("keys") == _keys(store, ctx))


def ready(store: Store) -> bool:
    """Whether the queries may read the derived tables: the rollup covers exactly the stored
    events. Reading never writes: a store whose rollup is behind (one written by an older
    version, or an ingest cut short) is answered from the events until the next write."""
    return (store.dialect.keeps_derived_tables
            and daily_rollup(store.dialect).is_current(store))


def bring_up_to_date(store: Store, thresholds: Thresholds | None = None) -> bool:
    """At a writer's start (`scorecard serve`): refresh the derived tables if they are behind.
    Says whether anything was done."""
    if not store.dialect.keeps_derived_tables:
        return False
    events = records.event_count(store)
    calibrated = _calibrations_current(store, events)
    if store.read_only or not events or (daily_rollup(store.dialect).is_current(store)
                                         and calibrated
                                         and _daily_meta(store).get("events") == events):
        return False
    refresh(store, thresholds)
    return True
