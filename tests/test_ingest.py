"""Ingestion into real stores, a DuckDB file and a chDB folder: every contract rule, formats,
maps, duplicates, atomicity."""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import pandas as pd
import pytest

from conftest import ENGINES, address_for, event_row, table_snapshot, write_csv, write_jsonl
from scorecard.errors import BadInput
from scorecard.store import ingest
from scorecard.store.db import Store
from scorecard.store.engines import open_store
from scorecard.store.ingest import ingest_file
from scorecard.store.mapping import ColumnMap
from scorecard.store.preview import preview_file


@pytest.fixture(params=ENGINES)
def store(tmp_path, request):
    """A new store on each engine: every rule holds on both."""
    with open_store(address_for(request.param, tmp_path)) as opened:
        yield opened


@pytest.fixture
def duckdb_store(tmp_path):
    """A DuckDB store, for how DuckDB keeps rows in order (ClickHouse orders by its key)."""
    with Store(tmp_path / "store.duckdb") as opened:
        yield opened


def reasons(store) -> list[str]:
    return [r[0] for r in store.query("SELECT reason FROM rejected_rows ORDER BY row_number")]


def test_valid_rows_are_stored_with_their_types(store, tmp_path, pricing):
    path = write_csv(tmp_path / "ok.csv", [
        event_row("a", "2026-11-01T10:00:00+02:00", status="OK", latency_ms="120.5",
                  cost_usd="0.01", input_tokens="10", output_tokens="5", outcome="Success",
                  confidence="0.75", human_reviewed="Yes", human_overridden="0",
                  review_cost_usd="1", has_explanation="TRUE", segment="eu",
                  detected_by="system", input_ref="in/1", output_ref="out/1"),
    ])
    result = ingest_file(store, path, pricing=pricing)
    assert result.public() == {"file": "ok.csv", "rows_read": 1, "inserted": 1,
                               "duplicates": 0, "conflicts": 0, "rejected": 0}
    row = store.query_dicts("SELECT * FROM inference_events")[0]
    assert row["timestamp"] == datetime(2026, 11, 1, 8, 0)  # offset converted to UTC
    assert row["status"] == "ok" and row["outcome"] == "success"
    assert row["human_reviewed"] is True and row["human_overridden"] is False
    assert row["latency_ms"] == 120.5 and row["input_tokens"] == 10
    assert row["has_explanation"] is True


@pytest.mark.parametrize("field,value,reason", [
    ("event_id", "", "event_id is missing"),
    ("timestamp", "", "timestamp is missing"),
    ("timestamp", "yesterday", "timestamp 'yesterday' is not an ISO 8601 time"),
    ("timestamp", "2026-13-01T00:00:00", "is not an ISO 8601 time"),
    ("system", "", "system is missing"),
    ("model", "  ", "model is missing"),
    ("status", "", "status is missing"),
    ("status", "crashed", "status 'crashed' is not one of ok, error, timeout, fallback"),
    ("latency_ms", "-1", "latency_ms '-1' is negative"),
    ("latency_ms", "fast", "latency_ms 'fast' is not a number"),
    ("latency_ms", "inf", "latency_ms 'inf' is not a number"),
    ("cost_usd", "-0.5", "cost_usd '-0.5' is negative"),
    ("input_tokens", "1.5", "input_tokens '1.5' is not a whole number"),
    ("output_tokens", "-3", "output_tokens '-3' is negative"),
    ("outcome", "maybe", "outcome 'maybe' is not one of success, failure"),
    ("confidence", "1.01", "confidence '1.01' is outside [0, 1]"),
    ("confidence", "-0.1", "confidence '-0.1' is outside [0, 1]"),
    ("human_reviewed", "perhaps", "human_reviewed 'perhaps' is not true/false, 1/0 or yes/no"),
    ("human_overridden", "2", "human_overridden '2' is not true/false"),
    ("has_explanation", "y", "has_explanation 'y' is not true/false"),
    ("review_cost_usd", "-1", "review_cost_usd '-1' is negative"),
    ("detected_by", "auditor", "detected_by 'auditor' is not one of system, reviewer"),
])
def test_each_rule_rejects_with_a_reason_and_keeps_the_row(store, tmp_path, field, value, reason):
    bad = event_row("bad", **{field: value}) if field not in ("event_id",) else event_row(value)
    if field in ("timestamp", "system", "model", "status"):
        bad[field] = value
    path = write_csv(tmp_path / "x.csv", [event_row("good"), bad])
    result = ingest_file(store, path)
    assert (result.inserted, result.rejected) == (1, 1)
    row_number, got, raw = store.query("SELECT row_number, reason, raw FROM rejected_rows")[0]
    assert row_number == 2
    assert reason in got
    assert json.loads(raw)[field] in (value, None if not value.strip() else value)


