"""The web app's pages, run by Streamlit's AppTest against a real demo store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scorecard.demo import ensure_demo_store

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return ensure_demo_store(tmp_path_factory.mktemp("app") / "demo.duckdb")


@pytest.fixture
def app_env(demo_db, tmp_path, monkeypatch):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("SCORECARD_DB", str(db))
    return db


def run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_scorecard_page_shows_every_seed_row(app_env):
    at = run()
    assert at.title[0].value == "AI systems scorecard"
    table = at.dataframe[0].value
    assert {"Accuracy & Benchmarks", "Temporal Reliability", "Performance Degradation",
            "Cost per Outcome", "Latency Impact", "Failure Recovery", "Explainability",
            "Auditability", "Bias over time", "Appropriateness", "Trust"} <= set(table["Area"])
    assert table.loc[table.Metric == "Success rate", "Value"].iloc[0] == "82.2%"
    assert all(any(word in s for word in ("On target", "Watch", "Act", "No data", "Too few"))
               for s in table["Status"])


def test_scorecard_system_selector_changes_the_numbers(app_env):
    at = run()
    at.selectbox(key="system").select("credit-precheck").run()
    table = at.dataframe[0].value
    assert table.loc[table.Metric == "Decisions in window", "Value"].iloc[0] == "3,374"


def test_trends_page_draws_a_chart(app_env):
    at = run("pages/trends.py")
    assert at.title[0].value == "Trends"
    assert len(at.get("plotly_chart")) == 1


def test_questions_page_answers_and_records_a_signoff(app_env):
    at = run("pages/questions.py")
    text = " ".join(m.value for m in at.markdown)
    assert "How quickly do we detect and recover from failure?" in text
    at.text_input(key="who_detect_recover").input("Dana CEO")
    at.text_input(key="note_detect_recover").input("Reviewed in the Monday meeting")
    submit = [b for b in at.button if "detect_recover" in str(b.form_id)][0]
    submit.click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Signed off."]
    history = [d.value for d in at.dataframe]
    assert any("actor" in df and "Dana CEO" in set(df["actor"]) for df in history)


def test_empty_store_gets_a_helpful_notice(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_DB", str(tmp_path / "empty.duckdb"))
    at = run()
    assert "holds no inference events yet" in at.info[0].value
