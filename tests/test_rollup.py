"""The daily rollup: kept in step with the events, rebuilt when it cannot be, and never changing
a metric. Every comparison is against the same metrics computed from the events alone."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import event_row, write_csv
from scorecard.demo import load_demo, write_sample
from scorecard.metrics import rollups
from scorecard.metrics.families import psi, psi_daily
from scorecard.metrics.families.base import ROLLUP
from scorecard.metrics.registry import Measure
from scorecard.metrics.compute import compute_scorecard, resolve_window
from scorecard.metrics.families.base import Context
from scorecard.metrics.registry import registry
from scorecard.metrics.thresholds import Thresholds, load_thresholds, parse_thresholds
from scorecard.metrics.trends import trend_table
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.sql import DUCKDB
from scorecard.store.db import Store
from scorecard.store.ingest import ingest_file
from scorecard.store.pricing import Pricing
from scorecard.store.rollup import Rollup
from test_metrics_properties import event

THRESHOLDS = load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml")
ALL_FAMILIES = {m.family for m in registry().metrics}


def assert_same_rows(got: list[tuple], want: list[tuple]) -> None:
    """Equal rows; sums of money may differ in the last bits, as they are added in another order."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert_same_values(dict(enumerate(a)), dict(enumerate(b)), str(b[:2]))


def rollup_rows(store: Store) -> list[tuple]:
    return store.query(f"SELECT * FROM {ROLLUP} ORDER BY system, day")


def rebuilt_rows(store: Store) -> list[tuple]:
    """The rollup as a rebuild from scratch would make it."""
    rollup = rollups.daily_rollup()
    return store.query(f"SELECT * FROM ({rollup.aggregate_query('')}) ORDER BY system, day")


def events_only(db: Path, tmp: Path) -> Store:
    """A read-only copy of the store whose rollup is out of date, so metrics read the events."""
    copy = tmp / f"events-only-{db.stem}.duckdb"
    shutil.copy(db, copy)
    with Store(copy) as store, store.transaction(changes_data=False) as cur:
        cur.execute("DELETE FROM store_meta WHERE key LIKE 'rollup:%'")
    return Store(copy, read_only=True)


def assert_same_values(a: dict, b: dict, where: str) -> None:
    """Two {metric: fields} or {metric: MetricValue} maps hold the same numbers."""
    assert a.keys() == b.keys(), where
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            assert_same_values(x, y, f"{where}/{key}")
        elif isinstance(x, float) and isinstance(y, float):
            assert x == pytest.approx(y, rel=1e-9, abs=1e-12), f"{where}/{key}"
        else:
            assert x == y, f"{where}/{key}"


def assert_same_scorecard(with_rollup, from_events) -> None:
    assert with_rollup.systems == from_events.systems
    assert with_rollup.baselines == from_events.baselines
    for scope, values in with_rollup.values.items():
        for metric_id in registry().ids:
            got, want = values[metric_id], from_events.values[scope][metric_id]
            assert_same_values(got.as_json(), want.as_json(), f"{scope or 'all'}/{metric_id}")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rollup-demo")
    write_sample(root / "files")
    with Store(root / "demo.duckdb") as store:
        load_demo(store, root / "files", Pricing.load(DEFAULT_CONFIG_DIR / "pricing.yaml"))
        rollups.refresh(store)
    return root / "demo.duckdb"


def test_demo_scorecard_is_the_same_from_the_rollup_and_from_the_events(demo_db, tmp_path):
    with Store(demo_db, read_only=True) as store, events_only(demo_db, tmp_path) as raw:
        assert rollups.ready(store) and not rollups.ready(raw)
        assert_same_scorecard(compute_scorecard(store, THRESHOLDS),
                              compute_scorecard(raw, THRESHOLDS))
        for as_of, days in (("2026-10-15", 14), ("2026-11-02", 1)):
            assert_same_scorecard(
                compute_scorecard(store, THRESHOLDS, as_of=as_of, window_days=days),
                compute_scorecard(raw, THRESHOLDS, as_of=as_of, window_days=days))


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_demo_trends_are_the_same_from_the_rollup_and_from_the_events(demo_db, tmp_path, period):
    with Store(demo_db, read_only=True) as store, events_only(demo_db, tmp_path) as raw:
        got = trend_table(store, THRESHOLDS, period, ALL_FAMILIES)
        want = trend_table(raw, THRESHOLDS, period, ALL_FAMILIES)
        assert got.keys() == want.keys()
        for key in got:
            assert_same_values(got[key], want[key], str(key))


def pinned(system: str, start: str, end: str):
    data = THRESHOLDS.model_dump(mode="json")
    data["systems"].setdefault(system, {})["baseline"] = {"start": start, "end": end}
    return parse_thresholds(data)


def test_a_pinned_baseline_is_computed_from_the_events_and_agrees(demo_db, tmp_path):
    thresholds = pinned("credit-precheck", "2026-09-14", "2026-10-05")
    with Store(demo_db, read_only=True) as store, events_only(demo_db, tmp_path) as raw:
        kept = store.query(f"SELECT scope, b0 FROM {psi.KEPT} "
                           "WHERE scope = 'credit-precheck'")
        assert kept and all(b0 != datetime(2026, 9, 14) for _, b0 in kept)
        assert_same_scorecard(compute_scorecard(store, thresholds),
                              compute_scorecard(raw, thresholds))


