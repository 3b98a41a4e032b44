"""Property-based ingestion: random malformed files never crash, and only valid rows land."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HEADER, table_snapshot
from scorecard.errors import BadInput
from scorecard.store.db import Store
from scorecard.store.ingest import ingest_file

COLUMNS = HEADER.split(",")
# For each column: values that pass its rule and values that break it.
GOOD = {
    "timestamp": ["2026-11-01T10:00:00Z", "2026-11-01 10:00:00", "2026-11-01T10:00:00+05:30",
                  "2026-11-01T10:00:00.123456789Z"],
    "system": ["a", "support"], "model": ["m", "gpt-4o"],
    "status": ["ok", "ERROR", "timeout", "Fallback"],
    "latency_ms": ["", "0", "12.5", "1e3", "NaN", "nan"], "cost_usd": ["", "0", "0.001"],
    "input_tokens": ["", "0", "12"], "output_tokens": ["", "7", "3.0"],
    "outcome": ["", "success", "FAILURE"], "confidence": ["", "0", "1", "0.42"],
    "human_reviewed": ["", "yes", "0", "TRUE"], "human_overridden": ["", "no", "1"],
    "review_cost_usd": ["", "2"], "has_explanation": ["", "false", "Yes"],
    "segment": ["", "eu", "x y"], "detected_by": ["", "system", "Customer"],
    "input_ref": ["", "in/1"], "output_ref": ["", "out/1"],
}
BAD = {
    "timestamp": ["", "soon", "2026-02-30T00:00:00"], "system": [""], "model": [""],
    "status": ["", "done"], "latency_ms": ["-1", "abc", "inf", "-Infinity"], "cost_usd": ["-0.1", "$1"],
    "input_tokens": ["1.5", "-1", "many"], "output_tokens": ["x"], "outcome": ["ok", "1"],
    "confidence": ["1.5", "-0.01", "high"], "human_reviewed": ["maybe", "2"],
    "human_overridden": ["y"], "review_cost_usd": ["-5"], "has_explanation": ["t"],
    "detected_by": ["auditor"],
}


@st.composite
def rows(draw):
    """A row as a dict plus whether every field of it is valid."""
    row, valid = {"event_id": draw(st.sampled_from(["a", "b", "c", "d", "e", "f"]))}, True
    for col in COLUMNS[1:]:
        if col in BAD and draw(st.integers(0, 9)) == 0:
            row[col], valid = draw(st.sampled_from(BAD[col])), False
        else:
            row[col] = draw(st.sampled_from(GOOD[col]))
    return row, valid


def write(path: Path, rows_: list[dict]) -> None:
    path.write_text("\n".join([",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS)
                                                     for r in rows_]) + "\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), max_size=25), st.lists(rows(), max_size=25))
def test_exactly_the_valid_new_rows_land(first, second):
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "p.duckdb") as store:
        stored: set[tuple[str, str]] = set()
        for batch in (first, second):
            write(Path(tmp) / "x.csv", [r for r, _ in batch])
            expected = []
            for row, valid in batch:
                identity = (row["system"], row["event_id"])
                if valid and identity not in stored:
                    stored.add(identity)
                    expected.append(identity)
            result = ingest_file(store, Path(tmp) / "x.csv")
            assert result.inserted == len(expected)
            assert result.rejected == sum(1 for _, v in batch if not v)
            assert result.rows_read == len(batch)
            assert (result.inserted + result.duplicates + result.conflicts + result.rejected
                    == result.rows_read)
            assert store.scalar("SELECT count(*) FROM rejected_rows WHERE ingest_id = ?",
                                [result.ingest_id]) == result.rejected + result.conflicts
        assert set(store.query("SELECT system, event_id FROM inference_events")) == stored


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(["x.csv", "x.jsonl", "x.parquet", "x.csv.gz"]))
def test_random_bytes_never_crash_and_never_half_store(content, name):
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "p.duckdb") as store:
        path = Path(tmp) / name
        path.write_bytes(content)
        before = table_snapshot(store)
        try:
            result = ingest_file(store, path)
        except BadInput as exc:
            assert str(exc) and "\n" not in str(exc)
            assert table_snapshot(store) == before
        else:
            assert (result.inserted + result.rejected + result.duplicates + result.conflicts
                    == result.rows_read)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
                min_size=1, max_size=8))
def test_random_text_lines_in_json_lines_are_rejected_with_reasons(lines):
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "p.duckdb") as store:
        path = Path(tmp) / "x.jsonl"
        path.write_text("\n".join(line.replace("\r", " ").replace("\n", " ") for line in lines),
                        encoding="utf-8")
        try:
            result = ingest_file(store, path)
        except BadInput as exc:
            assert "\n" not in str(exc)
            return
        assert result.inserted == 0
        assert store.scalar("SELECT count(*) FROM rejected_rows WHERE reason IS NULL") == 0
