"""The same scorecard on DuckDB and on ClickHouse: every number agrees, addresses are read as
SPEC section 4 writes them, and a ClickHouse server that cannot be reached or refuses is one
plain sentence."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from conftest import ENGINES, address_for
from golden_numbers import numbers
from served_app import free_port
from test_app import threshold_input
from scorecard.demo import add_demo_settings, ensure_demo_store, load_demo, write_sample
from scorecard.errors import BadInput, ScorecardError
from scorecard.metrics import rollups
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.sql import Query
from scorecard.sql.clickhouse import render
from scorecard.store.engines import clickhouse_address, open_store
from scorecard.store.pricing import Pricing


def _differences(a, b, path=()) -> list:
    """Where two JSON-like values differ, numbers compared to 1e-9 (relative above 1)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [(path, sorted(set(a) ^ set(b)))]
        return [d for k in a for d in _differences(a[k], b[k], (*path, k))]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [(path, len(a), len(b))]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, (*path, i))]
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return [] if a == b else [(path, a, b)]
    return [] if x == y or abs(x - y) <= 1e-9 * max(1.0, abs(x)) else [(path, a, b)]


@pytest.fixture(scope="module")
def both_demos(tmp_path_factory):
    """Every number of the demo store (scorecards at three dates, baselines, every trend at
    day, week and month, quiet risks), computed by each engine from the same files."""
    root = tmp_path_factory.mktemp("engines")
    write_sample(root / "files")
    out = {}
    for engine in ENGINES:
        with open_store(address_for(engine, root / engine)) as store:
            load_demo(store, root / "files", Pricing.load(DEFAULT_CONFIG_DIR / "pricing.yaml"))
            add_demo_settings(store)
            assert rollups.ready(store), f"{engine}: the derived tables are kept after a load"
            out[engine] = numbers(store, digest=False)
            if engine != "duckdb":  # the same numbers with the derived tables set aside
                with store.transaction(changes_data=False) as cur:
                    cur.execute("DELETE FROM store_meta WHERE key LIKE 'rollup:%'")
                assert not rollups.ready(store)
                out[f"{engine} from events"] = numbers(store, digest=False)
    return out


def test_every_number_agrees_on_duckdb_and_chdb(both_demos):
    duck, ch = both_demos["duckdb"], both_demos["chdb"]
    assert _differences(duck, ch) == []
    if "server" in both_demos:  # and on a ClickHouse server, when the tests were given one
        assert _differences(duck, both_demos["server"]) == []
        assert _differences(duck, both_demos["server from events"]) == []
    # the comparison reaches every metric of every system, and every trend period
    card = duck["scorecard latest"]["values"]
    assert set(card) == {"", "credit-precheck", "doc-summariser", "research-agent",
                         "support-assistant"}
    assert len(duck["trends day"]) > len(duck["trends week"]) > len(duck["trends month"]) >= 15


def test_chdb_reads_its_derived_tables_and_they_give_the_events_numbers(both_demos):
    assert _differences(both_demos["chdb"], both_demos["chdb from events"]) == []


ROLLUP_TABLES = ("SELECT name, engine FROM system.tables WHERE database = currentDatabase() "
                 "AND name LIKE 'daily_rollup%' ORDER BY name")