def test_kept_baseline_deciles_are_not_used_once_the_baseline_gains_events(demo_db, tmp_path):
    """A backfill into a baseline period changes its deciles: the kept ones must not be used."""
    db = tmp_path / "backfilled.duckdb"
    shutil.copy(demo_db, db)
    with Store(demo_db, read_only=True) as demo:
        scope, b0 = demo.query(f"SELECT scope, b0 FROM {psi.KEPT} "
                                    "WHERE scope <> '' ORDER BY scope LIMIT 1")[0]
    late = [event_row(f"late{i}", f"{b0:%Y-%m-%d}T12:00:00Z", system=scope,
                      confidence=0.999 - i / 1000) for i in range(300)]
    with Store(db) as store:
        ingest_file(store, write_csv(tmp_path / "late.csv", late))
        assert rollups.daily_rollup().refresh(store) == "added"  # deciles not refreshed
    with Store(db, read_only=True) as store, events_only(db, tmp_path) as raw:
        assert rollups.ready(store)
        got, want = compute_scorecard(store, THRESHOLDS), compute_scorecard(raw, THRESHOLDS)
        assert_same_scorecard(got, want)
    with Store(demo_db, read_only=True) as before:
        old = compute_scorecard(before, THRESHOLDS).scope(scope)["confidence_psi"].value
    assert got.scope(scope)["confidence_psi"].value != pytest.approx(old)


def test_a_read_only_store_with_an_old_rollup_answers_from_the_events(demo_db, tmp_path):
    with events_only(demo_db, tmp_path) as raw:
        assert not rollups.ready(raw)
        card = compute_scorecard(raw, THRESHOLDS)
        assert card.scope(None)["events"].value > 0


def test_new_events_are_added_to_their_days_and_match_a_rebuild(store, tmp_path):
    first = [event_row(f"a{i}{s}", f"2026-11-0{1 + i % 3}T1{i}:00:00Z", system=s,
                       outcome="success", cost_usd=0.5, latency_ms=100 * i)
             for i in range(9) for s in ("x", "y")]
    ingest_file(store, write_csv(tmp_path / "first.csv", first))
    assert rollups.refresh(store) == "rebuilt"  # there was none
    # the second file adds to a day already rolled up, opens a new day and a new system
    second = [event_row("b1", "2026-11-02T08:00:00Z", system="x", outcome="failure",
                        cost_usd=1.25),
              event_row("b2", "2026-11-05T08:00:00Z", system="x", status="error"),
              event_row("b3", "2026-11-02T09:00:00Z", system="z", latency_ms=5.0)]
    ingest_file(store, write_csv(tmp_path / "second.csv", second))
    assert not rollups.daily_rollup().is_current(store)
    assert rollups.refresh(store) == "added"
    assert rollups.daily_rollup().is_current(store) and rollups.refresh(store) == "current"
    assert rollup_rows(store) == rebuilt_rows(store)


def test_deleted_events_make_the_rollup_rebuild(store, tmp_path):
    rows = [event_row(f"e{i}", f"2026-11-0{1 + i}T10:00:00Z") for i in range(4)]
    ingest_file(store, write_csv(tmp_path / "e.csv", rows))
    rollups.refresh(store)
    with store.transaction() as cur:
        cur.execute("DELETE FROM inference_events WHERE event_id IN ('e0', 'e1')")
    assert not rollups.daily_rollup().is_current(store)
    assert rollups.refresh(store) == "rebuilt"
    assert rollup_rows(store) == rebuilt_rows(store)
    assert sum(r[2] for r in rollup_rows(store)) == 2


def test_deleting_then_adding_as_many_events_still_rebuilds(store, tmp_path):
    """The new events are the rows past the recorded count only while events are appended; a
    deletion breaks that, and the count check across the whole rollup catches it."""
    ingest_file(store, write_csv(tmp_path / "a.csv", [event_row(f"a{i}", "2026-11-01T10:00:00Z")
                                                       for i in range(3)]))
    rollups.refresh(store)
    with store.transaction() as cur:
        cur.execute("DELETE FROM inference_events WHERE event_id = 'a0'")
    ingest_file(store, write_csv(tmp_path / "b.csv", [event_row("b1", "2026-11-03T10:00:00Z"),
                                                       event_row("b2", "2026-11-03T11:00:00Z")]))
    assert rollups.refresh(store) == "rebuilt"
    assert rollup_rows(store) == rebuilt_rows(store)


def test_a_changed_definition_rebuilds_the_rollup(store, tmp_path):
    ingest_file(store, write_csv(tmp_path / "e.csv", [event_row("e1", "2026-11-01T10:00:00Z")]))
    rollups.refresh(store)
    wider = Rollup(ROLLUP, (*rollups.daily_rollup().measures, ("priced", "count(cost_usd)")))
    assert not wider.is_current(store)
    assert wider.refresh(store) == "rebuilt"
    assert wider.is_current(store) and not rollups.daily_rollup().is_current(store)
    assert "priced" in [d[0] for d in store.cursor().execute(
        f"SELECT * FROM {ROLLUP} LIMIT 0").description]


