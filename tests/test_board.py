"""The board report (one page, every number of the app, nothing from a network) and the
governance evidence pack, on the demo store and on an empty one."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from datetime import datetime

import pytest

from scorecard.board.evidence import NOT_A_CERTIFICATE
from scorecard.demo import ensure_demo_store
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.formatting import format_value
from scorecard.metrics.registry import registry
from scorecard.metrics.thresholds import PACKAGED, thresholds_for
from scorecard.store import records
from scorecard.store.db import Store

NUMBER = re.compile(r"\$?\d[\d,]*(?:\.\d+)?%?")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return ensure_demo_store(tmp_path_factory.mktemp("board") / "demo.duckdb")


def scorecard(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scorecard.cli", *args], capture_output=True,
                          text=True, timeout=300)


def visible_text(page: str) -> str:
    body = re.sub(r"<style>.*?</style>|<title>.*?</title>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_the_report_is_one_page_with_every_number_of_the_page(demo_db, tmp_path):
    pdf, page = tmp_path / "report.pdf", tmp_path / "report.html"
    assert scorecard("report", "--db", str(demo_db), "--out", str(pdf)).returncode == 0
    assert scorecard("report", "--db", str(demo_db), "--out", str(page)).returncode == 0
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    assert "841.92 x 594.96 pts (A4)" in info, "A4 landscape"
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                   text=True).stdout.split())
    wanted = set(NUMBER.findall(visible_text(page.read_text())))
    assert len(wanted) > 60
    missing = {n for n in wanted if n not in text}
    assert not missing, f"numbers of the page missing from the PDF: {sorted(missing)[:10]}"
    image = tmp_path / "report"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-singlefile", str(pdf), str(image)],
                   check=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_the_reports_numbers_are_the_apps(demo_db, tmp_path):
    page = tmp_path / "report.html"
    assert scorecard("report", "--db", str(demo_db), "--out", str(page)).returncode == 0
    text = " ".join(visible_text(page.read_text()).split())
    with Store(demo_db, read_only=True) as store:
        card = compute_scorecard(store, thresholds_for(store, PACKAGED))
    values = card.scope(None)
    for metric_id in ("events", "label_coverage"):
        shown = format_value(registry().get(metric_id), values[metric_id].value)
        assert shown in text, metric_id
    for system in card.systems:
        assert f"{system} is " in text
    # the credit pre-check's drift, as the scorecard shows it
    psi = format_value(registry().get("confidence_psi"), card.scope("credit-precheck")[
        "confidence_psi"].value)
    assert f"credit-precheck: input drift (confidence PSI) {psi} against a 0.25 limit" in text
    # each verdict one clause per status, its worst figure beside it
    assert (f"credit-precheck is not dependable (input drift {psi}; limit 0.25). Watch cost "
            "(cost per successful decision $0.81; target $0.60) and resilience (median time to "
            "recover 3.0 h; target 60 min).") in text
    assert ("research-agent is not dependable (weeks meeting target 0.0%; limit 62.5%). It is "
            "economical. Watch resilience (failure rate 2.4%; target 2.0%).") in text


def test_the_html_report_needs_no_network(demo_db, tmp_path):
    page = tmp_path / "report.html"
    scorecard("report", "--db", str(demo_db), "--out", str(page), "--system", "doc-summariser")
    source = page.read_text()
    for outside in ("http:", "https:", "<link", "<script", "url(", "@import"):
        assert outside not in source, outside
    assert "board report for doc-summariser" in source
    assert "credit-precheck is" not in source, "one system's report is that system's"


def test_reports_refuse_what_they_cannot_write_in_one_sentence(demo_db, tmp_path):
    empty = tmp_path / "empty.duckdb"
    Store(empty).close()
    for args, sentence in [
        (["--db", str(empty), "--out", str(tmp_path / "r.pdf")],
         "The store holds no inference events yet, so there is nothing to report"),
        (["--db", str(demo_db), "--out", str(tmp_path / "r.docx")],
         "r.docx: the report is written as .pdf or .html."),
        (["--db", str(demo_db), "--out", str(tmp_path / "r.html"), "--system", "nope"],
         "The store has no system named 'nope'."),
    ]:
        done = scorecard("report", *args)
        assert done.returncode == 2 and done.stderr.startswith(sentence), done.stderr
    done = scorecard("evidence", "--db", str(empty), "--out", str(tmp_path / "pack"))
    assert done.returncode == 2 and "no evidence to pack" in done.stderr
    assert not (tmp_path / "pack").exists()


def test_the_evidence_pack_maps_clauses_to_records(demo_db, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    with Store(db) as store:  # a reason a spreadsheet would run as a formula
        with records.threshold_change(store, recorded_at=datetime(2026, 11, 23), actor="pm",
                                      system=None, metric="success_rate", old=None, new=None,
                                      reason="=HYPERLINK(\"http://x\")"):
            pass
        with records.threshold_change(store, recorded_at=datetime(2026, 11, 24), actor="pm",
                                      system=None, metric="success_rate",
                                      old={"target": 0.9, "limit": 0.8},
                                      new={"target": 0.85, "limit": 0.8}, reason="agreed"):
            pass
    out = tmp_path / "pack"
    done = scorecard("evidence", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    index = (out / "index.html").read_text()
    assert NOT_A_CERTIFICATE in html.unescape(index)
    for clause in ("MEASURE 2.4", "MEASURE 2.6", "MEASURE 2.8", "MEASURE 2.9", "MEASURE 2.11",
                   "MANAGE 4.1", "MANAGE 4.3", "Art. 12", "Art. 14(4)", "Art. 26(5)-(6)",
                   "Art. 72", "Art. 73"):
        assert clause in index, clause
    assert "83 days, less than the six months" in index
    assert "INC-112 (doc-summariser, sev2): detected" in index
    changes = (out / "threshold_changes.csv").read_text()
    assert "'=HYPERLINK" in changes and "\n=HYPERLINK" not in changes
    assert "90.0% / 80.0%,85.0% / 80.0%,agreed" in changes and "{" not in changes
    signoffs = (out / "signoffs.csv").read_text().splitlines()
    assert signoffs[0] == "recorded_at,actor,question,system,status,note,as_of"  # even if empty
    incidents = (out / "incidents.csv").read_text().splitlines()
    assert incidents[0].endswith("report_by") and len(incidents) == 13
    for name in ("clauses", "signoffs", "uploads", "retention", "audit_coverage", "metrics"):
        assert (out / f"{name}.csv").stat().st_size > 0, name


def write_systems(tmp_path, systems: int) -> "Path":
    """A store of `systems` systems with long names, two months of events each."""
    import numpy as np
    import pandas as pd

    from scorecard.store.ingest import ingest_file

    rng = np.random.default_rng(5)
    n = 600 * systems
    frame = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(n)],
        "timestamp": pd.Timestamp("2026-09-01") + pd.to_timedelta(rng.integers(0, 60 * 86400, n),
                                                                  unit="s"),
        "system": [f"system-with-a-long-name-{i % systems}" for i in range(n)], "model": "m",
        "status": np.where(rng.random(n) < 0.05, "error", "ok"),
        "latency_ms": rng.lognormal(7, 0.5, n), "cost_usd": 0.01,
        "outcome": np.where(rng.random(n) < 0.8, "success", "failure"),
        "confidence": rng.random(n)})
    frame.to_parquet(tmp_path / f"{systems}.parquet", index=False)
    db = tmp_path / f"{systems}.duckdb"
    with Store(db) as store:
        ingest_file(store, tmp_path / f"{systems}.parquet")
    return db


@pytest.mark.parametrize("systems", [1, 12])
def test_the_report_with_its_headline_table_fits_one_page(tmp_path, systems):
    from scorecard.board.pdf import page_count

    db = write_systems(tmp_path, systems)
    out = tmp_path / "report.pdf"
    done = scorecard("report", "--db", str(db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert page_count(out) == 1
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                                   text=True).stdout.split())
    assert "The numbers behind each verdict" in text
    assert text.count("system-with-a-long-name-") >= 2 * systems, "a headline row per system"


def test_the_headline_gives_each_systems_numbers_and_their_change(demo_db, tmp_path):
    from datetime import timedelta

    from scorecard.board.content import board_report
    from scorecard.board.headline import COLUMNS

    with Store(demo_db, read_only=True) as store:
        thresholds = thresholds_for(store, PACKAGED)
        card = compute_scorecard(store, thresholds)
        before = compute_scorecard(store, thresholds,
                                   as_of=card.window.as_of - timedelta(days=7))
        report = board_report(store, thresholds)
    assert [row.system for row in report.headline] == card.systems
    for row in report.headline:
        for figure, metric_id in zip(row.figures, COLUMNS):
            metric = registry().get(metric_id)
            now, then = (c.scope(row.system)[metric_id].value for c in (card, before))
            assert figure.value.startswith(format_value(metric, now)), (row.system, metric_id)
            if now is None or then is None or now == then:
                continue
            arrow = "▲" if now > then else "▼"
            assert figure.change.startswith(arrow) or figure.change == "no change", figure
            if metric_id != "events" and figure.change != "no change":
                better = (now > then) == (metric.direction == "higher_is_better")
                assert figure.change.endswith("better" if better else "worse"), figure
    lagging = next(r for r in report.headline if r.system == "doc-summariser")
    assert "(estimated " in lagging.figures[1].value, "labels lag there: the estimate beside"
    page = tmp_path / "report.html"
    assert scorecard("report", "--db", str(demo_db), "--out", str(page)).returncode == 0
    text = " ".join(visible_text(page.read_text()).split())
    assert "Changes are against the week before (09 – 15 Nov)" in text
    assert "The week to Sunday 22 November 2026 (16 – 22 Nov, UTC)" in text
    assert "spent (-" not in text
    assert re.search(r"🔴 (bad events at \S+ the allowed rate over 3 days: act this week · )?"
                     r"budget overspent (by \d+%|[\d.]+x)",
                     text), "an overspent budget in plain words, red"


def test_an_overspent_budget_is_said_in_plain_words():
    from scorecard.metrics.formatting import budget_words

    assert budget_words(0.4) == "40% left"
    assert budget_words(0.0) == "budget spent"
    assert budget_words(-0.55) == "budget overspent by 55%"
    assert budget_words(-1.9) == "budget overspent 1.9x"