def test_the_clickhouse_rollup_is_fed_by_every_insert_and_rebuilt_after_an_undo(tmp_path):
    """A SummingMergeTree fed by a materialized view: rows another writer inserts are counted
    at once; rows taken back leave it behind (read from the events) until the next refresh."""
    from scorecard.metrics.compute import compute_scorecard
    from scorecard.metrics.thresholds import load_thresholds
    from scorecard.service import Loading, take_back

    thresholds = load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml")
    with open_store(address_for("chdb", tmp_path)) as store:
        load_demo(store, _sample(tmp_path), Pricing.load(DEFAULT_CONFIG_DIR / "pricing.yaml"))
        assert store.query(ROLLUP_TABLES) == [("daily_rollup", "SummingMergeTree"),
                                              ("daily_rollup_feed", "MaterializedView")]
        store.query("INSERT INTO inference_events (event_id, system, timestamp, model, outcome,"
                    " cost_usd) SELECT concat('other-', toString(number)), 'other-writer', "
                    "toDateTime64('2026-11-20 10:00:00', 6, 'UTC'), 'm', 'success', 0.5 "
                    "FROM numbers(40)")
        assert rollups.ready(store), "the view counted the other writer's rows"
        rolled = compute_scorecard(store, thresholds, as_of="2026-11-21")
        assert rolled.values["other-writer"]["events"].value == 40
        first = store.scalar("SELECT ingest_id FROM ingest_log WHERE status = 'ok' "
                             "ORDER BY recorded_at LIMIT 1")
        take_back(store, first, Loading.from_config(DEFAULT_CONFIG_DIR), actor="test",
                  reason="a wrong extract", via="cli")
        assert rollups.ready(store), "the undo's refresh filled the rollup again"
        events = store.scalar("SELECT count(*) FROM inference_events")
        assert store.scalar("SELECT sum(__events) FROM daily_rollup") == events
        store.query("DELETE FROM inference_events WHERE system = 'other-writer'")
        assert not rollups.ready(store), "rows deleted behind its back: read from the events"
        from_events = compute_scorecard(store, thresholds, as_of="2026-11-21")
        assert "other-writer" not in from_events.systems
        assert rollups.daily_rollup(store.dialect).refresh(store) == "rebuilt"
        assert rollups.ready(store)
        again = compute_scorecard(store, thresholds, as_of="2026-11-21")
        assert _differences(json.loads(json.dumps(again.values, default=vars)),
                            json.loads(json.dumps(from_events.values, default=vars))) == []


def test_the_comparison_sees_a_difference():
    """A number off by more than 1e-9 of itself, or a word, is a difference."""
    assert _differences({"a": [1.0, "x"]}, {"a": [1.0 + 2e-9, "x"]})
    assert _differences({"a": "west"}, {"a": "north"})
    assert not _differences({"a": 0.1 + 0.2}, {"a": 0.3})


# -- addresses ---------------------------------------------------------------------------------

def test_addresses_are_read_as_spec_section_4_writes_them():
    chdb = clickhouse_address("chdb://var/ch")
    assert chdb.folder == Path("var/ch")
    server = clickhouse_address("clickhouse://scorer@ch.internal:8443/observability")
    assert (server.user, server.host, server.port, server.database) == (
        "scorer", "ch.internal", 8443, "observability")
    assert str(server) == "clickhouse://scorer@ch.internal:8443/observability"
    plain = clickhouse_address("clickhouse://ch.internal")
    assert (plain.user, plain.port, plain.database) == ("default", 8123, "default")


@pytest.mark.parametrize("address, words", [
    ("clickhouse://me:secret@ch:8123/db", "SCORECARD_CLICKHOUSE_PASSWORD"),
    ("clickhouse://me@ch:port/db", "no valid port"),
    ("clickhouse:///db", "is not a ClickHouse address"),
    ("chdb://", "names its folder"),
])
def test_a_wrong_address_is_one_sentence(address, words):
    with pytest.raises(BadInput, match=words):
        clickhouse_address(address)


# -- the SQL ClickHouse is sent ----------------------------------------------------------------

def test_parameters_travel_typed_and_quoted_text_is_left_alone():
    text, params = render(
        "SELECT '$not ?' AS q, $start AS s, $who AS w, $none AS z, $days AS d",
        {"start": datetime(2026, 11, 1, 6), "who": "o'brien", "none": None, "days": [1, 2]})
    assert text == ("SELECT '$not ?' AS q, {start:DateTime64(6, 'UTC')} AS s, {who:String} AS w,"
                    " NULL AS z, {days:Array(Nullable(Int64))} AS d")
    assert params == {"start": "2026-11-01 06:00:00", "who": "o'brien", "days": [1, 2]}
    text, params = render("SELECT ? + ?, '?'", [1, 2.5])
    assert (text, params) == ("SELECT {p0:Int64} + {p1:Float64}, '?'", {"p0": 1, "p1": 2.5})