def test_all_broken_rules_of_a_row_are_listed(store, tmp_path):
    path = write_csv(tmp_path / "x.csv", [event_row("a", status="bad", confidence="7",
                                                    latency_ms="-2")])
    ingest_file(store, path)
    assert reasons(store) == ["status 'bad' is not one of ok, error, timeout, fallback; "
                              "latency_ms '-2' is negative; confidence '7' is outside [0, 1]"]


def test_nanosecond_timestamps_are_accepted(store, tmp_path):
    path = write_csv(tmp_path / "x.csv", [event_row("a", "2026-11-01T10:00:00.123456789Z")])
    assert ingest_file(store, path).inserted == 1
    assert store.scalar("SELECT timestamp FROM inference_events") == datetime(
        2026, 11, 1, 10, 0, 0, 123456)


def test_duplicates_and_conflicts_inside_the_file_and_against_the_store(store, tmp_path):
    first = write_csv(tmp_path / "a.csv", [event_row("a", model="first"), event_row("b")])
    assert ingest_file(store, first).inserted == 2
    second = write_csv(tmp_path / "b.csv", [event_row("a", model="second"), event_row("b"),
                                             event_row("c"), event_row("c", model="repeat"),
                                             event_row("c")])
    result = ingest_file(store, second)
    assert (result.inserted, result.duplicates, result.conflicts, result.rejected) == (1, 2, 2, 0)
    assert store.scalar("SELECT model FROM inference_events WHERE event_id = 'a'") == "first"
    assert store.scalar("SELECT model FROM inference_events WHERE event_id = 'c'") == "m1"
    kept = store.query("SELECT row_number, reason FROM rejected_rows ORDER BY row_number")
    assert kept == [
        (1, "system 'sys' event_id 'a' is already stored with other values (model)"),
        (4, "system 'sys' event_id 'c' appears earlier in this file (row 3) with other values "
            "(model)")]


def test_reingesting_a_file_changes_nothing(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [event_row(f"e{i}") for i in range(20)])
    ingest_file(store, path)
    before = store.query("SELECT * FROM inference_events ORDER BY event_id")
    again = ingest_file(store, path)
    assert (again.inserted, again.duplicates) == (0, 20)
    assert store.query("SELECT * FROM inference_events ORDER BY event_id") == before


def test_formats_parquet_jsonl_and_gzip(store, tmp_path):
    rows = [event_row(f"p{i}", latency_ms=10.0 * i, confidence=0.5) for i in range(3)]
    pd.DataFrame(rows).to_parquet(tmp_path / "a.parquet")
    write_jsonl(tmp_path / "b.jsonl", [event_row(f"j{i}", human_reviewed=True) for i in range(3)])
    with gzip.open(tmp_path / "c.csv.gz", "wt") as fh:
        fh.write("event_id,timestamp,system,model,status\ng1,2026-11-01,s,m,ok\n")
    with gzip.open(tmp_path / "d.jsonl.gz", "wt") as fh:
        fh.write(json.dumps(event_row("z1")) + "\n")
    pd.DataFrame(rows).assign(event_id=["q1", "q2", "q3"]).to_parquet(tmp_path / "e.parquet")
    with open(tmp_path / "e.parquet", "rb") as src, gzip.open(tmp_path / "e.parquet.gz", "wb") as dst:
        dst.write(src.read())
    counts = [ingest_file(store, tmp_path / f).inserted
              for f in ("a.parquet", "b.jsonl", "c.csv.gz", "d.jsonl.gz", "e.parquet.gz")]
    assert counts == [3, 3, 1, 1, 3]
    assert store.scalar("SELECT count(*) FROM inference_events WHERE human_reviewed") == 3


