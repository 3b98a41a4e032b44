"""The web app's pages, run by Streamlit's AppTest against a real demo store and config files."""

from __future__ import annotations

import gzip
import re
import socket
import sys
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from conftest import as_read
from scorecard import actions
from scorecard.demo import DEMO_PASSWORD, ensure_demo_store
from scorecard.metrics.threshold_changes import Proposal
from scorecard.cli import store_to_serve
from scorecard.metrics.thresholds import PACKAGED, load_thresholds
from scorecard.sessions import SecurityPolicy, start_session
from scorecard.settings import DEFAULT_CONFIG_DIR, config_dir, engine_settings, store_address
from scorecard.store.db import Store
from scorecard.store.mapping import ColumnMap
from scorecard.users import Directory, NotAllowed
from served_app import own_signins

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
RESTRICTED = {"views/thresholds.py": "edit_thresholds", "views/upload.py": "upload",
              "views/audit.py": "audit", "views/evidence.py": "evidence",
              "views/digests.py": "digests"}
ALLOWED = {"exec": [], "pm": ["views/thresholds.py", "views/evidence.py"],
           "analyst": ["views/upload.py"], "admin": list(RESTRICTED)}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return ensure_demo_store(tmp_path_factory.mktemp("app") / "demo.duckdb")


@pytest.fixture
def app_env(demo_db, tmp_path, monkeypatch):
    """A copy of the demo store and of the config directory, so tests may write to both."""
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    cfg = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg, ignore=shutil.ignore_patterns("users.yaml",
                                                                          "secrets.yaml"))
    monkeypatch.setenv("SCORECARD_DB", str(db))
    monkeypatch.setenv("SCORECARD_CONFIG", str(cfg))
    return db, cfg


@pytest.fixture
def upload_env(app_env):
    """The app's copy with the team's own sign-ins (a load ends the demo sign-ins)."""
    own_signins(app_env[1])
    return app_env


def open_store(db: Path) -> Store:
    """The store as the app opens it: DuckDB shares one instance per file and configuration
    within a process, and the app's cached store lives in this test process."""
    return Store(db, settings=engine_settings(config_dir()))


def session_for(user: str) -> str:
    """A real sign-in session for a user of the directory, as the sign-in form starts one."""
    with open_store(store_address()) as store:
        entry = Directory.load(config_dir(), store).usernames[user]
        return start_session(store, user, Directory({user: entry}).role(user),
                             entry["password"], "test", SecurityPolicy())


def run(page: str | None = None, user: str | None = None, **session) -> AppTest:
    """Run the app as a signed-in user (the session the sign-in form leaves behind)."""
    at = AppTest.from_file(APP, default_timeout=60)
    if user:
        at.session_state["_token"] = session_for(user)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return as_read(" ".join([m.value for m in at.markdown] + [c.value for c in at.caption]))


# -- sign-in -----------------------------------------------------------------------------------

def test_sign_in_form_admits_a_demo_user_and_records_it(app_env):
    db, _ = app_env
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    # only the hidden table that lets the browser load the table's code while one types
    assert [list(d.value.columns) for d in at.dataframe] == [["x"]]
    assert [list(v) for v in at.dataframe[0].value["x"]] == [[0.0, 1.0]], "nothing of the store"
    at.text_input[0].input("pm")
    at.text_input[1].input("wrong password")
    at.button[0].click().run()
    assert at.error[0].value == "That username and password do not match a sign-in."
    at.text_input[0].input("pm")
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "AI systems scorecard"
    assert any("Metric" in d.value.columns for d in at.dataframe), "the table after sign-in"
    with open_store(db) as store:
        assert store.query("SELECT username, role, event FROM signins ORDER BY recorded_at") == [
            ("pm", "product_manager", "failed"), ("pm", "product_manager", "sign_in")]


def test_a_store_that_is_not_the_demo_has_no_demo_sign_ins(app_env, tmp_path, monkeypatch):
    real = tmp_path / "real.duckdb"
    with Store(real) as store:
        assert Directory.load(app_env[1], store).usernames == {}
    monkeypatch.setenv("SCORECARD_DB", str(real))
    at = run()
    assert "No sign-ins exist yet" in at.info[0].value
    assert not at.text_input


# -- roles -------------------------------------------------------------------------------------

def offered_pages(at: AppTest) -> list[str]:
    """The pages st.navigation registered for this session (AppTest lists them when asked to
    switch to a file that is not one: here the app's helper module)."""
    with pytest.raises(ValueError, match="Known pages") as refusal:
        at.switch_page("ui.py")
    known = str(refusal.value).split("Known pages:")[1]
    return sorted(Path(p).name for p in re.findall(r"'([^']+\.py)'", known))


@pytest.mark.parametrize("user", list(ALLOWED))
def test_each_role_is_offered_its_pages_and_no_others(app_env, user):
    at = run(user=user)
    expected = sorted(["scorecard.py", "trends.py", "questions.py", "releases.py", "costs.py",
                       *(Path(p).name for p in ALLOWED[user])])
    assert offered_pages(at) == expected
    for page in ALLOWED[user]:
        at = run(page, user=user)
        assert not at.error, f"{user} was refused {page}: {[e.value for e in at.error]}"


def test_a_forged_session_role_is_refused_on_the_server(upload_env):
    db, cfg = upload_env
    th_file = cfg / "thresholds.yaml"
    assert not th_file.exists()  # the packaged defaults apply until the first change
    # the session claims admin, but the directory says exec is an executive
    at = run(user="exec", roles=["admin"])
    assert "thresholds.py" not in offered_pages(at)
    with open_store(db) as store:
        directory = Directory.load(cfg, store)
        with pytest.raises(NotAllowed, match="exec \\(Executive\\) may not change thresholds"):
            actions.change_threshold(store, directory, "exec", th_file,
                                     Proposal("success_rate", None, 0.5, 0.4), "forged")
        with pytest.raises(NotAllowed):
            actions.sign_off(store, directory, "analyst", question="detect_recover",
                             system=None, status="red", note="", as_of=pd.Timestamp("2026-11-22"))
        with pytest.raises(NotAllowed):
            actions.upload(store, directory, "pm", th_file, display_name="x.csv", kind="events",
                           cmap=None, cfg_dir=cfg)
        assert store.scalar("SELECT count(*) FROM threshold_changes") == 0
        assert store.scalar("SELECT count(*) FROM signoffs") == 0
    assert not th_file.exists()


