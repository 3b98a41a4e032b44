"""Data integrity: no row lost, and no row that misleads (each rule of SPEC section 1 that real
extracts break: repeated ids across systems, NaN, wrong clocks, malformed rows, bad uploads)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import event_row, table_snapshot, write_csv, write_jsonl
from scorecard.cli import store_to_serve
from scorecard.errors import BadInput
from scorecard.metrics import rollups
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.thresholds import PACKAGED, load_thresholds, thresholds_for
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.audit import rejected_rows
from scorecard.store.db import Store
from scorecard.store.ingest import IngestLimits, ingest_file
from scorecard.store.schema import MIGRATIONS, SCHEMA_VERSION
from scorecard.store.undo import undo_ingest

SCORECARD = [sys.executable, "-m", "scorecard.cli"]


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*SCORECARD, *map(str, args)], capture_output=True, text=True,
                          timeout=180)


def reasons(store: Store, ingest_id: str | None = None) -> list[str]:
    return [r[0] for r in store.query(
        "SELECT reason FROM rejected_rows WHERE ? IS NULL OR ingest_id = ? ORDER BY row_number",
        [ingest_id, ingest_id])]


# -- 1. identity is (system, event_id) ---------------------------------------------------------

def test_two_systems_with_the_same_ids_keep_every_row(store, tmp_path):
    loans = write_csv(tmp_path / "loans.csv", [
        event_row(str(i), system="car-loan", outcome="success") for i in range(50)])
    census = write_csv(tmp_path / "census.csv", [
        event_row(str(i), system="employment", outcome="failure") for i in range(80)])
    assert ingest_file(store, loans).inserted == 50
    second = ingest_file(store, census)
    assert (second.inserted, second.duplicates, second.conflicts) == (80, 0, 0)
    assert store.query("SELECT system, count(*) FROM inference_events GROUP BY 1 ORDER BY 1") == [
        ("car-loan", 50), ("employment", 80)]


def test_a_conflict_is_kept_with_its_reason_and_counted_everywhere(store, tmp_path):
    ingest_file(store, write_csv(tmp_path / "a.csv", [event_row("x", outcome="success")]))
    again = ingest_file(store, write_csv(tmp_path / "b.csv", [
        event_row("x", outcome="success"), event_row("x", system="other"),
        event_row("x", outcome="failure", latency_ms=5)]))
    assert (again.inserted, again.duplicates, again.conflicts, again.rejected) == (1, 1, 1, 0)
    assert store.scalar("SELECT outcome FROM inference_events WHERE system = 'sys'") == "success"
    row, reason, raw = store.query("SELECT row_number, reason, raw FROM rejected_rows")[0]
    assert (row, reason) == (3, "system 'sys' event_id 'x' is already stored with other values "
                                "(latency_ms, outcome)")
    assert json.loads(raw)["outcome"] == "failure"
    assert store.query("SELECT inserted, duplicates, conflicts, rejected FROM ingest_log "
                       "WHERE ingest_id = ?", [again.ingest_id]) == [(1, 1, 1, 0)]


def test_repeats_within_a_file_count_only_valid_rows_and_the_first_one_stays(store, tmp_path):
    """The in-file check groups a hash of the identity as read from the file, then checks the
    candidates exactly: a broken row's id is no repeat, spaces around an id are trimmed, and
    the first valid row of a repeated identity is stored."""
    result = ingest_file(store, write_csv(tmp_path / "r.csv", [
        event_row("a", status="bogus"), event_row("a", latency_ms=1),
        event_row(" b ", latency_ms=2), event_row("b", latency_ms=2),
        event_row("c", latency_ms=3), event_row("c", latency_ms=4),
        event_row("c", system="other", latency_ms=5)]))
    assert (result.rows_read, result.inserted, result.duplicates, result.conflicts,
            result.rejected) == (7, 4, 1, 1, 1)
    assert store.query("SELECT system, event_id, latency_ms FROM inference_events ORDER BY ALL") \
        == [("other", "c", 5.0), ("sys", "a", 1.0), ("sys", "b", 2.0), ("sys", "c", 3.0)]
    assert reasons(store, result.ingest_id) == [
        "status 'bogus' is not one of ok, error, timeout, fallback",
        "system 'sys' event_id 'c' appears earlier in this file (row 5) with other values "
        "(latency_ms)"]


def test_a_store_of_the_previous_schema_migrates_without_losing_or_rekeying(tmp_path):
    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    for version, statements in MIGRATIONS:
        if version < 3:
            for statement in statements:
                conn.execute(statement)
    conn.execute("INSERT INTO store_meta VALUES ('schema_version', '2')")
    conn.execute("INSERT INTO inference_events (event_id, timestamp, system, model, status) "
                 "VALUES ('1', '2026-11-01', 'a', 'm', 'ok'), ('1', '2026-11-01', 'b', 'm', 'ok')")
    conn.execute("INSERT INTO ingest_log VALUES ('old', now()::TIMESTAMP, 'me', 'cli', 'events', "
                 "'f.csv', 1, 'x', 2, 2, 0, 0, 'ok', NULL)")
    conn.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.query("SELECT system, event_id, ingest_id FROM inference_events "
                           "ORDER BY 1") == [("a", "1", None), ("b", "1", None)]
        assert store.query("SELECT inserted, conflicts FROM ingest_log") == [(2, None)]
        new = write_csv(tmp_path / "n.csv", [event_row("1", system="a", model="m",
                                                       timestamp="2026-11-01")])
        assert ingest_file(store, new).duplicates == 1


# -- 2. NaN is missing, infinity breaks the rule -----------------------------------------------

def test_nan_in_optional_numbers_is_missing_in_every_format(store, tmp_path):
    frame = pd.DataFrame([event_row(f"p{i}", latency_ms=10.0, review_cost_usd=np.nan,
                                    confidence=np.nan, input_tokens=np.nan) for i in range(4)])
    frame.to_parquet(tmp_path / "nan.parquet")
    write_csv(tmp_path / "nan.csv", [event_row("c1", latency_ms="NaN", cost_usd="nan"),
                                     event_row("c2", latency_ms="inf"),
                                     event_row("c3", cost_usd="-Infinity")])
    (tmp_path / "nan.jsonl").write_text(
        '{"event_id": "j1", "timestamp": "2026-11-01T10:00:00Z", "system": "sys", "model": "m",'
        ' "status": "ok", "latency_ms": NaN, "review_cost_usd": "NaN"}\n'
        '{"event_id": "j2", "timestamp": "2026-11-01T10:00:00Z", "system": "sys", "model": "m",'
        ' "status": "ok", "latency_ms": Infinity}\n')
    parquet = ingest_file(store, tmp_path / "nan.parquet")
    csv = ingest_file(store, tmp_path / "nan.csv")
    jsonl = ingest_file(store, tmp_path / "nan.jsonl")
    assert (parquet.inserted, parquet.rejected) == (4, 0)
    assert (csv.inserted, csv.rejected) == (1, 2)
    assert (jsonl.inserted, jsonl.rejected) == (1, 1)
    assert store.scalar("SELECT count(*) FROM inference_events WHERE isnan(latency_ms) OR "
                        "isnan(review_cost_usd) OR isnan(confidence) OR isnan(cost_usd)") == 0
    assert store.scalar("SELECT count(*) FROM inference_events WHERE review_cost_usd IS NULL "
                        "AND event_id LIKE 'p%'") == 4
    assert reasons(store, csv.ingest_id) == [
        "latency_ms 'inf' is not a number",
        "cost_usd '-Infinity' is not a number; cost_usd '-Infinity' is negative"]
    # JSON numbers are read as numbers, and quoted as the reader gives them (the line itself
    # is kept as written)
    assert reasons(store, jsonl.ingest_id) == ["latency_ms 'inf' is not a number"]
    assert "Infinity" in store.scalar("SELECT raw FROM rejected_rows WHERE ingest_id = ?",
                                      [jsonl.ingest_id])


def test_nan_among_numbers_in_a_typed_parquet_column_is_missing(store, tmp_path):
    """As pandas or Spark write a column with some values missing: NaN among real numbers, in
    a file of the benchmark's shape (rows out of time order). DuckDB 2.0.1 evaluates
    `NOT isnan(x)` as true for such NaN read from Parquet; a NaN must still be missing."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from generate import generate  # bench/generate.py

    path = generate(tmp_path / "messy.parquet", 2000, shuffled=True, nan_share=0.03)
    table = pq.read_table(path)
    nan = {c: pc.sum(pc.is_nan(table[c])).as_py() for c in ("latency_ms", "cost_usd",
                                                               "confidence")}
    assert all(count > 20 for count in nan.values())
    result = ingest_file(store, path)
    assert (result.inserted, result.rejected) == (2000, 0), reasons(store, result.ingest_id)[:3]
    assert store.query("SELECT count(*) FILTER (WHERE latency_ms IS NULL), count(*) FILTER "
                       "(WHERE cost_usd IS NULL), count(*) FILTER (WHERE confidence IS NULL) "
                       "FROM inference_events") == [tuple(nan.values())]