def test_parquet_with_native_timestamps(store, tmp_path):
    frame = pd.DataFrame([event_row("a"), event_row("b")])
    frame["timestamp"] = pd.to_datetime(["2026-11-01T10:00:00.123456789Z", "2026-11-02T00:00:00.000000000Z"], format="ISO8601")
    frame.to_parquet(tmp_path / "t.parquet")
    assert ingest_file(store, tmp_path / "t.parquet").inserted == 2
    assert store.scalar("SELECT max(timestamp) FROM inference_events") == datetime(2026, 11, 2)


def test_typed_parquet_columns_follow_the_same_rules_as_text(store, tmp_path):
    """Typed Parquet columns skip parsing, not the rules: infinities, negatives, out-of-range values
    and a DOUBLE token count that is not whole are rejected as they would be from CSV."""
    frame = pd.DataFrame({
        "event_id": ["ok", "inf", "neg", "conf", "frac", "naive"],
        "timestamp": pd.to_datetime(["2026-11-01T10:00:00+02:00"] * 5 + ["2026-11-01T10:00:00"],
                                    format="ISO8601", utc=True),
        "system": "s", "model": "m", "status": "ok",
        "latency_ms": [1.5, float("inf"), 2.0, 2.0, 2.0, 2.0],
        "cost_usd": [0.1, 0.1, -0.1, 0.1, 0.1, 0.1],
        "confidence": [0.5, 0.5, 0.5, 1.5, 0.5, 0.5],
        "input_tokens": [10.0, 10.0, 10.0, 10.0, 10.5, 10.0],
        "output_tokens": pd.array([5, 5, 5, 5, 5, None], dtype="Int64"),
        "human_reviewed": [True, False, False, False, False, None],
    })
    frame.to_parquet(tmp_path / "typed.parquet")
    result = ingest_file(store, tmp_path / "typed.parquet")
    assert (result.inserted, result.rejected) == (2, 4)
    assert reasons(store) == ["latency_ms 'inf' is not a number", "cost_usd '-0.1' is negative",
                              "confidence '1.5' is outside [0, 1]",
                              "input_tokens '10.5' is not a whole number"]
    assert store.query("SELECT event_id, timestamp, input_tokens, output_tokens, human_reviewed "
                       "FROM inference_events ORDER BY event_id") == [
        ("naive", datetime(2026, 11, 1, 10), 10, None, None),
        ("ok", datetime(2026, 11, 1, 8), 10, 5, True)]


@pytest.mark.parametrize("descending", [False, True])
def test_rows_are_stored_in_day_order_so_windows_prune(duckdb_store, tmp_path, descending):
    """A file in time order is stored as it is; one out of order is sorted by day on the way
    in (windows start and end on days, so no row group then reaches back into another day)."""
    n = 300_000  # more than two row groups
    seconds = pd.Series(range(n))[::-1 if descending else 1].reset_index(drop=True)
    frame = pd.DataFrame({"event_id": "e" + pd.Series(range(n)).astype(str),
                          "timestamp": pd.Timestamp("2026-11-01") + pd.to_timedelta(seconds, "s"),
                          "system": "s", "model": "m", "status": "ok"})
    frame.to_parquet(tmp_path / "times.parquet")
    assert ingest_file(duckdb_store, tmp_path / "times.parquet").inserted == n
    disorder = duckdb_store.scalar("SELECT count(*) FROM (SELECT CAST(timestamp AS DATE) < "
                            "lag(CAST(timestamp AS DATE)) OVER (ORDER BY rowid) AS back FROM "
                            "inference_events) WHERE back")
    assert disorder == 0
    assert duckdb_store.scalar("SELECT count(DISTINCT CAST(timestamp AS DATE)) FROM "
                        "inference_events") == 4