# -- scorecard, trends, questions --------------------------------------------------------------

def test_scorecard_page_shows_every_seed_row(app_env):
    at = run(user="exec")
    assert at.title[0].value == "AI systems scorecard"
    table = at.dataframe[0].value
    assert {"Accuracy", "Temporal reliability", "Degradation", "Cost per outcome", "Latency",
            "Failure recovery", "Explainability", "Auditability", "Bias", "Appropriateness",
            "Trust"} <= set(table["Area"])
    assert table.loc[table.Metric == "Success rate", "Value"].iloc[0] == "83.0%"
    # 83.0% now against 91.1% in the baseline weeks (the success-rate change metric agrees)
    assert table.loc[table.Metric == "Success rate", "vs baseline"].iloc[0] == "-8.0 pts"
    # the estimate sits beside the realised rate and says it is one
    metrics = list(table.Metric)
    assert metrics.index("Estimated success rate") == metrics.index("Success rate") + 1
    estimate = table[table.Metric == "Estimated success rate"].iloc[0]
    assert estimate["Value"] == "84.5%"
    # all systems together, confidence has drifted (credit-precheck): the estimate says so
    assert estimate["In words"] == ("⚠ unreliable: Input drift (confidence PSI) is red; "
                                    "estimate: 4,689 of 17,341 decisions have no outcome yet")
    assert table.loc[table.Metric == "Change against baseline", "vs baseline"].iloc[0] == ""
    # counts compare per day: 17,682 in 7 days against 43,509 in the 28 baseline days
    assert table.loc[table.Metric == "Decisions in window", "vs baseline"].iloc[0] == "+58%"
    assert all(any(word in s for word in ("On target", "Watch", "Act", "No data", "Too few"))
               for s in table["Status"])


def test_the_first_screen_shows_each_systems_error_budget_and_firing_alert(app_env):
    at = run(user="exec")
    strip = [m.value for m in at.markdown if m.value.startswith("| System |")][0]
    assert strip.splitlines()[0] == "| System | Failure rate | Within latency SLO | Success rate |"
    support = [line for line in strip.splitlines() if line.startswith("| support-assistant")][0]
    assert ("🔴 bad events at 3.0x the allowed rate over 3 days: act this week · budget "
            "overspent by 55%") in support


def test_the_first_screen_says_which_system_needs_attention_and_why(app_env):
    at = run(user="exec")
    assert at.subheader[0].value == "Act first"
    links = [as_read(b.proto.label) for b in at.get("page_link")]
    assert links == [  # worst first, in what each risks, with the figure behind it
        "1. credit-precheck: it now sees inputs unlike those it was built for, so errors can "
        "grow before anyone sees them (input drift 1.25; limit 0.25)",
        "2. doc-summariser: too many decisions cannot be explained to a customer or an auditor "
        "(decisions with an explanation 35.2%; limit 80.0%)",
        "3. research-agent: it is not dependable, with too few weeks on target (weeks meeting "
        "target 0.0%; limit 62.5%)",
        "4. support-assistant: slow answers are losing good outcomes (success lost to slowness "
        "+12.4 pts; limit +5.0 pts) — 92% of slow answers come from release "
        "assistant-2026.11.2, which takes 55% of decisions"]
    also = [c.value for c in at.caption if c.value.startswith("Also in the red")]
    assert also[0] == "Also in the red: temporal reliability, appropriateness."
    assert len(also) == 4
    # the grid lists the systems in the same order
    cells = [b.key for b in at.button if (b.key or "").startswith("cell_") and b.key.endswith("_0")]
    assert cells == ["cell_credit-precheck_0", "cell_doc-summariser_0", "cell_research-agent_0",
                     "cell_support-assistant_0"]
    # the grid: each cell the worst status of its area, as icon and word
    assert at.button(key="cell_support-assistant_4").label == "🔴 Act"  # Latency
    assert at.button(key="cell_credit-precheck_4").label == "🟢 OK"
    at.button(key="cell_support-assistant_4").click().run()
    assert at.selectbox(key="system").value == "support-assistant"
    table = at.dataframe[0].value
    assert at.selectbox(key="area").value == "Latency Impact" and "Area" not in table.columns
    assert "95th percentile latency" in set(table["Metric"])
    assert "🔴 Act" in set(table["Status"]), "the cell is the worst of its rows"
    assert table.loc[table.Metric == "95th percentile latency", "n"].iloc[0].endswith(" events")
    psi = run(user="exec")
    psi.selectbox(key="system").select("credit-precheck").run()
    rows = psi.dataframe[0].value.set_index("Metric")
    assert rows.loc["Input drift (confidence PSI)", "In words"] == "inputs have shifted a lot"
    assert rows.loc["Weeks meeting target", "n"].endswith(" weeks")
    assert "None" not in rows.to_string() and "-0.0" not in rows.to_string()


def test_a_pinned_day_moves_the_window(app_env):
    at = run(user="exec")
    at.date_input(key="as_of_day").set_value(pd.Timestamp("2026-11-08").date()).run()
    assert any("Window: Mon 02 Nov – Sun 08 Nov 2026" in m.value for m in at.markdown)
    assert at.query_params["as_of"] in ("2026-11-08", ["2026-11-08"])  # kept in the link


