"""The newest scorecard kept in the store at server start: the same as computing it, and used
only while everything it was computed from is unchanged."""

from __future__ import annotations

import shutil

import pytest

from conftest import event_row, write_csv
from scorecard.cli import store_to_serve
from scorecard.demo import ensure_demo_store
from scorecard.metrics import budgets, drivers, snapshot
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.thresholds import PACKAGED, load_thresholds, thresholds_for
from scorecard.metrics.trends import every_family_table
from scorecard.store.db import Store
from scorecard.store.ingest import ingest_file


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return ensure_demo_store(tmp_path_factory.mktemp("snapshot") / "demo.duckdb")


@pytest.fixture
def db(demo_db, tmp_path):
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, copy)
    return copy


ONE_THREAD = {"threads": 1}  # sums of floats add in one order, so two computations agree exactly


def test_the_kept_scorecard_is_the_computed_one(db):
    with Store(db, settings=ONE_THREAD) as store:
        thresholds = thresholds_for(store, PACKAGED)
        assert snapshot.kept(store, thresholds) is None
        assert snapshot.keep(store, thresholds) is True
        assert snapshot.keep(store, thresholds) is False  # current: nothing to do
    with Store(db, read_only=True, settings=ONE_THREAD) as store:
        kept = snapshot.kept(store, thresholds)
        assert kept is not None and kept == compute_scorecard(store, thresholds)
        budgets_kept = snapshot.kept_budgets(store, thresholds)
        assert budgets_kept is not None and budgets_kept == budgets.evaluate(store, thresholds)
        assert budgets_kept.firing(), "the demo has firing alerts, kept as alerts"
        weekly = snapshot.kept_weekly(store, thresholds)
        assert weekly is not None and weekly == every_family_table(store, thresholds, "week")
        found = snapshot.kept_drivers(store, thresholds)
        assert found and found == drivers.attention_drivers(store, thresholds, kept)


def test_new_data_or_other_thresholds_make_the_kept_scorecard_stale(db, tmp_path):
    with Store(db) as store:
        thresholds = thresholds_for(store, PACKAGED)
        snapshot.keep(store, thresholds)
        stricter = thresholds.model_copy(deep=True)
        stricter.defaults["success_rate"].target = 0.99
        assert snapshot.kept(store, stricter) is None
        assert snapshot.kept_weekly(store, stricter) is None
        assert snapshot.kept_drivers(store, stricter) is None
        ingest_file(store, write_csv(tmp_path / "e.csv", [event_row("new-1", system="new")]))
        assert snapshot.kept(store, thresholds) is None
        assert snapshot.keep(store, thresholds) is True
        assert "new" in snapshot.kept(store, thresholds).systems


def test_serve_keeps_the_newest_scorecard_before_the_app_starts(db, capsys):
    store_to_serve(str(db), demo=False, thresholds=load_thresholds(PACKAGED))
    assert "Prepared the newest scorecard" in capsys.readouterr().out
    with Store(db, read_only=True) as store:
        assert snapshot.kept(store, thresholds_for(store, PACKAGED)) is not None
    store_to_serve(str(db), demo=False, thresholds=load_thresholds(PACKAGED))
    assert "Prepared" not in capsys.readouterr().out