def test_a_file_out_of_order_is_sorted_by_day_in_runs_of_file_rows(duckdb_store, tmp_path,
                                                                    monkeypatch):
    """Runs of SORT_RUN_ROWS file rows are each stored in day order, and together they store
    every valid row once, up to the last row (malformed lines leave gaps in the row numbers)."""
    monkeypatch.setattr(ingest, "SORT_RUN_ROWS", 3)
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 2)  # so that the file is seen out of order
    day = "d{0},2026-11-0{0}T12:00:00Z,s,m,ok".format
    malformed = "x,2026-11-01,s,m,ok,extra"
    # file rows 1-3, 4-6, 7-9, 10-12 and 13: three malformed lines, a duplicate, a bad time
    lines = [day(9), day(8), malformed, day(7), day(6), malformed, day(5), malformed, day(4),
             day(3), day(9), "bad,not a time,s,m,ok", day(2)]
    (tmp_path / "late.csv").write_text("event_id,timestamp,system,model,status\n"
                                       + "\n".join(lines) + "\n")
    result = ingest_file(duckdb_store, tmp_path / "late.csv")
    assert (result.inserted, result.duplicates, result.rejected) == (8, 1, 4)
    stored = [r[0] for r in duckdb_store.query("SELECT event_id FROM inference_events "
                                               "ORDER BY rowid")]
    assert stored == ["d8", "d9", "d6", "d7", "d4", "d5", "d3", "d2"]


def test_jsonl_bad_lines_are_rejected_not_fatal(store, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(event_row("a")) + "\n\nnot json\n[1, 2]\n"
                    + json.dumps(event_row("b", confidence=0.3)) + "\n")
    result = ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (4, 2, 2)
    assert store.query("SELECT row_number FROM rejected_rows ORDER BY 1") == [(3,), (4,)]