def test_an_empty_store_has_an_empty_current_rollup(store):
    rollups.refresh(store)
    assert rollups.daily_rollup().is_current(store) and rollup_rows(store) == []


def test_only_sums_and_counts_free_of_thresholds_are_rolled_up():
    assert Measure(count="outcome = 'success'").adds_up_over_days
    assert Measure(count_of="latency_ms").adds_up_over_days
    assert Measure(sum=("cost_usd", "review_cost_usd")).adds_up_over_days
    assert not Measure(count="latency_ms <= {slo}").adds_up_over_days
    assert not Measure(count="confidence < {floor} AND human_reviewed").adds_up_over_days
    rolled = dict(rollups.daily_rollup().measures)
    assert ("daily__latency_slo_compliance__num" not in rolled
            and "daily__success_rate__num" in rolled)


@pytest.mark.parametrize("declared", [{"avg": "latency_ms"}, {"count_of": "max(latency_ms)"},
                                      {"sum": "cost_usd) + (1"}, {"count": "*", "sum": "x"},
                                      {"count": "latency_ms <= {slo_ms}"},
                                      {}])
def test_a_measure_is_a_count_or_a_sum_of_plain_columns(declared):
    with pytest.raises(ValueError):
        Measure.model_validate(declared)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, min_size=1, max_size=80), st.integers(0, 80))
def test_random_stores_loaded_in_two_parts_match_the_events(rows, split):
    for i, row in enumerate(rows):
        row["event_id"] = f"e{i}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with Store(tmp / "p.duckdb") as store:
            for part, chunk in enumerate((rows[:split], rows[split:])):
                if chunk:
                    ingest_file(store, write_csv(tmp / f"{part}.csv", chunk))
                    assert rollups.refresh(store) == ("added" if part and split else "rebuilt")
            assert_same_rows(rollup_rows(store), rebuilt_rows(store))
            with_rollup = compute_scorecard(store, THRESHOLDS)
        with events_only(tmp / "p.duckdb", tmp) as raw:
            assert_same_scorecard(with_rollup, compute_scorecard(raw, THRESHOLDS))


def psi_daily_rows(store: Store) -> list[tuple]:
    return store.query(f"SELECT * FROM {psi_daily.DAILY} ORDER BY ALL")


def rebuilt_psi_daily(store: Store) -> list[tuple]:
    """psi_daily as binning every event afresh under the kept baselines would make it."""
    systems = tuple(r[0] for r in store.query("SELECT DISTINCT system FROM inference_events"))
    whole = Context(Thresholds.model_construct(), systems, datetime.min, datetime.max, 28, True)
    return store.query(f"SELECT * FROM ({psi_daily.daily_bins(whole).text}) ORDER BY ALL")


def confident(prefix: str, days: range, month: str = "10") -> list[dict]:
    return [event_row(f"{prefix}{d}-{i}", f"2026-{month}-{d:02d}T1{i}:00:00Z",
                      system="xy"[i % 2], confidence=((d * 7 + i) % 10) / 10)
            for d in days for i in range(8)]


def test_psi_window_counts_kept_per_day_are_added_to_and_rebuilt_as_events_change(store,
                                                                                 tmp_path):
    ingest_file(store, write_csv(tmp_path / "a.csv", confident("a", range(1, 29))))
    rollups.refresh(store)
    kept = psi_daily_rows(store)
    assert kept and kept == rebuilt_psi_daily(store)
    # later days, outside the baseline: added to the kept counts, which still equal a rebuild
    ingest_file(store, write_csv(tmp_path / "b.csv", confident("b", range(1, 20), "11")))
    rollups.refresh(store)
    assert len(psi_daily_rows(store)) > len(kept)
    assert psi_daily_rows(store) == rebuilt_psi_daily(store)
    # an undo (a deletion, then a refresh), then new rows: the row positions of the rows left
    # no longer tell the new rows apart, and the sums check catches it
    with store.transaction() as cur:
        cur.execute("DELETE FROM inference_events WHERE event_id LIKE 'b1-%'")
    rollups.refresh(store)
    assert psi_daily_rows(store) == rebuilt_psi_daily(store)
    ingest_file(store, write_csv(tmp_path / "c.csv", confident("c", range(20, 22), "11")))
    rollups.refresh(store)
    assert psi_daily_rows(store) == rebuilt_psi_daily(store)
    window = resolve_window(store, "2026-11-20")
    ctx = window.context(THRESHOLDS, ["x", "y"], True, DUCKDB)
    assert rollups.daily_bins_ready(store, ctx)
    binned = compute_scorecard(store, THRESHOLDS, as_of="2026-11-20")
    store.checkpoint()  # the copy below takes the file as it is on disk
    with events_only(store.path, tmp_path) as raw:
        assert_same_scorecard(binned, compute_scorecard(raw, THRESHOLDS, as_of="2026-11-20"))
    assert binned.values[""]["confidence_psi"].value is not None