def test_a_linked_day_after_the_newest_data_says_so(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["_token"] = session_for("exec")
    at.query_params["as_of"] = "2030-01-01"
    at.run()
    assert [i.value for i in at.info] == [
        "The store has no events after 22 Nov 2026, so the scorecard shows that day rather than "
        "01 Jan 2030."]
    assert any("Window: Mon 16 Nov – Sun 22 Nov 2026" in m.value for m in at.markdown)


def test_scorecard_system_selector_changes_the_numbers(app_env):
    at = run(user="exec")
    at.selectbox(key="system").select("credit-precheck").run()
    table = at.dataframe[0].value
    assert table.loc[table.Metric == "Decisions in window", "Value"].iloc[0] == "3,374"


def test_trends_page_draws_a_chart(app_env):
    at = run("views/trends.py", user="exec")
    assert at.title[0].value == "Trends"
    assert len(at.get("plotly_chart")) == 2, "the trend, then the error budget's burn-down"
    assert at.selectbox(key="trend_metric").value == "success_rate"
    burn_down = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert {t["name"] for t in burn_down["data"]} == {
        "support-assistant", "credit-precheck", "doc-summariser", "research-agent"}
    # the estimate is drawn beside the realised rate, dashed, and named
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = {t.get("name"): t for t in figure["data"]}
    assert traces["Estimated success rate"]["line"]["dash"] == "dash"
    assert "Dashed line: estimated success rate" in texts(at)


def test_questions_page_signs_off_as_the_signed_in_user(app_env):
    at = run("views/questions.py", user="pm")
    assert "How quickly do we detect and recover from failure?" in texts(at)
    at.text_input(key="note_detect_recover").input("Reviewed in the Monday meeting")
    submit = [b for b in at.button if "detect_recover" in str(b.form_id)][0]
    assert submit.label == "Sign off as pm"
    submit.click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Signed off."]
    history = [d.value for d in at.dataframe]
    assert any("Who" in df and "pm" in set(df["Who"]) for df in history)


def test_an_executive_reads_the_questions_without_sign_off_forms(app_env):
    at = run("views/questions.py", user="exec")
    assert "How quickly do we detect and recover from failure?" in texts(at)
    assert not [b for b in at.button if "Sign off" in b.label]


def test_empty_store_gets_a_helpful_notice(app_env, tmp_path, monkeypatch):
    empty = tmp_path / "empty.duckdb"
    shutil.copy(app_env[0], empty)
    with open_store(empty) as store, store.transaction() as cur:
        cur.execute("DELETE FROM inference_events")
    monkeypatch.setenv("SCORECARD_DB", str(empty))
    at = run(user="exec")
    assert "holds no inference events yet" in at.info[0].value


# -- thresholds --------------------------------------------------------------------------------

def _status_of(at: AppTest, metric_title: str) -> str:
    table = at.dataframe[0].value
    return table.loc[table.Metric == metric_title, "Status"].iloc[0]


def threshold_input(at: AppTest, name: str):
    """The Thresholds page's target or limit input for a scope and metric, whichever save or
    revert it has come to (its key carries the page's version)."""
    found = [n for n in at.number_input if str(n.key).rsplit("_", 1)[0] == name]
    assert len(found) == 1, [n.key for n in at.number_input]
    return found[0]


def test_product_manager_changes_a_threshold_with_preview_history_and_revert(app_env):
    db, cfg = app_env
    assert "Watch" in _status_of(run(user="pm"), "Success rate")  # 83.0% between 80% and 90%
    at = run("views/thresholds.py", user="pm")
    assert at.selectbox(key="th_metric").value == "success_rate"
    threshold_input(at, "target_all_success_rate").set_value(81.5).run()
    preview = at.dataframe[0].value
    row = preview[(preview.Scope == "All systems") & (preview.Metric == "Success rate")]
    assert "Watch" in row["Status now"].iloc[0] and "On target" in row["After the change"].iloc[0]
    weeks = preview[(preview.Scope == "All systems") & (preview.Metric == "Weeks meeting target")]
    assert list(weeks["Value now"]) == ["50.0%"] and list(weeks["Value after"]) == ["100.0%"], \
        "the preview recomputes values that depend on the success target"

    save = [b for b in at.button if b.label == "Save threshold"][0]
    save.click().run()
    assert "Say why the threshold changes" in at.error[0].value
    assert not (cfg / "thresholds.yaml").exists(), "the packaged defaults apply until a change"
    assert "packaged defaults" in texts(at)

    at.text_area(key="th_reason").input("Agreed with support leads for the model migration")
    [b for b in at.button if b.label == "Save threshold"][0].click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Saved: Success rate for all systems.")
    saved = yaml.safe_load((cfg / "thresholds.yaml").read_text())
    assert saved["defaults"]["success_rate"] == {"direction": "higher_is_better",
                                                 "target": 0.815, "limit": 0.8}
    assert "systems" not in saved, "the demo store's system thresholds stay in the demo store"
    written = (cfg / "thresholds.yaml").read_text()
    assert "settings:\n  latency_slo_ms: 2000" in written, "the settings block is written out"
    assert "# Agreed with support leads for the model migration (pm," in written
    packaged = (PACKAGED.read_text().split("defaults:")[1])
    kept = [line.split("#", 1)[1] for line in packaged.splitlines()
            if "#" in line and "success_rate:" not in line]
    assert kept and all(comment in written for comment in kept), "every other reason is kept"
    assert "On target" in _status_of(run(user="pm"), "Success rate")

    with open_store(db) as store:
        rows = store.query("SELECT actor, system, metric, reason FROM threshold_changes")
    assert rows == [("pm", None, "success_rate",
                     "Agreed with support leads for the model migration")]

    at = run("views/thresholds.py", user="pm")
    history = at.dataframe[-1].value
    assert list(history["Who"]) == ["pm"] and list(history["Before (target / limit)"]) == [
        "90.0% / 80.0%"]
    threshold_input(at, "target_all_success_rate").set_value(81.5).run()
    [b for b in at.button if b.label == "Revert"][0].click().run()
    assert not at.exception
    assert threshold_input(at, "target_all_success_rate").value == 90.0, "inputs follow revert"
    assert "No status on the current 7-day window would change." in texts(at)
    assert yaml.safe_load((cfg / "thresholds.yaml").read_text())["defaults"]["success_rate"][
        "target"] == 0.9
    assert "Watch" in _status_of(run(user="pm"), "Success rate")


def test_threshold_validation_explains_itself(app_env):
    at = run("views/thresholds.py", user="admin")
    threshold_input(at, "target_all_success_rate").set_value(70.0).run()
    assert as_read(at.error[0].value) == ("The target 70.0% is below the limit 80.0%, but "
                                          "higher is better, so the target must be at or "
                                          "above the limit.")  # in the boxes' units
    assert not [b for b in at.button if b.label == "Save threshold"]
    threshold_input(at, "target_all_success_rate").set_value(1e306).run()
    assert "less than or equal to 1000000000000" in at.error[0].value, at.error[0].value
    assert not [b for b in at.button if b.label == "Save threshold"]


def test_a_system_override_is_saved_and_can_be_dropped(app_env):
    _, cfg = app_env
    at = run("views/thresholds.py", user="pm")
    at.selectbox(key="th_system").select("doc-summariser").run()
    threshold_input(at, "limit_doc-summariser_success_rate").set_value(70.0).run()
    at.text_area(key="th_reason").input("Summaries are judged more leniently")
    [b for b in at.button if b.label == "Save threshold"][0].click().run()
    saved = yaml.safe_load((cfg / "thresholds.yaml").read_text())
    assert saved["systems"]["doc-summariser"]["metrics"]["success_rate"]["limit"] == 0.7
    at.button(key="drop_override").click().run()
    assert not at.exception
    saved = yaml.safe_load((cfg / "thresholds.yaml").read_text())
    assert "doc-summariser" not in saved.get("systems", {}), "an emptied override is gone"


# -- upload ------------------------------------------------------------------------------------

def _extract(rows: int, bad: int = 0) -> bytes:
    """A CSV from another tool: its own column names, no system column."""
    lines = ["id,ts,model_name,result,ms"]
    for i in range(rows):
        lines.append(f"u{i},2026-11-20T10:{i % 60:02d}:00Z,mx-1,ok,{100 + i}")
    for i in range(bad):
        lines.append(f"b{i},not a time,mx-1,ok,5")
    return ("\n".join(lines) + "\n").encode()


def test_analyst_uploads_an_opentelemetry_export_and_picks_what_counts(upload_env,
                                                                       tmp_path):
    """The page says what the export holds before loading, and the analyst's choices (the
    decision unit, the evaluation that gives the outcome) are what gets loaded."""
    from exports import write_all

    files = write_all(tmp_path / "exports")
    db, cfg = upload_env
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value(("traces.jsonl", files["otlp"].read_bytes(),
                                   "application/jsonl")).run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "An export of OpenTelemetry (OTLP/JSON)"
    assert at.info[0].value == ("14 spans, 10 model calls in 2 services, 5 with an "
                                "evaluation.")
    fid = at.session_state["_upload_copies"].copy().popitem()[0]
    at.radio(key=f"up_unit_{fid}").set_value("trace").run()
    assert at.info[0].value == "14 spans, 10 model calls in 2 services, 5 with an evaluation."
    at.selectbox(key=f"up_outcome_{fid}").select("task_success").run()
    at.button(key="up_load").click().run()
    assert not at.exception, at.exception
    counts = {m.label: m.value for m in at.metric}
    assert counts["Rows read"] == "8" and counts["Inserted"] == "8"
    with open_store(db) as store:
        assert store.query(
            "SELECT outcome, count(*) FROM inference_events WHERE system = 'trip-planner' "
            "GROUP BY ALL ORDER BY 1") == [("failure", 1), ("success", 1)]
        assert not store.scalar("SELECT count(outcome) FROM inference_events "
                                "WHERE system = 'support-bot'")  # its evaluation is another


def test_a_phoenix_export_without_a_system_name_asks_for_one(upload_env, tmp_path):
    from exports import write_all

    files = write_all(tmp_path / "exports")
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value(("spans.parquet", files["phoenix"].read_bytes(),
                                   "application/octet-stream")).run()
    assert not at.exception, at.exception
    fid = at.session_state["_upload_copies"].copy().popitem()[0]
    assert at.button(key="up_load").disabled
    at.text_input(key=f"up_system_{fid}").input("rag-answers").run()
    assert not at.button(key="up_load").disabled
    at.button(key="up_load").click().run()
    assert {m.label: m.value for m in at.metric}["Inserted"] == "3"


def test_analyst_uploads_an_extract_with_a_mapping_made_in_the_page(upload_env):
    db, cfg = upload_env
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value(("other-tool.csv.gz", gzip.compress(_extract(40, bad=2)),
                                   "application/gzip")).run()
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["id", "ts", "model_name", "result", "ms"]
    fid = at.session_state["_upload_copies"].copy().popitem()[0]
    pick = lambda col: at.selectbox(key=f"map_{fid}_(none)_{col}")  # noqa: E731
    pick("event_id").select("id").run()
    pick("timestamp").select("ts").run()
    pick("model").select("model_name").run()
    pick("status").select("result").run()
    pick("latency_ms").select("ms").run()
    pick("system").select("a constant value…").run()
    at.text_input(key=f"const_{fid}_(none)_system").input("field-agent").run()
    at.text_input(key=f"map_name_{fid}").input("Other tool")
    at.button(key="up_load").click().run()
    assert not at.exception, at.exception
    counts = {m.label: m.value for m in at.metric}
    assert counts == {"Rows read": "42", "Inserted": "40", "Duplicates skipped": "0",
                      "Conflicts kept aside": "0", "Rejected": "2"}
    rejected = at.dataframe[1].value
    assert list(rejected.columns) == ["Row in file", "Why it was set aside", "id", "ts",
                                      "model_name", "result", "ms"], "the file's own columns"
    assert list(rejected["Row in file"]) == [41, 42] and list(rejected["ts"]) == ["not a time"] * 2
    assert all("timestamp" in r for r in rejected["Why it was set aside"])
    download = at.get("download_button")[0]
    assert download.proto.label == "Download the rejected rows (CSV)"
    with open_store(db) as store:
        assert store.scalar("SELECT count(*) FROM inference_events WHERE system = 'field-agent'") \
            == 40
        assert store.query("SELECT actor, via, file, inserted FROM ingest_log "
                           "WHERE via = 'web'") == [("analyst", "web", "other-tool.csv.gz", 40)]
    saved = yaml.safe_load((cfg / "maps" / "other-tool.map.yaml").read_text())
    assert saved["columns"]["event_id"] == "id" and saved["constants"] == {"system": "field-agent"}

    # taken back: a reason is required, then exactly its rows go and the history says so
    at = run("views/upload.py", user="analyst")
    labels = at.selectbox(key="undo_pick").options
    assert labels[0].startswith("other-tool.csv.gz") and "40 rows · by analyst" in labels[0]
    at.button(key="undo_go").click().run()
    assert "Say why the upload is removed" in at.error[0].value
    at.text_input(key="undo_reason").input("mapped to the wrong system")
    at.button(key="undo_go").click().run()
    assert not at.exception
    assert as_read(at.success[0].value).startswith("Removed other-tool.csv.gz: 40 events")
    history = at.dataframe[-1].value
    assert history["Removed (UTC)"].iloc[0] != "" and history["Removed by"].iloc[0] == "analyst"
    moment = r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d"  # both times written alike: 22 Nov 2026 10:05
    assert re.fullmatch(moment, history["When (UTC)"].iloc[0])
    assert re.fullmatch(moment, history["Removed (UTC)"].iloc[0])
    assert history["Why removed"].iloc[0] == "mapped to the wrong system"
    with open_store(db) as store:
        assert store.scalar("SELECT count(*) FROM inference_events WHERE system = 'field-agent'") \
            == 0
        assert store.query("SELECT actor, via, reason, events_removed FROM ingest_undos") == [
            ("analyst", "web", "mapped to the wrong system", 40)]


def test_the_mapper_matches_names_that_differ_only_in_case_or_spacing(upload_env):
    db, _ = upload_env
    rows = "".join(f"m-{i},2026-11-21T09:{i:02d}:00Z,Field Agent,fa-1,ok,{100 + i}\n"
                   for i in range(12))
    extract = ("Event_ID,TimeStamp,System ,Model,status,Latency-MS\n" + rows).encode()
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value(("export.csv", extract, "text/csv")).run()
    assert not at.exception
    assert not [w for w in at.warning if "needs mapping" in w.value]
    fid = at.session_state["_upload_copies"].copy().popitem()[0]
    picked = {c: at.selectbox(key=f"map_{fid}_(none)_{c}").value
              for c in ("event_id", "timestamp", "system", "latency_ms")}
    assert picked == {"event_id": "Event_ID", "timestamp": "TimeStamp", "system": "System",
                      "latency_ms": "Latency-MS"}
    at.button(key="up_load").click().run()
    assert {m.label: m.value for m in at.metric}["Inserted"] == "12"
    with open_store(db) as store:
        assert store.scalar("SELECT max(latency_ms) FROM inference_events WHERE "
                            "system = 'Field Agent'") == 111


def test_a_demo_sign_in_is_told_to_add_its_own_before_loading(app_env):
    """Loading ends the demo sign-ins (their password is public): with no other sign-in, the
    load is refused with what to do, and nothing is stored."""
    db, _ = app_env
    at = run("views/upload.py", user="analyst")
    assert "Loading a file ends the demo sign-ins" in at.info[0].value
    content = b"event_id,timestamp,system,model,status\nown-1,2026-11-20T10:00:00Z,own,m,ok\n"
    at.file_uploader[0].set_value(("own.csv", content, "text/csv")).run()
    at.button(key="up_load").click().run()
    assert not at.exception
    assert [as_read(e.value) for e in at.error] == [
        "Loading a file ends the demo sign-ins, as their password is public, and this "
        "scorecard has no other sign-in yet: add one first (`scorecard users add NAME --role "
        "admin`), sign in with it and load the file again. Nothing from this file was stored."]
    with open_store(db) as store:
        assert store.scalar("SELECT count(*) FROM inference_events WHERE system = 'own'") == 0


def test_a_file_with_a_300_character_name_loads(upload_env):
    """Longer than a file system allows for a name: the copy is shortened, the extension kept,
    and the rows load (it used to be an error id)."""
    name = "x" * 296 + ".csv"
    extract = ("event_id,timestamp,system,model,status,latency_ms\n" + "".join(
        f"long-{i},2026-11-21T09:{i:02d}:00Z,long-names,m1,ok,100\n" for i in range(3))).encode()
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value((name, extract, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    copy = Path(next(iter(at.session_state["_upload_copies"].values())))
    assert copy.name.endswith("….csv") and len(copy.name.encode()) < 255
    at.button(key="up_load").click().run()
    assert {m.label: m.value for m in at.metric}["Inserted"] == "3"


def test_upload_copies_do_not_stay_in_the_temp_folder(upload_env):
    """The copy of a loaded file is removed once its rows are in the store, and copies left by
    tabs closed mid-upload are swept after a day (they used to stay forever)."""
    temp = Path(tempfile.gettempdir())
    left = temp / "scorecard-upload-left-by-a-closed-tab"
    recent = temp / "scorecard-upload-of-a-tab-still-open"
    for folder, age_hours in ((left, 25), (recent, 1)):
        folder.mkdir(exist_ok=True)
        (folder / "extract.csv").write_text("event_id\n")
        then = time.time() - age_hours * 3600
        os.utime(folder, (then, then))
    try:
        at = run("views/upload.py", user="analyst")
        extract = ("event_id,timestamp,system,model,status,latency_ms\n" + "".join(
            f"copy-{i},2026-11-21T09:{i:02d}:00Z,copies,m1,ok,100\n" for i in range(3)))
        at.file_uploader[0].set_value(("kept.csv", extract.encode(), "text/csv")).run()
        copy = Path(next(iter(at.session_state["_upload_copies"].values())))
        assert copy.is_file() and not left.exists() and recent.exists()
        at.button(key="up_load").click().run()
        assert {m.label: m.value for m in at.metric}["Inserted"] == "3"
        assert not copy.exists() and not copy.parent.exists()
    finally:
        shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(recent, ignore_errors=True)


def test_the_mapper_says_a_file_needs_mapping_and_translates_coded_values(upload_env):
    """An outcome coded 1/0 and a reviewed flag coded Y/N: the page asks what each value means,
    and with the answers every row loads (without them, 9 of 12 rows would be set aside)."""
    db, cfg = upload_env
    lines = ["event_id,timestamp,model,status,outcome,human_reviewed"]
    for i in range(12):
        lines.append(f"c{i},2026-11-20T10:{i:02d}:00Z,m1,ok,{'1' if i % 4 else '0'},"
                     f"{'Y' if i % 3 else 'N'}")
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value(("coded.csv", "\n".join(lines).encode(), "text/csv")).run()
    assert not at.exception
    assert "needs mapping before it can be loaded: nothing in it supplies system" in \
        at.warning[0].value
    assert at.button(key="up_load").disabled
    fid = at.session_state["_upload_copies"].copy().popitem()[0]
    at.selectbox(key=f"map_{fid}_(none)_system").select("a constant value…").run()
    at.text_input(key=f"const_{fid}_(none)_system").input("coded-bot").run()
    assert not at.warning and not at.button(key="up_load").disabled
    key = f"val_{fid}_(none)"
    assert [at.selectbox(key=f"{key}_outcome_{i}").label for i in (0, 1)] == [
        "“1” means", "“0” means"], "most frequent first"
    at.selectbox(key=f"{key}_outcome_0").select("success")
    at.selectbox(key=f"{key}_outcome_1").select("failure")
    at.selectbox(key=f"{key}_human_reviewed_0").select("true")
    at.selectbox(key=f"{key}_human_reviewed_1").select("false")
    at.text_input(key=f"map_name_{fid}").input("coded").run()
    at.button(key="up_load").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Inserted"] == "12"
    with open_store(db) as store:
        assert store.query("SELECT outcome, human_reviewed, count(*) FROM inference_events "
                           "WHERE system = 'coded-bot' GROUP BY ALL ORDER BY ALL") == [
            ("failure", False, 1), ("failure", True, 2), ("success", False, 3),
            ("success", True, 6)]
    saved = yaml.safe_load((cfg / "maps" / "coded.map.yaml").read_text())
    assert saved["values"] == {"outcome": {"1": "success", "0": "failure"},
                               "human_reviewed": {"Y": "true", "N": "false"}}


def test_a_saved_map_is_offered_for_the_next_extract_and_duplicates_are_counted(upload_env):
    db, cfg = upload_env
    (cfg / "maps").mkdir()
    (cfg / "maps" / "other-tool.map.yaml").write_text(yaml.safe_dump({
        "columns": {"event_id": "id", "timestamp": "ts", "model": "model_name",
                    "status": "result", "latency_ms": "ms"},
        "constants": {"system": "field-agent"}}))
    at = run("views/upload.py", user="admin")
    for expected_inserted in ("5", "0"):
        at.file_uploader[0].set_value(("again.csv", _extract(5), "text/csv")).run()
        fid = at.session_state["_upload_copies"].copy().popitem()[0]
        assert at.selectbox(key=f"map_pick_{fid}").value == "other-tool"
        at.button(key="up_load").click().run()
        counts = {m.label: m.value for m in at.metric}
        assert counts["Inserted"] == expected_inserted
    assert counts["Duplicates skipped"] == "5"


def test_a_file_that_cannot_be_used_changes_nothing_and_says_why(upload_env):
    """Refused before loading: the page says what the file lacks. (A file refused by the load
    itself, here for want of memory, is in test_resilience.)"""
    db, _ = upload_env
    with open_store(db) as store:
        before = store.scalar("SELECT count(*) FROM inference_events")
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value(("only-ids.csv", b"id\nx1\nx2\n", "text/csv")).run()
    assert not at.exception and at.button(key="up_load").disabled
    assert "nothing in it supplies event_id, timestamp, system, model, status" in \
        at.warning[0].value
    with open_store(db) as store:
        assert store.scalar("SELECT count(*) FROM inference_events") == before
        assert store.scalar("SELECT count(*) FROM ingest_log WHERE via = 'web'") == 0


# -- audit -------------------------------------------------------------------------------------

def test_audit_page_lists_filters_and_downloads_in_words(app_env):
    db, cfg = app_env
    with open_store(db) as store:
        directory = Directory.load(cfg, store)
        actions.sign_off(store, directory, "pm", question="costs_scale", system=None,
                         status="amber", note="watching", as_of=pd.Timestamp("2026-11-22"))
        actions.change_threshold(store, directory, "pm", cfg / "thresholds.yaml",
                                 Proposal("latency_p95_ms", "doc-summariser", 2500, 5000),
                                 "summaries may take longer")
    at = run("views/audit.py", user="admin")
    assert [t.label for t in at.tabs] == ["Uploads", "Removed uploads", "Threshold changes",
                                         "Sign-offs", "Sign-ins", "Sessions"]
    signoffs = at.tabs[3].dataframe[0].value
    assert signoffs[["Who", "Question", "Status then"]].values.tolist() == [
        ["pm", "Which costs grow as usage scales?", "🟠 Watch"]]
    changes = at.tabs[2].dataframe[0].value
    assert changes[["Scope", "Metric", "Before (target / limit)", "After"]].values.tolist() == [
        ["doc-summariser", "95th percentile latency", "all-systems threshold",
         "2.50 s / 5.00 s"]]
    uploads = at.tabs[0].dataframe[0].value
    assert len(uploads) == 5 and set(uploads["Through"]) == {"demo data"}
    assert set(uploads["Holds"]) == {"inference events", "incidents"}
    assert not [c for c in uploads.columns if "_" in c], "no internal column names"
    assert len(at.get("download_button")) == 4  # uploads, threshold changes, sign-offs, sessions
    at.text_input(key="audit_who").input("nobody-by-that-name").run()
    assert not at.tabs[3].dataframe and not at.get("download_button")
    at.text_input(key="audit_who").input("P").run()  # part of a name, any case
    assert list(at.tabs[3].dataframe[0].value["Who"]) == ["pm"]


def test_a_sign_off_needs_a_note_and_a_double_click_records_one(app_env):
    at = run("views/questions.py", user="pm")
    at.button[0].click().run()  # the first question's form, no note
    assert "Say in the note what was decided" in at.error[0].value
    for _ in range(2):
        at.text_input(key="note_inputs_change").input("Watch drift on credit-precheck")
        at.button[0].click().run()
    assert "already recorded" in at.error[0].value
    history = at.dataframe[0].value
    assert list(history["Who"]) == ["pm"] and list(history.columns) == [
        "When (UTC)", "Who", "System", "Status then", "Note", "Data as of"]
    assert history["Status then"].iloc[0].split(" ", 1)[1] in ("On target", "Watch", "Act",
                                                                  "No data")


def _computations(monkeypatch) -> list:
    """The scorecard computations the app makes from now on, with its caches emptied."""
    run("views/scorecard.py", "exec")  # loads the app's modules into this process
    ui = sys.modules["ui"]
    computed: list = []
    real = ui.compute_scorecard
    monkeypatch.setattr(ui, "compute_scorecard",
                        lambda *a, **k: computed.append(k.get("as_of")) or real(*a, **k))
    for cached in (ui.scorecard, ui.freshness, ui.baseline_values):
        cached.clear()
    return computed


def test_the_scorecard_page_computes_the_scorecard_once(app_env, monkeypatch):
    """The newest window is one cache entry, however a page asks for it (freshness included):
    on a large store each extra computation is seconds before the first paint."""
    computed = _computations(monkeypatch)
    run("views/scorecard.py", "exec")
    assert computed == [None]


def test_the_first_page_after_a_server_start_reads_the_kept_scorecard(app_env, monkeypatch):
    db, cfg = app_env
    store_to_serve(str(db), demo=False, thresholds=load_thresholds(cfg / "thresholds.yaml"))
    computed = _computations(monkeypatch)
    at = run("views/scorecard.py", "exec")
    assert computed == [] and "Success rate" in at.dataframe[0].value["Metric"].tolist()


# -- the board report and the evidence -----------------------------------------------------------

def test_every_role_can_download_the_board_report_with_the_pages_numbers(app_env):
    at = run(user="exec")
    at.button(key="report_make").click().run()
    assert not at.exception
    page = at.get("download_button")
    assert [b.proto.label for b in page] == ["Download (HTML)", "Download (PDF)"]
    html = ui_board_html()
    table = at.dataframe[0].value
    for title in ("Success rate", "Decisions in window", "Outcome coverage"):
        assert table.loc[table.Metric == title, "Value"].iloc[0] in html, title


def ui_board_html() -> str:
    """The HTML the download button offers, as the page made it (its cache)."""
    import sys

    sys.path.insert(0, str(Path(APP).parent))
    import ui

    return ui.board_report_html(ui.cache_key(), None, None)


def test_a_product_manager_reads_the_evidence_and_packs_it(app_env):
    at = run("views/evidence.py", user="pm")
    assert not at.exception
    assert "not a certification" in at.info[0].value
    table = at.dataframe[0].value
    assert "EU AI Act Art. 73" in set(table["Clause"])
    at.button(key="pack_make").click().run()
    assert [b.proto.label for b in at.get("download_button")] == ["Download the pack (zip)"]


# -- one level down: slices, releases and costs ------------------------------------------------

def test_the_details_table_slices_by_release_worst_first(app_env):
    at = run(user="exec")
    at.selectbox(key="slice_by").set_value("release").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Release" in d.value.columns)
    assert list(table.columns[:3]) == ["System", "Release", "Spend"]
    reds = table.drop(columns=["System", "Release", "Spend"]).apply(
        lambda row: sum(str(v).startswith("🔴") for v in row), axis=1)
    assert list(reds) == sorted(reds, reverse=True), "the most red first"
    canary = table[table.Release == "assistant-2026.11.2"].iloc[0]
    assert canary["95th percentile latency"] == "🟠 Watch 3.12 s"
    at.selectbox(key="system").set_value("support-assistant").run()
    table = next(d.value for d in at.dataframe if "Release" in d.value.columns)
    assert set(table.Release) == {"assistant-2026.10.4", "assistant-2026.11.2"}
    assert "System" not in table.columns


def test_trends_draw_one_line_per_customer_the_rest_as_other(app_env):
    at = run("views/trends.py", user="exec")
    at.selectbox(key="trend_by").set_value("customer").run()
    assert not at.exception
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [trace["name"] for trace in figure["data"]]
    assert len(names) == 9 and names[-1] == "(other)" and names[0] == "northwind"
    at.selectbox(key="trend_metric").set_value("confidence_psi").run()
    assert "is not computed per customer" in at.info[0].value


def test_the_releases_view_compares_the_newest_two(app_env):
    at = run("views/releases.py", user="pm")
    assert at.subheader[0].value == "🔴 Regressed"
    assert at.selectbox(key="rel_a").value == "assistant-2026.10.4"
    assert at.selectbox(key="rel_b").value == "assistant-2026.11.2"
    table = at.dataframe[0].value
    verdicts = dict(zip(table.Metric, table.Verdict))
    assert verdicts["95th percentile latency"] == "🔴 regressed"
    assert verdicts["Failure rate"] == "⚪ no clear change"
    at.selectbox(key="rel_b").set_value("assistant-2026.10.4").run()
    assert "Pick two different releases." in at.info[0].value


def test_cost_attribution_downloads_with_formulas_neutralised(upload_env, tmp_path):
    db, _ = upload_env
    hostile = tmp_path / "hostile.csv"
    hostile.write_text("event_id,timestamp,system,model,status,cost_usd,outcome,customer\n"
                       "h1,2026-11-20T10:00:00Z,support-assistant,m,ok,500,success,"
                       "\"=HYPERLINK(\"\"http://x\"\")\"\n")
    with open_store(db) as store:
        from scorecard.store.ingest import ingest_file

        assert ingest_file(store, hostile).inserted == 1
    at = run("views/costs.py", user="exec")
    at.radio(key="cost_by").set_value("customer").run()
    at.selectbox(key="cost_system").set_value("support-assistant").run()
    table = at.dataframe[0].value
    assert table.iloc[0]["Customer"] == '=HYPERLINK("http://x")'  # shown as the text it is
    assert table.iloc[0]["Cost per successful outcome"] == "$500.00 ◌ too few to judge"
    csv = at.get("download_button")[0]
    assert csv.proto.label == "Download the table (CSV)"
    at.radio(key="cost_by").set_value("team").run()
    assert not at.exception


# -- company sign-in (OpenID Connect) -----------------------------------------------------------

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
        "company": {"client_id": "scorecard", "client_secret": "x",
                    "server_metadata_url": "http://127.0.0.1:{port}/.well-known/"
                                           "openid-configuration"}}


def with_auth(auth: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = auth
    return at.run()


def test_a_malformed_auth_section_is_one_sentence_and_passwords_still_work(app_env):
    at = with_auth({key: value for key, value in AUTH.items() if key != "cookie_secret"})
    assert [w.value for w in at.warning] == [
        "The [auth] section of secrets.toml has no cookie_secret; company sign-in is off until "
        "it has one."]
    assert [b.label for b in at.button] == ["Sign in"]  # no company button, the password form
    at = with_auth({**AUTH, "company": {"client_id": "scorecard"}})
    assert at.warning[0].value == ("The [auth] section of secrets.toml is missing client_secret "
                                   "and server_metadata_url for the provider company.")
    at.text_input[0].input("pm")
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click().run()
    assert any("Metric" in d.value.columns for d in at.dataframe), "signed in with a password"


def test_a_provider_that_is_down_is_one_sentence_and_nobody_leaves(app_env):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    company = {**AUTH["company"],
               "server_metadata_url": AUTH["company"]["server_metadata_url"].format(port=port)}
    at = with_auth({**AUTH, "company": company})
    assert [b.label for b in at.button] == ["Sign in with Company", "Sign in"]
    at.button[0].click().run()
    assert [as_read(e.value) for e in at.error] == [
        "Signing in with Company cannot start: it refused the connection; try again in a "
        "while, or sign in with a password."]
    assert not at.exception


def test_a_company_session_has_the_role_its_groups_gave_and_may_use_it(app_env):
    """A product manager signed in through the identity provider (not in the users file) sees
    their pages and may change a threshold, the role coming from their server-side session."""
    from scorecard.sessions import start_company_session

    db, _ = app_env
    with open_store(db) as store:
        token = start_company_session(store, "pat@example.com", "product_manager", "sso:abc",
                                      "test", SecurityPolicy())
    at = run("views/thresholds.py", _token=token)
    assert at.title[0].value == "Thresholds"
    assert "pat@example.com" in " ".join(h.proto.body for h in at.get("html"))
    threshold_input(at, "target_all_success_rate").set_value(81.5).run()
    at.text_area(key="th_reason").input("Agreed with support leads")
    [b for b in at.button if b.label == "Save threshold"][0].click().run()
    assert at.success[0].value.startswith("Saved: Success rate for all systems.")
    with open_store(db) as store:
        assert store.query("SELECT actor FROM threshold_changes") == [("pat@example.com",)]
    assert "upload.py" not in offered_pages(at)  # an analyst's page is not offered to them


def test_visitors_read_the_scorecard_as_it_was_while_an_upload_is_loaded(upload_env):
    """#36 item 8: while an upload's child process holds the store, a visitor's page comes from
    the copy made before the load (numbers, with a word that an upload is running), not "the
    store is being updated"; after the load, the store itself again."""
    db, cfg = upload_env
    extract = db.parent / "during.csv"
    extract.write_text("event_id,timestamp,system,model,status,latency_ms\n" + "".join(
        f"d{i},2026-11-21T09:{i % 60:02d}:00Z,loaded-during-a-visit,m1,ok,100\n"
        for i in range(2000)))
    token = session_for("exec")
    seen: list[AppTest] = []

    def a_visit_meanwhile(fraction: float, text: str) -> None:
        if fraction >= 0.3 and not seen:  # the child holds the store from its start
            visitor = AppTest.from_file(APP, default_timeout=60)
            visitor.session_state["_token"] = token
            seen.append(visitor.run())

    store = open_store(db)

    @contextmanager
    def let_go():  # as the page lets go of its hold while the child writes
        store.close()
        yield

    result = actions.upload(store, Directory.load(cfg, store), "analyst", extract,
                            display_name="during.csv", kind="events", cmap=ColumnMap(),
                            cfg_dir=cfg, progress=a_visit_meanwhile, release=let_go)
    assert result.inserted == 2000
    (visitor,) = seen
    assert not visitor.exception and not visitor.warning, [w.value for w in visitor.warning]
    assert any("An upload is being loaded" in i.value for i in visitor.info), \
        "the visit read the copy, while the child held the store"
    assert "loaded-during-a-visit" not in texts(visitor)
    assert visitor.metric or visitor.markdown, "the scorecard itself is shown"
    after = run(user="exec")
    assert not any("An upload is being loaded" in i.value for i in after.info)