def test_the_rendered_text_runs_on_clickhouse(tmp_path):
    """The text and parameters a server would be sent, run by ClickHouse itself (chDB)."""
    with open_store(address_for("chdb", tmp_path)) as store:
        got = store.query_dicts(Query(
            "SELECT $start AS s, $who AS w, $none AS z, $days AS d",
            {"start": datetime(2026, 11, 1, 6), "who": "o'brien", "none": None,
             "days": [1, 2]}))
    assert got == [{"s": datetime(2026, 11, 1, 6), "w": "o'brien", "z": None, "d": [1, 2]}]
    # text reaches ClickHouse as it was written, alone or in a list
    with open_store(address_for("chdb", tmp_path)) as store:
        for text in ("a\\nb", "two\nlines", "tab\tstop", "it's", "back\\slash", "`tick`"):
            assert store.scalar("SELECT $v", {"v": text}) == text
            assert store.scalar("SELECT $v", {"v": [text, None]}) == [text, None]


# -- a server that cannot be reached or refuses ------------------------------------------------

def test_an_unreachable_server_is_one_sentence():
    port = free_port()  # nothing listens there
    with pytest.raises(ScorecardError) as caught:
        open_store(f"clickhouse://default@127.0.0.1:{port}/scores")
    message = str(caught.value)
    assert message.startswith(f"The ClickHouse store clickhouse://default@127.0.0.1:{port}/"
                              "scores could not be opened:")
    assert "\n" not in message and "Traceback" not in message