# -- 3. a wrong clock cannot break or hijack the scorecard -------------------------------------

@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "infinity", "294247-01-01T00:00:00Z",
                                  "2200-01-01T00:00:00Z", "1900-01-01T00:00:00Z", "-infinity"])
def test_times_no_clock_meant_are_rejected(store, tmp_path, when):
    path = write_csv(tmp_path / "t.csv", [event_row("good"), event_row("bad", timestamp=when)])
    result = ingest_file(store, path)
    assert (result.inserted, result.rejected) == (1, 1)
    assert "(a wrong clock?)" in reasons(store)[0] or "is not an ISO 8601 time" in reasons(store)[0]
    card = compute_scorecard(store, load_thresholds(PACKAGED))
    assert card.window.as_of.isoformat() == "2026-11-01"


def test_clock_bounds_are_configurable_and_apply_to_typed_columns(store, tmp_path):
    soon = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=5)
    frame = pd.DataFrame([event_row("a"), event_row("b")])
    frame["timestamp"] = [pd.Timestamp("2026-11-01"), pd.Timestamp(soon)]
    frame.to_parquet(tmp_path / "typed.parquet")
    limits = IngestLimits.from_settings({"future_tolerance_hours": 1, "earliest_time": "2026-01-01"})
    result = ingest_file(store, tmp_path / "typed.parquet", limits=limits)
    assert (result.inserted, result.rejected) == (1, 1)
    assert "more than 1 hours after the time of loading" in reasons(store)[0]
    early = write_csv(tmp_path / "e.csv", [event_row("c", timestamp="2025-12-31T23:00:00Z")])
    refused = ingest_file(store, early, limits=limits)
    assert refused.rejected == 1
    assert reasons(store, refused.ingest_id) == [
        "timestamp '2025-12-31T23:00:00Z' is before 2026-01-01 (a wrong clock?)"]
    with pytest.raises(BadInput, match="store.yaml"):
        IngestLimits.from_settings({"future_tolerance_hours": "a day"})


