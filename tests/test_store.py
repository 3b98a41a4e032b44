"""The store itself: migrations, concurrent writers, threads, and the command line around ingest."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from conftest import event_row, write_csv
from scorecard.errors import ScorecardError, StoreBusy
from scorecard.store.db import Store
from scorecard.store.ingest import ingest_file
from scorecard.store.schema import MIGRATIONS, SCHEMA_VERSION

SCORECARD = [sys.executable, "-m", "scorecard.cli"]


def run_cli(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SCORECARD, *map(str, args)], capture_output=True, text=True,
                          input=stdin, timeout=120)


def test_new_store_is_at_the_latest_schema(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_an_older_store_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for statement in MIGRATIONS[0][1]:
        con.execute(statement)
    con.execute("INSERT INTO store_meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO inference_events (event_id, timestamp, system, model, status) "
                "VALUES ('old-1', TIMESTAMP '2026-01-01', 's', 'm', 'ok')")
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.query("SELECT event_id FROM inference_events") == [("old-1",)]
        assert store.scalar("SELECT count(*) FROM threshold_changes") == 0
        upgraded = _columns(store, "inference_events")
    with Store(tmp_path / "new.duckdb") as fresh:
        assert upgraded == _columns(fresh, "inference_events"), "same columns, same order"
    assert ("outcome_at", "TIMESTAMP") in upgraded


def _columns(store: Store, table: str) -> list[tuple]:
    return store.query("SELECT column_name, data_type FROM information_schema.columns "
                       f"WHERE table_name = '{table}' ORDER BY ordinal_position")


def test_a_store_from_a_newer_program_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    with Store(path) as store, store.transaction() as cur:
        cur.execute("UPDATE store_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(ScorecardError, match="newer than this program"):
        Store(path)


def test_read_only_open_of_a_missing_store_says_so(tmp_path):
    with pytest.raises(ScorecardError, match="There is no store"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_a_busy_store_fails_with_one_sentence(tmp_path):
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(30)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreBusy, match="in use by another program"):
            Store(path, wait_seconds=0.5)
    finally:
        holder.kill()
        holder.wait()


def test_two_writer_processes_both_land_every_row(tmp_path):
    db = tmp_path / "shared.duckdb"
    Store(db).close()
    files = []
    for w in range(2):
        rows = [event_row(f"w{w}-{i}") for i in range(3000)] + [event_row("both")]
        files.append(write_csv(tmp_path / f"w{w}.csv", rows))
    procs = [subprocess.Popen([*SCORECARD, "ingest", str(f), "--db", str(db)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for f in files]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    results = [json.loads(out) for out, _ in outputs]
    assert sum(r["inserted"] for r in results) == 6001
    assert sum(r["duplicates"] for r in results) == 1
    with Store(db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM inference_events") == 6001
        assert store.scalar("SELECT count(DISTINCT event_id) FROM inference_events") == 6001


def test_readers_on_many_threads(tmp_path):
    with Store(tmp_path / "t.duckdb") as store:
        ingest_file(store, write_csv(tmp_path / "a.csv", [event_row(f"e{i}") for i in range(50)]))
        counts, errors = [], []

        def read():
            try:
                for _ in range(20):
                    counts.append(store.scalar("SELECT count(*) FROM inference_events"))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and set(counts) == {50}


def test_cli_ingest_prints_one_json_object_per_file(tmp_path):
    good = write_csv(tmp_path / "good.csv", [event_row("a"), event_row("b", status="nope")])
    done = run_cli("ingest", good, "--db", tmp_path / "c.duckdb")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert len(printed.pop("ingest_id")) == 32, "the id that --undo takes"
    assert printed == {"file": "good.csv", "rows_read": 2, "inserted": 1, "duplicates": 0,
                       "conflicts": 0, "rejected": 1}


def test_cli_ingest_of_an_unusable_file_exits_nonzero_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,when\n1,2\n")
    done = run_cli("ingest", bad, "--db", tmp_path / "c.duckdb")
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1
    assert "has no event_id" in done.stderr and "Traceback" not in done.stderr


def test_cli_ingest_with_a_map_file(tmp_path):
    src = tmp_path / "other.jsonl"
    src.write_text('{"id": "x", "ts": "2026-11-01T00:00:00Z", "ok": 1}\n')
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns: {event_id: id, timestamp: ts, outcome: ok}\n"
                       "constants: {system: car-loan, model: loan-v3, status: ok}\n"
                       "values: {outcome: {'1': success, '0': failure}}\n")
    done = run_cli("ingest", src, "--db", tmp_path / "c.duckdb", "--map", mapping)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inserted"] == 1


def test_cli_sample_writes_the_demo_extracts(tmp_path):
    done = run_cli("sample", "--out", tmp_path / "demo")
    assert done.returncode == 0, done.stderr
    names = sorted(Path(p).name for p in done.stdout.split())
    assert names == ["credit-precheck.map.yaml", "credit-precheck.parquet",
                     "doc-summariser.jsonl.gz", "incidents.csv", "research-agent.otlp.jsonl.gz",
                     "support-assistant.csv.gz"]


def test_a_clickhouse_store_from_before_the_slice_columns_is_upgraded(tmp_path):
    """Schema 9 adds release, team, feature and customer where a new table has them, and
    keeps the rows."""
    from scorecard.store.engines import open_store

    def columns(store) -> list[tuple]:
        return store.query("SELECT name, type FROM system.columns WHERE database = "
                           "currentDatabase() AND table = 'inference_events' ORDER BY position")

    address = f"chdb://{tmp_path / 'ch'}"
    with open_store(address) as store:
        fresh = columns(store)
        for name in ("release", "team", "feature", "customer"):
            store._run(f'ALTER TABLE inference_events DROP COLUMN "{name}"')
        store._run("INSERT INTO inference_events (event_id, timestamp, system, model, status) "
                   "VALUES ('old-1', '2026-01-01 00:00:00', 's', 'm', 'ok')")
        store.set_meta("schema_version", "8")
    with open_store(address) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert columns(store) == fresh, "the same columns in the same order"
        assert store.query("SELECT event_id, release FROM inference_events") == [
            ("old-1", None)]


def test_the_copy_read_during_a_load_is_found_by_any_spelling_and_removed_after(tmp_path,
                                                                              monkeypatch):
    """The app asks for the copy by its configured address; the upload made it from the
    store's own path: one store, whichever way it was written. The copy goes with the load."""
    from scorecard.store import reading_copy, records

    monkeypatch.chdir(tmp_path)
    with Store("./store.duckdb") as store:
        records.set_meta(store, {"mark": "before the load"})
        with reading_copy.kept_while_loading(store):
            copy = reading_copy.copy_for(str(tmp_path / "store.duckdb"))
            assert copy is not None and copy.parent.parent == tmp_path
            records.set_meta(store, {"mark": "during the load"})
            with Store(copy, read_only=True) as reading:
                assert records.meta(reading, "mark") == "before the load"
        assert reading_copy.copy_for("store.duckdb") is None
        assert not copy.exists() and not copy.parent.exists()