class _Refusing(BaseHTTPRequestHandler):
    """A server answering every request as ClickHouse answers a wrong password."""

    seen: list[dict] = []

    def _refuse(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        _Refusing.seen.append({"path": self.path, "body": body,
                               "user": self.headers.get("X-ClickHouse-User"),
                               "auth": self.headers.get("Authorization")})
        reply = (b"Code: 516. DB::Exception: scorer: Authentication failed: password is "
                 b"incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) "
                 b"(version 26.9.2.1 (official build))\n")
        self.send_response(403)
        self.send_header("X-ClickHouse-Exception-Code", "516")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _refuse

    def log_message(self, *args) -> None:
        pass


def test_a_refusing_server_is_one_sentence_and_sees_the_user_and_password(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SCORECARD_CLICKHOUSE_PASSWORD", "s3cret")
    try:
        with pytest.raises(ScorecardError) as caught:
            open_store(f"clickhouse://scorer@127.0.0.1:{server.server_port}/scores")
    finally:
        server.shutdown()
    message = str(caught.value)
    assert "Authentication failed" in message and "\n" not in message
    assert "(version" not in message
    import base64
    sent = _Refusing.seen[0]
    credentials = sent["user"] or base64.b64decode(sent["auth"].split()[1]).decode()
    assert "scorer" in credentials


def test_the_cli_says_one_sentence_when_the_server_is_away(tmp_path):
    port = free_port()
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "metrics", "--db",
                           f"clickhouse://default@127.0.0.1:{port}/scores"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "could not be opened" in done.stderr


def test_a_chdb_store_is_reopened_with_its_rows(tmp_path):
    address = address_for("chdb", tmp_path)
    with open_store(address) as store:
        load_demo(store, _sample(tmp_path), Pricing.load(DEFAULT_CONFIG_DIR / "pricing.yaml"))
        count = store.scalar("SELECT count(*) FROM inference_events")
        version = store.data_version()
    with open_store(address, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM inference_events") == count > 0
        assert store.data_version() == version
        with pytest.raises(ScorecardError, match="reading only"):
            with store.transaction():
                pass


def _sample(tmp_path: Path) -> Path:
    write_sample(tmp_path / "files")
    return tmp_path / "files"


def test_the_events_table_is_a_mergetree_by_month_ordered_by_system_and_time(tmp_path):
    with open_store(address_for("chdb", tmp_path)) as store:
        engine, partition, order = store.query(
            "SELECT engine, partition_key, sorting_key FROM system.tables "
            "WHERE database = currentDatabase() AND name = 'inference_events'")[0]
    assert (engine, partition, order) == ("MergeTree", "toYYYYMM(timestamp)",
                                          "system, timestamp")


def test_numbers_json_is_what_the_golden_file_holds(both_demos):
    """The DuckDB side of the comparison is the demo's recorded numbers, digests aside."""
    golden = json.loads((Path(__file__).with_name("data") / "golden_numbers.json").read_text())
    for section, value in golden["rolled"].items():
        if not section.startswith("trends"):
            assert _differences(value, both_demos["duckdb"][section]) == [], section


# -- the app on a chDB store -------------------------------------------------------------------

PAGES = ["views/scorecard.py", "views/trends.py", "views/questions.py", "views/thresholds.py",
         "views/upload.py", "views/audit.py", "views/evidence.py", "views/digests.py"]


@pytest.fixture
def chdb_app(tmp_path, monkeypatch):
    """The demo on chDB with a config folder of its own, as `scorecard serve` would open it;
    the app's store is closed afterwards (chDB serves one folder per process at a time)."""
    address = ensure_demo_store(f"chdb://{tmp_path / 'ch'}")
    _app_config(tmp_path / "config", address, monkeypatch)
    yield address
    _close_app_stores()


def _app_config(cfg: Path, address: str, monkeypatch) -> Path:
    """A config folder of the app's own (no sign-ins, no secrets), and the app pointed at it
    and at the store, as `scorecard serve` would be."""
    import shutil

    shutil.copytree(DEFAULT_CONFIG_DIR, cfg, ignore=shutil.ignore_patterns("users.yaml",
                                                                          "secrets.yaml"))
    monkeypatch.setenv("SCORECARD_DB", address)
    monkeypatch.setenv("SCORECARD_CONFIG", str(cfg))
    return cfg


def _close_app_stores() -> None:
    """Close the stores the app opened in this process (chDB serves one folder per process)."""
    ui = sys.modules.get("ui")  # the app's module, loaded by AppTest in this process
    for entry in (ui._open.values() if ui else []):
        entry[0].close()  # [store, runs using it, copy read]
    if ui:
        ui._open.clear()


def _every_page_as_admin(address: str, cfg: Path):
    """Each page as an admin sees it (AppTest), checked to run without an error: (page, app)."""
    from streamlit.testing.v1 import AppTest

    from scorecard.sessions import SecurityPolicy, start_session
    from scorecard.users import Directory

    with open_store(address) as store:
        entry = Directory.load(cfg, store).usernames["admin"]
        token = start_session(store, "admin", "admin", entry["password"], "test",
                              SecurityPolicy())
    app = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
    for page in PAGES:
        at = AppTest.from_file(app, default_timeout=120)
        at.session_state["_token"] = token
        at.run()
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        yield page, at


def test_every_page_runs_on_a_chdb_store(chdb_app):
    from scorecard.settings import config_dir

    for page, at in _every_page_as_admin(chdb_app, config_dir()):
        if page == "views/scorecard.py":
            table = at.dataframe[0].value
            assert "Success rate" in table["Metric"].tolist()


def test_a_product_manager_signs_off_and_changes_a_threshold_on_a_chdb_store(chdb_app):
    """The writes a person makes in the app (a sign-off, a threshold change with its reason)
    are kept in the ClickHouse store and read back as on DuckDB."""
    from streamlit.testing.v1 import AppTest

    from scorecard.sessions import SecurityPolicy, start_session
    from scorecard.settings import config_dir
    from scorecard.users import Directory

    with open_store(chdb_app) as store:
        entry = Directory.load(config_dir(), store).usernames["pm"]
        token = start_session(store, "pm", "product_manager", entry["password"], "test",
                              SecurityPolicy())
    app = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")

    def page(name: str) -> AppTest:
        at = AppTest.from_file(app, default_timeout=120)
        at.session_state["_token"] = token
        at.run()
        at.switch_page(name)
        at.run()
        return at

    at = page("views/questions.py")
    at.text_input(key="note_detect_recover").input("Reviewed in the Monday meeting")
    [b for b in at.button if "detect_recover" in str(b.form_id)][0].click().run()
    assert [s.value for s in at.success] == ["Signed off."]
    at = page("views/thresholds.py")
    threshold_input(at, "target_all_success_rate").set_value(81.5).run()
    at.text_area(key="th_reason").input("Agreed with support leads")
    [b for b in at.button if b.label == "Save threshold"][0].click().run()
    assert not at.exception and at.success[0].value.startswith("Saved: Success rate")
    history = page("views/thresholds.py").dataframe[-1].value
    assert list(history["Who"]) == ["pm"]
    ui = sys.modules["ui"]
    rows = ui.store().query("SELECT actor, metric, reason FROM threshold_changes")
    assert rows == [("pm", "success_rate", "Agreed with support leads")]
    assert ui.store().query("SELECT actor, question, note FROM signoffs") == [
        ("pm", "detect_recover", "Reviewed in the Monday meeting")]


KILLED_WHILE_SENDING = """
import os, signal, sys
from scorecard.store import loading_room

send = loading_room.ClickHouseRoom._send_table


def send_then_die(room, table, ingest_id):
    send(room, table, ingest_id)
    if table == "inference_events":  # the events are in ClickHouse, the log line is not
        os.kill(os.getpid(), signal.SIGKILL)


loading_room.ClickHouseRoom._send_table = send_then_die
from scorecard.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _killed_while_sending(tmp_path: Path, address: str, rows: int) -> None:
    extract = tmp_path / "killed.csv"
    extract.write_text("event_id,timestamp,system,model,status,latency_ms\n" + "".join(
        f"k{i},2026-11-2{i % 7}T10:00:00Z,killed,m-1,ok,100\n" for i in range(rows)))
    done = subprocess.run([sys.executable, "-c", KILLED_WHILE_SENDING, "ingest", str(extract),
                           "--db", address], capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr


def test_a_load_killed_while_sending_to_chdb_is_removed_at_the_next_opening(tmp_path):
    """#36 item 7: kill -9 after the events reached ClickHouse and before the log line did.
    Read only, the store shows the rows and whose they are; the next opening for writing
    removes them and says so in the undo record."""
    address = address_for("chdb", tmp_path)
    _killed_while_sending(tmp_path, address, 5000)
    with open_store(address, read_only=True) as store:
        assert store.scalar("SELECT count() FROM inference_events") == 5000
        assert store.scalar("SELECT count() FROM ingest_log") == 0
        (cut_short,) = store.sends_in_flight()
    with open_store(address) as store:
        assert store.scalar("SELECT count() FROM inference_events") == 0
        assert store.sends_in_flight() == {}
        assert store.query("SELECT ingest_id, actor, via, events_removed FROM ingest_undos") == [
            (cut_short, "scorecard", "recovery", 5000)]


def test_a_load_cut_short_on_another_machine_is_found_by_undo(tmp_path):
    """A sender on another machine cannot be judged from here: its rows stay until
    `scorecard ingest --undo ID` (which finds them by the id the mark keeps) removes them."""
    address = address_for("chdb", tmp_path)
    _killed_while_sending(tmp_path, address, 300)
    with open_store(address, read_only=True) as store:
        (cut_short,) = store.sends_in_flight()
    from scorecard.store.clickhouse import SENDING

    done = subprocess.run([sys.executable, "-c", (
        "import json, sys\nfrom scorecard.store.engines import open_store\n"
        "from scorecard.store.clickhouse import ClickHouseStore as S\n"
        "S.remove_sends_cut_short = lambda self: None\n"
        "with open_store(sys.argv[1]) as store:\n"  # the mark as another machine's
        f"    store.set_meta({SENDING!r} + sys.argv[2], json.dumps({{'host': 'elsewhere'}}))\n"),
        address, cut_short], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with open_store(address) as store:
        assert store.scalar("SELECT count() FROM inference_events") == 300, "not ours to judge"
    undo = subprocess.run([sys.executable, "-m", "scorecard.cli", "ingest", "--undo",
                           cut_short[:10], "--reason", "cut short", "--db", address],
                          capture_output=True, text=True, timeout=120)
    assert undo.returncode == 0, undo.stderr
    assert '"events_removed": 300' in undo.stdout
    with open_store(address, read_only=True) as store:
        assert store.scalar("SELECT count() FROM inference_events") == 0
        assert store.sends_in_flight() == {}


SQL_MARKS = ["pay$tier", "who? me", "r2 {a:String}", "o'brien \"q\"", "back\\slash\\",
             "two\nlines"]
EVERY_TEXT = ("system", "model", "segment", "input_ref", "output_ref", "release", "team",
              "feature", "customer")


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_sql_marks_in_every_text_column_are_data_everywhere(engine, tmp_path, monkeypatch):
    """#36 item 1: `$`, `?`, `{name:Type}`, quotes, backslashes and line breaks in every text
    column of events and incidents load, and the command line and every page read them as
    data (a `$` in a system name once broke ingest, metrics, serve and 5 of 7 pages)."""
    import pandas as pd
    from served_app import own_signins

    address = address_for(engine, tmp_path)
    events = pd.DataFrame([
        {"event_id": f"{mark}-{i}", "timestamp": f"2026-11-{10 + i % 10:02d}T10:{i % 60:02d}:00Z",
         "status": "error" if i % 9 == 0 else "ok", "latency_ms": 100 + i,
         "outcome": "success" if i % 4 else "failure", "cost_usd": 0.01,
         **{column: mark for column in EVERY_TEXT}}
        for mark in SQL_MARKS for i in range(40)])
    incidents = pd.DataFrame([
        {"incident_id": f"inc {mark}", "system": mark, "severity": "sev2",
         "started_at": "2026-11-15T10:00:00Z", "detected_at": "2026-11-15T10:20:00Z",
         "resolved_at": "2026-11-15T11:00:00Z", "summary": mark} for mark in SQL_MARKS])
    events.to_csv(tmp_path / "events.csv", index=False)
    incidents.to_csv(tmp_path / "incidents.csv", index=False)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "scorecard.cli", *args, "--db", address],
                              capture_output=True, text=True, timeout=300)

    loaded = cli("ingest", str(tmp_path / "events.csv"))
    assert loaded.returncode == 0 and f'"inserted": {len(events)}' in loaded.stdout, (
        loaded.stdout, loaded.stderr)
    assert cli("ingest", str(tmp_path / "incidents.csv"), "--kind", "incidents").returncode == 0
    again = cli("ingest", str(tmp_path / "events.csv"))
    assert f'"duplicates": {len(events)}' in again.stdout, again.stdout
    report = cli("metrics", "--format", "json", "--as-of", "2026-11-20", "--window-days", "28")
    assert report.returncode == 0, report.stderr
    assert set(json.loads(report.stdout)["systems"]) == set(SQL_MARKS)
    sliced = cli("metrics", "--format", "json", "--as-of", "2026-11-20", "--by", "customer")
    assert sliced.returncode == 0, sliced.stderr

    cfg = _app_config(tmp_path / "config", address, monkeypatch)
    own_signins(cfg)
    try:
        pages = [page for page, _ in _every_page_as_admin(address, cfg)]
        assert pages == PAGES
    finally:
        _close_app_stores()
