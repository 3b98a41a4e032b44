"""Scoring data where it lives: Langfuse's own ClickHouse tables (the columns its migrations
create, as ReplacingMergeTrees with deleted rows and older versions), read in place through
docs/langfuse-in-place.yaml, give the numbers the same decisions give when loaded as a file."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import address_for, write_csv
from scorecard.errors import BadInput
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.thresholds import load_thresholds
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.engines import open_store
from scorecard.metrics.slices import compute_slices
from scorecard.store.in_place import InPlaceMap, keeping_the_rules, link, mapped_rows
from scorecard.store.schema import SCHEMA_VERSION
from scorecard.store.ingest import ingest_file
from golden_numbers import _plain
from test_engines import _differences

MAP = Path(__file__).resolve().parents[1] / "docs" / "langfuse-in-place.yaml"
THRESHOLDS = load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml")

# Langfuse's tables with the columns the map reads, typed and keyed as its migrations make them
LANGFUSE = [
    "CREATE DATABASE IF NOT EXISTS langfuse",
    """CREATE TABLE langfuse.traces (id String, timestamp DateTime64(3), name String,
         user_id Nullable(String), release Nullable(String), project_id String,
         event_ts DateTime64(3), is_deleted UInt8)
       ENGINE = ReplacingMergeTree(event_ts, is_deleted) PARTITION BY toYYYYMM(timestamp)
       ORDER BY (project_id, toDate(timestamp), id)""",
    """CREATE TABLE langfuse.observations (id String, trace_id String, project_id String,
         type LowCardinality(String), start_time DateTime64(3), end_time Nullable(DateTime64(3)),
         name String, level LowCardinality(String), status_message Nullable(String),
         provided_model_name Nullable(String), usage_details Map(LowCardinality(String), UInt64),
         total_cost Nullable(Decimal64(12)), event_ts DateTime64(3), is_deleted UInt8)
       ENGINE = ReplacingMergeTree(event_ts, is_deleted) PARTITION BY toYYYYMM(start_time)
       ORDER BY (project_id, type, toDate(start_time), id)""",
    """CREATE TABLE langfuse.scores (id String, timestamp DateTime64(3), project_id String,
         trace_id String, observation_id Nullable(String), name String, value Float64,
         source String, data_type String, event_ts DateTime64(3), is_deleted UInt8)
       ENGINE = ReplacingMergeTree(event_ts, is_deleted) PARTITION BY toYYYYMM(timestamp)
       ORDER BY (project_id, toDate(timestamp), name, id)""",
]


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def langfuse_rows(seed: int = 7) -> tuple[list[str], list[dict]]:
    """INSERT statements for Langfuse's tables, and the decisions they hold as contract rows
    (what the map should read: the newest version of each generation, deleted ones left out)."""
    rng = random.Random(seed)
    inserts, expected = [], []
    start = datetime(2026, 10, 20)
    for i in range(600):
        trace, at = f"t{i}", start + timedelta(minutes=53 * i + rng.randint(0, 40))
        system = ("support-bot", "triage", "summariser")[i % 3]
        release = "bot-1" if at < datetime(2026, 11, 8) else "bot-2"
        user = f"user-{i % 7}" if i % 11 else None
        inserts.append(f"INSERT INTO langfuse.traces VALUES ('{trace}', '{_ts(at)}', "
                       f"'{system}', {repr(user) if user else 'NULL'}, '{release}', 'p1', "
                       f"'{_ts(at)}', 0)")
        gen, latency = f"g{i}", rng.randint(200, 4000)
        error = rng.random() < 0.06
        timeout = error and rng.random() < 0.4
        cost = round(rng.uniform(0.001, 0.02), 6)
        tokens_in, tokens_out = rng.randint(100, 900), rng.randint(20, 300)
        model = "gpt-x" if at < datetime(2026, 11, 8) else "gpt-y"
        level = "ERROR" if error else "DEFAULT"
        message = "'Request timeout after 30s'" if timeout else ("'boom'" if error else "NULL")
        row = (f"'{gen}', '{trace}', 'p1', 'GENERATION', '{_ts(at)}', "
               f"'{_ts(at + timedelta(milliseconds=latency))}', 'chat', '{level}', {message}, "
               f"'{model}', map('input', {tokens_in}, 'output', {tokens_out}), {cost}")
        if i % 50 == 0:  # an older version of the row, replaced by the newer one below
            inserts.append(f"INSERT INTO langfuse.observations VALUES ('{gen}', '{trace}', 'p1', "
                           f"'GENERATION', '{_ts(at)}', NULL, 'chat', 'DEFAULT', NULL, 'old', "
                           f"map('input', 1), 9.0, '{_ts(at)}', 0)")
        inserts.append(f"INSERT INTO langfuse.observations VALUES ({row}, "
                       f"'{_ts(at + timedelta(seconds=5))}', 0)")
        # the same trace's retrieval span: not a decision
        inserts.append(f"INSERT INTO langfuse.observations VALUES ('s{i}', '{trace}', 'p1', "
                       f"'SPAN', '{_ts(at)}', NULL, 'retrieve', 'DEFAULT', NULL, NULL, map(), "
                       f"NULL, '{_ts(at)}', 0)")
        deleted = i % 97 == 5
        if deleted:  # deleted in Langfuse: a newer version marks it so
            inserts.append(f"INSERT INTO langfuse.observations VALUES ({row}, "
                           f"'{_ts(at + timedelta(seconds=9))}', 1)")
        judged = None
        if rng.random() < 0.6:
            value = 1.0 if rng.random() < (0.9 if system != "triage" else 0.7) else 0.0
            judged = at + timedelta(hours=rng.randint(1, 30))
            if rng.random() < 0.2:  # judged twice: the newest judgement counts
                inserts.append(f"INSERT INTO langfuse.scores VALUES ('c{i}', '{_ts(at)}', 'p1', "
                               f"'{trace}', '{gen}', 'correctness', {1.0 - value}, 'EVAL', "
                               f"'NUMERIC', '{_ts(at)}', 0)")
            inserts.append(f"INSERT INTO langfuse.scores VALUES ('k{i}', '{_ts(judged)}', 'p1', "
                           f"'{trace}', '{gen}', 'correctness', {value}, 'EVAL', 'NUMERIC', "
                           f"'{_ts(judged)}', 0)")
        if deleted:
            continue
        expected.append({
            "event_id": gen, "timestamp": at.isoformat(), "system": system, "model": model,
            "status": ("timeout" if timeout else "error") if error else "ok",
            "latency_ms": latency, "cost_usd": cost, "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "outcome": None if judged is None else ("success" if value >= 0.5 else "failure"),
            "outcome_at": judged.isoformat() if judged else None, "release": release,
            "customer": user})
    # one generation whose cost breaks the contract: read in place, it is left out and counted
    inserts.append("INSERT INTO langfuse.observations VALUES ('bad', 't1', 'p1', 'GENERATION', "
                   "'2026-11-01 10:00:00.000', NULL, 'chat', 'DEFAULT', NULL, 'gpt-x', map(), "
                   "-1.0, '2026-11-01 10:00:00.000', 0)")
    return inserts, expected


COLUMNS = ["event_id", "timestamp", "system", "model", "status", "latency_ms", "cost_usd",
           "input_tokens", "output_tokens", "outcome", "outcome_at", "release", "customer"]


def test_langfuse_read_in_place_scores_as_the_same_decisions_loaded(tmp_path):
    inserts, expected = langfuse_rows()
    with open_store(address_for("duckdb", tmp_path / "loaded")) as loaded:
        ingest_file(loaded, write_csv(tmp_path / "decisions.csv", expected, COLUMNS))
        want = compute_scorecard(loaded, THRESHOLDS)
    with open_store(address_for("chdb", tmp_path / "in-place")) as store:
        for statement in LANGFUSE + inserts:
            store.cursor().execute(statement)
        source_before = store.query("SELECT count(*), sum(cityHash64(*)) FROM "
                                    "langfuse.observations")
        linked = link(store, InPlaceMap.load(MAP))
        assert (linked.source_rows, linked.breaking_rules) == (len(expected) + 1, 1)
        got = compute_scorecard(store, THRESHOLDS)
        assert got.systems == want.systems == ["summariser", "support-bot", "triage"]
        assert _differences(_plain(got.values), _plain(want.values)) == []
        assert want.scope(None)["success_rate"].value is not None
        for dimension in ("release", "customer"):  # the trace's release and user
            with open_store(address_for("duckdb", tmp_path / "loaded"), read_only=True) as duck:
                want_sliced = compute_slices(duck, THRESHOLDS, dimension).values
            got_sliced = compute_slices(store, THRESHOLDS, dimension).values
            assert set(got_sliced["triage"]) == set(want_sliced["triage"])
            for scope, by_value in want_sliced.items():
                for value, metrics in by_value.items():
                    assert _differences(_plain({value: got_sliced[scope][value]}),
                                        _plain({value: metrics})) == [], (dimension, scope)
        # read only: the scorecard writes nothing to Langfuse's tables, and refuses to load
        # events beside the ones it reads in place
        with pytest.raises(BadInput, match="reads its events in place from langfuse.observations"):
            ingest_file(store, write_csv(tmp_path / "more.csv", expected[:3], COLUMNS))
        assert store.query("SELECT count(*), sum(cityHash64(*)) FROM langfuse.observations") \
            == source_before


def test_a_linked_store_from_before_the_slice_columns_reads_them_after_its_upgrade(tmp_path):
    inserts, _ = langfuse_rows()
    address = address_for("chdb", tmp_path)
    m = InPlaceMap.load(MAP)
    with open_store(address) as store:
        for statement in LANGFUSE + inserts:
            store.cursor().execute(statement)
        link(store, m)
        # the view as schema 8 made it: without release, team, feature and customer
        store._run("DROP VIEW inference_events")
        store._run("CREATE VIEW inference_events AS SELECT * EXCEPT (release, team, feature, "
                   f"customer) FROM ({mapped_rows(m)}) WHERE {keeping_the_rules()}")
        store.set_meta("schema_version", "8")
    with open_store(address) as store:  # the view is made again through its map
        assert store.schema_version() == SCHEMA_VERSION
        assert store.query("SELECT DISTINCT release FROM inference_events ORDER BY release") \
            == [("bot-1",), ("bot-2",)]


def test_a_map_that_does_not_run_or_misses_a_column_is_one_sentence(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("source: langfuse.nowhere\ncolumns: {event_id: id, timestamp: ts, "
                      "system: s, model: m, status: st}\n")
    with open_store(address_for("chdb", tmp_path)) as store:
        with pytest.raises(BadInput, match="The map's SQL does not run on this store: .*"
                                           "Database langfuse does not exist"):
            link(store, InPlaceMap.load(broken))
    partial = tmp_path / "partial.yaml"
    partial.write_text("source: t\ncolumns: {event_id: id}\n")
    with pytest.raises(BadInput, match="partial.yaml cannot be used: columns: it maps no "
                                       "timestamp, system, model, status"):
        InPlaceMap.load(partial)


def test_a_store_holding_loaded_events_is_not_linked(tmp_path):
    inserts, expected = langfuse_rows()
    with open_store(address_for("chdb", tmp_path)) as store:
        for statement in LANGFUSE + inserts[:40]:
            store.cursor().execute(statement)
        ingest_file(store, write_csv(tmp_path / "d.csv", expected[:5], COLUMNS))
        with pytest.raises(BadInput, match="holds 5 loaded events"):
            link(store, InPlaceMap.load(MAP))
    with open_store(address_for("duckdb", tmp_path)) as duck:
        with pytest.raises(BadInput, match="only from ClickHouse"):
            link(duck, InPlaceMap.load(MAP))


@pytest.mark.parametrize("reach, what", [
    ({"source": "url('http://127.0.0.1:9/x.csv', CSV, 'id String')"}, "the table function url()"),
    ({"columns_system": "file('/etc/hostname')"}, "the function file()"),
    ({"where": "id IN (SELECT * FROM file('/etc/passwd', LineAsString))"},
     "the table function file()"),
    ({"source": "(SELECT * FROM s3('http://127.0.0.1:9/b', 'CSV', 'id String')) AS t"},
     "the table function s3()"),
])
def test_a_map_that_reads_beyond_the_store_is_refused(tmp_path, reach, what):
    """#36 item 10: a map may name tables, views and column expressions only: no file() or url()
    reads a server's files or fetches an address, wherever in the map it hides."""
    source = reach.get("source", "t")
    system = reach.get("columns_system", "s")
    where = f"where: \"{reach['where']}\"\n" if "where" in reach else ""
    path = tmp_path / "reach.yaml"
    path.write_text(f"source: \"{source}\"\n{where}columns: {{event_id: id, timestamp: ts, "
                    f"system: \"{system}\", model: m, status: st}}\n")
    with open_store(address_for("chdb", tmp_path)) as store:
        store.cursor().execute("CREATE TABLE t (id String, ts DateTime64(3), s String, m String, "
                               "st String) ENGINE = MergeTree ORDER BY id")
        with pytest.raises(BadInput, match=re.escape(f"uses {what}, which reads beyond the")):
            link(store, InPlaceMap.load(path))
        assert store.events_in_place is None  # nothing linked


def test_a_source_row_from_the_year_9999_moves_no_window(tmp_path):
    """#36 item 9: a linked store's row stamped far ahead (a broken clock upstream) is read,
    but the scorecard's window still ends today at the latest."""
    path = tmp_path / "map.yaml"
    path.write_text("source: t\ncolumns: {event_id: id, timestamp: ts, system: s, model: m, "
                    "status: st}\n")
    today = datetime.now(UTC).date()
    with open_store(address_for("chdb", tmp_path)) as store:  # the source keeps times as text
        store.cursor().execute("CREATE TABLE t (id String, ts String, s String, m String, "
                               "st String) ENGINE = MergeTree ORDER BY id")
        store.cursor().execute(f"INSERT INTO t VALUES ('a', '{today} 08:00:00.000', 'bot', 'm', "
                               "'ok'), ('b', '9999-12-30 10:00:00.000', 'bot', 'm', 'ok')")
        link(store, InPlaceMap.load(path))
        card = compute_scorecard(store, THRESHOLDS)
    assert card.window.as_of <= today
