"""Shared fixtures: real DuckDB files in a temporary directory, real files to ingest."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path

import pytest

from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.db import Store
from scorecard.store.pricing import Pricing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # its data generator

HEADER = ("event_id,timestamp,system,model,status,latency_ms,cost_usd,input_tokens,output_tokens,"
          "outcome,confidence,human_reviewed,human_overridden,review_cost_usd,has_explanation,"
          "segment,detected_by,input_ref,output_ref")


def as_read(markdown: str) -> str:
    """Markdown source as a person reads it: the app escapes data's Markdown marks."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")  # invisible joiners too


def event_row(event_id="e1", timestamp="2026-11-01T10:00:00Z", system="sys", model="m1",
              status="ok", **extra) -> dict:
    row = {"event_id": event_id, "timestamp": timestamp, "system": system, "model": model,
           "status": status}
    row.update(extra)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or HEADER.split(",")
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join("" if row.get(c) is None else str(row.get(c)) for c in columns))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# a ClickHouse server the engine tests also run on, when one is reachable:
# SCORECARD_TEST_CLICKHOUSE=clickhouse://USER@HOST:PORT (its password in
# $SCORECARD_CLICKHOUSE_PASSWORD); each test gets a database of its own there
SERVER = os.environ.get("SCORECARD_TEST_CLICKHOUSE")
ENGINES = ("duckdb", "chdb", *(("server",) if SERVER else ()))  # every metric test runs on each


def address_for(engine: str, folder: Path) -> str:
    """A store address of `engine` in `folder`. chDB serves one folder per process at a time,
    so a test closes its chDB store before another opens (no chDB store stays open)."""
    if engine == "server":
        return server_database(folder)
    return str(folder / "store.duckdb") if engine == "duckdb" else f"chdb://{folder / 'ch'}"


_MADE: set[str] = set()


def server_database(folder: Path) -> str:
    """The test server's database for `folder`: made empty the first time it is asked for in
    this session, the same one after (a test that reopens its store finds its rows)."""
    import hashlib

    import clickhouse_connect

    from scorecard.store.engines import PASSWORD_VARIABLE, clickhouse_address

    server = clickhouse_address(SERVER)
    name = "scorecard_test_" + hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    if name not in _MADE:
        client = clickhouse_connect.get_client(host=server.host, port=server.port,
                                               username=server.user,
                                               password=os.environ.get(PASSWORD_VARIABLE, ""))
        client.command(f"DROP DATABASE IF EXISTS {name}")
        client.command(f"CREATE DATABASE {name}")
        client.close()
        _MADE.add(name)
    return f"clickhouse://{server.user}@{server.host}:{server.port}/{name}"


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.duckdb") as s:
        yield s


@pytest.fixture(scope="session", params=ENGINES)
def demo(tmp_path_factory, request):
    """The demo store on each engine, with its scorecard; the oracle reads the same rows."""
    from scorecard.demo import load_demo, write_sample
    from scorecard.metrics.compute import compute_scorecard
    from scorecard.metrics.thresholds import load_thresholds
    from scorecard.store.engines import open_store

    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    write_sample(root / "files")
    address = address_for(request.param, root)
    with open_store(address) as store:
        load_demo(store, root / "files", Pricing.load(DEFAULT_CONFIG_DIR / "pricing.yaml"))
        ev = store.query_df("SELECT * FROM inference_events")  # test-side only: the oracle
        inc = store.query_df("SELECT * FROM incidents")
        card = compute_scorecard(store, load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml"))
    return {"db": address, "events": ev, "incidents": inc, "card": card}


@pytest.fixture(scope="session")
def pricing():
    return Pricing.load(DEFAULT_CONFIG_DIR / "pricing.yaml")


def table_snapshot(store: Store) -> dict:
    """Every row of the data tables, to compare a store before and after."""
    return {t: store.query(f"SELECT * FROM {t} ORDER BY ALL")
            for t in ("inference_events", "incidents", "rejected_rows")}


class _UnexpectedErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_unexpected_errors(request):
    """A page that fails behind its plain error sentence fails the test that ran it (AppTest
    runs pages in this process), unless the test is about that sentence."""
    handler = _UnexpectedErrors()
    logger = logging.getLogger("scorecard.app")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    if not request.node.get_closest_marker("unexpected_error_expected"):
        assert not handler.messages, f"the app logged: {handler.messages}"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per browser-test module."""
    from served_app import launched_chromium

    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    """A desktop-sized page of its own in that Chromium."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