def test_csv_lines_with_the_wrong_shape_are_rejected(store, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("event_id,timestamp,system,model,status\n"
                    "a,2026-11-01,s,m,ok\nb,2026-11-01,s,m,ok,extra\nc,2026-11-01,s,m,ok\n")
    result = ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert "too many columns" in reasons(store)[0]


def test_map_file_renames_sets_constants_and_translates(store, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("id,ts,result,score\nx1,2026-11-01T00:00:00Z,1,0.9\nx2,2026-11-01,0,0.4\n"
                    "x3,2026-11-01,,0.1\n")
    cmap = ColumnMap.model_validate({
        "columns": {"event_id": "id", "timestamp": "ts", "outcome": "result",
                    "confidence": "score"},
        "constants": {"system": "car-loan", "model": "loan-v3", "status": "ok"},
        "values": {"outcome": {1: "success", "0": "failure"}},
    })
    assert ingest_file(store, path, cmap=cmap).inserted == 3
    assert store.query("SELECT event_id, system, model, outcome FROM inference_events "
                       "ORDER BY 1") == [("x1", "car-loan", "loan-v3", "success"),
                                          ("x2", "car-loan", "loan-v3", "failure"),
                                          ("x3", "car-loan", "loan-v3", None)]


def test_map_naming_an_absent_source_column_is_refused(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [event_row("a")])
    cmap = ColumnMap(columns={"latency_ms": "duration"})
    with pytest.raises(BadInput, match="does not have"):
        ingest_file(store, path, cmap=cmap)


def test_missing_cost_is_priced_from_tokens(store, tmp_path, pricing):
    path = write_csv(tmp_path / "a.csv", [
        event_row("a", model="gpt-4o-2024-08-06", input_tokens=1_000_000, output_tokens=100_000),
        event_row("b", model="gpt-4o-mini-2024-07-18", input_tokens=1_000_000, output_tokens=0),
        event_row("c", model="unknown-model", input_tokens=5, output_tokens=5),
        event_row("d", model="gpt-4o", cost_usd=0.5, input_tokens=10, output_tokens=10),
    ])
    ingest_file(store, path, pricing=pricing)
    costs = dict(store.query("SELECT event_id, cost_usd FROM inference_events"))
    assert costs["a"] == pytest.approx(2.50 + 1.00)
    assert costs["b"] == pytest.approx(0.15)
    assert costs["c"] is None
    assert costs["d"] == 0.5


@pytest.mark.parametrize("name,content,message", [
    ("a.txt", "x", "extension scorecard does not read"),
    ("a.csv", "", "is empty"),
    ("a.parquet", "this is not parquet", "could not be read"),
    ("a.csv.gz", "not gzip at all", "could not be read"),
    ("a.csv", "id,ts\n1,2\n", "has no event_id, timestamp, system, model, status columns"),
])
def test_unusable_files_store_nothing_and_say_why(store, tmp_path, name, content, message):
    write_csv(tmp_path / "seed.csv", [event_row("seed")])
    ingest_file(store, tmp_path / "seed.csv")
    before = table_snapshot(store)
    (tmp_path / name).write_text(content)
    with pytest.raises(BadInput) as info:
        ingest_file(store, tmp_path / name)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert table_snapshot(store) == before
    assert store.scalar("SELECT status FROM ingest_log ORDER BY recorded_at DESC LIMIT 1") == "failed"


def test_incidents_rules(store, tmp_path):
    path = tmp_path / "inc.csv"
    path.write_text(
        "incident_id,system,severity,started_at,detected_at,resolved_at,detected_by,summary\n"
        "i1,s,sev1,2026-11-01T00:00:00Z,2026-11-01T00:10:00Z,2026-11-01T01:00:00Z,customer,x\n"
        "i2,s,sev5,2026-11-01T00:00:00Z,2026-11-01T00:10:00Z,,system,bad severity\n"
        "i3,s,sev2,2026-11-01T00:10:00Z,2026-11-01T00:00:00Z,,system,detected first\n"
        "i4,s,sev2,2026-11-01T00:00:00Z,2026-11-01T00:10:00Z,2026-11-01T00:05:00Z,,early fix\n"
        "i1,s,sev1,2026-11-01T00:00:00Z,2026-11-01T00:10:00Z,,customer,duplicate\n")
    result = ingest_file(store, path, kind="incidents")
    assert (result.inserted, result.rejected, result.duplicates, result.conflicts) == (
        1, 3, 0, 1)
    assert reasons(store) == ["severity 'sev5' is not one of sev1, sev2, sev3, sev4",
                              "detected_at is before started_at",
                              "resolved_at is before detected_at",
                              "incident_id 'i1' appears earlier in this file (row 1) with other "
                              "values (resolved_at, summary)"]


def test_a_fault_mid_file_leaves_the_store_exactly_as_before(store, tmp_path, monkeypatch):
    ingest_file(store, write_csv(tmp_path / "seed.csv", [event_row("seed")]))
    before = table_snapshot(store)
    version = store.data_version()
    path = write_csv(tmp_path / "big.csv", [event_row(f"e{i}", confidence="2" if i % 7 == 0 else
                                                      "0.5") for i in range(500)])

    def crash_after_inserts(fraction, text):  # reported once the valid rows are inserted
        if text == "Keeping the rejected rows with their reasons":
            raise RuntimeError("disk unplugged")

    with pytest.raises(RuntimeError):
        ingest_file(store, path, progress=crash_after_inserts)
    assert table_snapshot(store) == before
    assert store.data_version() == version
    assert ingest_file(store, path).inserted == 500 - 72


def test_ingest_log_records_each_upload(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [event_row("a"), event_row("b", status="bad")])
    ingest_file(store, path, actor="alice", via="app")
    log = store.query_dicts("SELECT * FROM ingest_log")[0]
    assert log["actor"] == "alice" and log["via"] == "app" and log["file"] == "a.csv"
    assert log["size_bytes"] == path.stat().st_size and len(log["sha256"]) == 64
    assert (log["rows_read"], log["inserted"], log["rejected"], log["status"]) == (2, 1, 1, "ok")


# -- how lines are read: each line once, verbatim, however long or however it ends ----------


def test_a_lone_carriage_return_does_not_split_a_json_line(store, tmp_path):
    """A CR alone is JSON whitespace, or a byte of a broken line: either way one line."""
    good = json.dumps(event_row("a")).replace(", ", ",\r")
    path = tmp_path / "x.jsonl"
    path.write_bytes(f"{good}\nbroken\rline\n{json.dumps(event_row('b'))}\r\n".encode())
    result = ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert store.query("SELECT row_number, raw FROM rejected_rows") == [(2, "broken\rline")]


@pytest.mark.parametrize("byte", ["\x1f", "\x1f\x1e\x1d\x1c", "\x1c"])
def test_a_rejected_line_keeps_every_byte(store, tmp_path, byte):
    path = tmp_path / "x.jsonl"
    path.write_text(f"not{byte}json, and{byte}more\n{json.dumps(event_row('a'))}\n",
                    encoding="utf-8")
    result = ingest_file(store, path)
    assert (result.inserted, result.rejected) == (1, 1)
    assert store.query("SELECT raw FROM rejected_rows") == [(f"not{byte}json, and{byte}more",)]


def test_a_40_mb_json_line_is_read_with_its_neighbours(duckdb_store, tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [event_row("a"), event_row("b", note="x" * (40 << 20)),
                                               event_row("c"), {"event_id": "d"}])
    result = ingest_file(duckdb_store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (4, 3, 1)
    assert duckdb_store.query("SELECT row_number FROM rejected_rows") == [(4,)]


def test_json_lines_read_whole_miss_no_key_and_keep_rejected_lines_verbatim(duckdb_store,
                                                                           tmp_path):
    """A tidy file goes through DuckDB's own JSON reader, whose sample (20,480 lines) would
    drop a key first seen later and fail on a value of another type: the outcome on line
    25,000, a latency written as a word on line 24,501 and a cost on a rejected line are all
    read, and the rejected lines are kept as written, with their line numbers."""
    rows = [event_row(f"e{i}", timestamp=f"2026-11-{1 + i % 20:02d}T10:00:00Z",
                      latency_ms=100 + i) for i in range(25_000)]
    rows[24_999]["outcome"] = "success"
    rows[24_000].update(cost_usd=0.5, status="lost")
    rows[24_500]["latency_ms"] = "fast"
    path = write_jsonl(tmp_path / "late.jsonl", rows)
    tidy = path.read_text(encoding="utf-8").splitlines()
    assert ingest._read_json_whole(duckdb_store.cursor(), path, tmp_path) is not None
    result = ingest_file(duckdb_store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (25_000, 24_998, 2)
    assert duckdb_store.query("SELECT outcome, latency_ms FROM inference_events WHERE "
                              "event_id = 'e24999'") == [("success", 25_099.0)]
    rejected = duckdb_store.query("SELECT row_number, reason, raw FROM rejected_rows "
                                  "ORDER BY row_number")
    assert [(n, raw) for n, _, raw in rejected] == [(24_001, tidy[24_000]),
                                                    (24_501, tidy[24_500])]
    assert "status 'lost'" in rejected[0][1] and "latency_ms 'fast'" in rejected[1][1]


def test_a_3_mb_csv_field_is_read_with_its_neighbours(duckdb_store, tmp_path):
    rows = [event_row("a"), event_row("b", note="x" * (3 << 20)), event_row("c"),
            event_row("d", timestamp="not a time")]
    path = write_csv(tmp_path / "x.csv", rows, [*event_row(), "note"])
    result = ingest_file(duckdb_store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (4, 3, 1)
    assert duckdb_store.query("SELECT row_number FROM rejected_rows") == [(4,)]


def test_a_quoted_csv_value_of_several_lines_past_2_mb_is_kept_whole(duckdb_store, tmp_path):
    """No line reaches 2 MB, the quoted value does: read with DuckDB's default it would be cut
    and its other lines taken for malformed rows."""
    note = "\n".join(["x" * 900_000] * 3)
    rows = [event_row("a"), event_row("b", timestamp="not a time", note=f'"{note}"'),
            event_row("c")]
    path = write_csv(tmp_path / "x.csv", rows, [*event_row(), "note"])
    result = ingest_file(duckdb_store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    [(row, raw)] = duckdb_store.query("SELECT row_number, raw FROM rejected_rows")
    assert row == 2 and json.loads(raw)["note"] == note
    columns, first = preview_file(path, "x.csv", rows=3)
    assert [r[0] for r in first] == ["a", "b", "c"]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_line_just_past_duckdbs_own_longest_is_read_wherever_it_lies(duckdb_store, tmp_path,
                                                                       suffix):
    """DuckDB's readers allow 2,000,000-byte lines unless told more, and the ingest tells them
    only when the file may hold a longer line. A 2,050,000-byte line starting 28,576 bytes in
    holds no whole 1 MiB block of the file: it must still be found (and its row, rejected,
    kept whole: a JSON line is read back from the file for that)."""
    long_at, long_bytes = 28_576, 2_050_000
    rows = [event_row("a", note=""), event_row("b", status="lost", note=""), event_row("c")]
    path, before = tmp_path / f"x.{suffix}", 1 + (suffix == "csv")  # (the header and) row a

    def line_sizes() -> list[int]:
        written = (write_csv(path, rows, [*event_row(), "note"]) if suffix == "csv"
                   else write_jsonl(path, rows))
        return [len(line) + 1 for line in written.read_bytes().split(b"\n")]

    rows[0]["note"] = "x" * (long_at - sum(line_sizes()[:before]))
    rows[1]["note"] = "y" * (long_bytes - line_sizes()[before])
    sizes = line_sizes()
    assert (sum(sizes[:before]), sizes[before]) == (long_at, long_bytes)
    result = ingest_file(duckdb_store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    [(raw,)] = duckdb_store.query("SELECT raw FROM rejected_rows")
    assert json.loads(raw)["note"] == rows[1]["note"]


def test_a_csv_mixing_line_endings_is_read_row_by_row(store, tmp_path):
    """Spreadsheet exports glued to Unix ones: CR LF, LF and CR alone in one file."""
    header = "event_id,timestamp,system,model,status"
    rows = [f"e{i},2026-11-0{1 + i % 9}T10:00:00Z,s,m,ok" for i in range(6)]
    rows[3] += ",extra"  # a malformed row keeps its row number
    path = tmp_path / "x.csv"
    path.write_bytes((header + "\r\n" + rows[0] + "\n" + rows[1] + "\r\n" + rows[2] + "\r"
                      + rows[3] + "\n" + rows[4] + "\r\n" + rows[5] + "\n").encode())
    result = ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (6, 5, 1)
    assert store.query("SELECT row_number FROM rejected_rows") == [(4,)]
    assert store.query("SELECT count(*) FROM inference_events WHERE status <> 'ok'") == [(0,)]
    columns, first = preview_file(path, "x.csv", rows=3)
    assert columns[0] == "event_id" and [r[0] for r in first] == ["e0", "e1", "e2"]
    packed = tmp_path / "x.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert preview_file(packed, "x.csv.gz", rows=3) == (columns, first)
    assert ingest_file(store, packed).rejected == 1