def test_a_row_stamped_a_little_ahead_is_stored_and_moves_no_window(store, tmp_path):
    """SPEC section 3: as_of defaults to the newest event's day, but never later than today."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    today = now.date()
    ahead = datetime.combine(today + timedelta(days=1), datetime.min.time()) + timedelta(
        seconds=1)  # tomorrow, and always within the default one day's tolerance
    frame = pd.DataFrame([event_row("a"), event_row("b")])
    frame["timestamp"] = [pd.Timestamp(now - timedelta(days=2)), pd.Timestamp(ahead)]
    frame.to_parquet(tmp_path / "ahead.parquet")
    assert ingest_file(store, tmp_path / "ahead.parquet").inserted == 2
    card = compute_scorecard(store, load_thresholds(PACKAGED))
    assert card.window.as_of == today
    assert compute_scorecard(store, load_thresholds(PACKAGED),
                             as_of=today + timedelta(days=1)).window.as_of > today  # if asked


# -- 4. an upload can be taken back ------------------------------------------------------------

def test_undo_removes_exactly_one_upload_and_brings_the_rollup_back_in_step(store, tmp_path):
    first = ingest_file(store, write_csv(tmp_path / "a.csv", [
        event_row(f"a{i}", outcome="success") for i in range(30)]))
    rollups.refresh(store)
    before = table_snapshot(store)
    card_before = compute_scorecard(store, load_thresholds(PACKAGED))
    second = ingest_file(store, write_csv(tmp_path / "b.csv", [
        event_row(f"b{i}", outcome="failure") for i in range(20)] + [event_row("a1")]))
    rollups.refresh(store)
    assert second.inserted == 20
    undone = undo_ingest(store, second.ingest_id[:10], actor="ana", reason="wrong system")
    assert (undone.ingest_id, undone.events_removed) == (second.ingest_id, 20)
    after = table_snapshot(store)
    assert after["inference_events"] == before["inference_events"]
    rollups.refresh(store)
    assert rollups.daily_rollup().is_current(store)
    card_after = compute_scorecard(store, load_thresholds(PACKAGED))
    assert card_after.values == card_before.values
    assert store.query("SELECT ingest_id, actor, reason, events_removed FROM ingest_undos") == [
        (second.ingest_id, "ana", "wrong system", 20)]
    with pytest.raises(BadInput, match="already removed"):
        undo_ingest(store, second.ingest_id, actor="ana", reason="again")
    with pytest.raises(BadInput, match="No upload has the id"):
        undo_ingest(store, "0123456789", actor="ana", reason="typo")
    with pytest.raises(BadInput, match="Say why"):
        undo_ingest(store, first.ingest_id, actor="ana", reason=" ")
    assert store.scalar("SELECT count(*) FROM inference_events") == 30


def test_cli_undo(tmp_path):
    db = tmp_path / "c.duckdb"
    loaded = cli("ingest", write_csv(tmp_path / "a.csv", [event_row("a"), event_row("b")]),
                 "--db", db)
    ingest_id = json.loads(loaded.stdout)["ingest_id"]
    done = cli("ingest", "--undo", ingest_id[:8], "--reason", "test load", "--db", db)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events_removed"] == 2
    second = json.loads(cli("ingest", write_csv(tmp_path / "b.csv", [event_row("c")]), "--db",
                            db).stdout)["ingest_id"]
    as_spec_says = cli("ingest", "--undo", second, "--db", db)  # SPEC's form, no --reason
    assert as_spec_says.returncode == 0, as_spec_says.stderr
    again = cli("ingest", "--undo", second, "--db", db)
    assert again.returncode == 2 and "already removed" in again.stderr
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM inference_events") == 0
        assert [r[0] for r in store.query("SELECT reason FROM ingest_undos ORDER BY "
                                          "recorded_at")] == [
            "test load", "no reason given (scorecard ingest --undo without --reason)"]


# -- 5. rejects are counted and kept faithfully ------------------------------------------------

def test_malformed_csv_rows_count_once_with_their_text(store, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("event_id,timestamp,system,model,status\n"
                    "e1,2026-11-01T10:00:00Z,sys,m1,ok\n"
                    "e2,2026-11-01T10:00:00Z,sys,m1,ok,extra,more\n"
                    "e3,2026-11-01T10:00:00Z,sys\n"
                    "e4,2026-11-01T10:00:00Z,sys,m1,ok\n"
                    "e5,2026-11-01T10:00:00Z,sys,m1,ok,x\n"
                    "e6,2026-11-01T10:00:00Z,sys,m1,nope\n")
    result = ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (6, 2, 4)
    rows = store.query("SELECT row_number, raw FROM rejected_rows ORDER BY row_number")
    assert [r[0] for r in rows] == [2, 3, 5, 6]
    assert rows[0][1] == "e2,2026-11-01T10:00:00Z,sys,m1,ok,extra,more"
    assert json.loads(rows[3][1])["status"] == "nope", "row numbers stay true after the gaps"
    shown = rejected_rows(store, result.ingest_id)
    assert list(shown.columns) == ["Row in file", "Why it was set aside", "event_id", "timestamp",
                                   "system", "model", "status", "Line as read"]
    assert list(shown["status"].fillna("")) == ["", "", "", "nope"]
    assert shown["Line as read"].iloc[0] == "e2,2026-11-01T10:00:00Z,sys,m1,ok,extra,more"


def test_json_lines_keys_of_any_spelling_and_bad_lines_kept_verbatim(store, tmp_path):
    good = event_row("j1")
    path = tmp_path / "k.jsonl"
    path.write_text(json.dumps({**good, 'odd"key': 1, "": "empty key"}) + "\n"
                    + "[1, 2, 3]\n" + "not json at all\n"
                    + json.dumps(event_row("j2", segment={"nested": "x" * 30_000})) + "\n"
                    + json.dumps(event_row("x" * 201)) + "\n")
    result = ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (5, 1, 4)
    rows = store.query("SELECT row_number, reason, raw FROM rejected_rows ORDER BY row_number")
    assert [(r[0], r[2]) for r in rows[:2]] == [(2, "[1, 2, 3]"), (3, "not json at all")]
    assert rows[2][1] == "segment is longer than 200 characters"
    assert rows[3][1] == "event_id is longer than 200 characters"
    shown = rejected_rows(store, result.ingest_id)
    assert list(shown["Line as read"][:2]) == ["[1, 2, 3]", "not json at all"]
    assert shown["event_id"].iloc[3] == "x" * 201 and shown["segment"].iloc[2].startswith(
        '{"nested"'), "each key its own column, nested values as JSON text"


def test_text_longer_than_a_thousand_characters_breaks_the_rule(store, tmp_path):
    path = write_csv(tmp_path / "l.csv", [event_row("a", input_ref="r" * 1000),
                                          event_row("b", input_ref="r" * 1001)])
    result = ingest_file(store, path)
    assert (result.inserted, result.rejected) == (1, 1)
    assert reasons(store) == ["input_ref is longer than 1,000 characters"]


# -- 6. the demo never writes into an operator's store -----------------------------------------

def test_serve_builds_the_demo_only_where_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_DB", str(tmp_path / "prod.duckdb"))
    served = store_to_serve(None, demo=False)
    assert served == str((tmp_path / "prod.duckdb").resolve())
    with Store(served, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM inference_events") == 0
        assert store.scalar("SELECT count(*) FROM store_meta WHERE key = 'demo_signins'") == 0


# -- 7. the shipped defaults carry no system -----------------------------------------------------

def test_shipped_thresholds_hold_defaults_only_and_the_demo_keeps_its_own(tmp_path):
    assert not (DEFAULT_CONFIG_DIR / "thresholds.yaml").exists() or \
        not load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml").systems
    assert load_thresholds(PACKAGED).systems == {}
    with Store(tmp_path / "s.duckdb") as store:
        assert thresholds_for(store, tmp_path / "none.yaml").slo_ms("credit-precheck") == 2000


# -- 8. an ingest never fails after storing ----------------------------------------------------

def test_an_ingest_with_a_bad_config_stores_nothing(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "thresholds.yaml").write_text("defaults: [not, a, mapping\n")
    db = tmp_path / "s.duckdb"
    done = cli("ingest", write_csv(tmp_path / "a.csv", [event_row("a")]), "--db", db,
               "--config", cfg)
    assert done.returncode == 2 and done.stdout == ""
    assert "thresholds" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not Path(db).exists() or Store(db, read_only=True).scalar(
        "SELECT count(*) FROM inference_events") == 0
