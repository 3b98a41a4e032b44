"""`scorecard retention` on both engines: below six months only with --force, a dry run that
writes nothing, a run that removes exactly what it counted and records itself, a TTL on
ClickHouse, the Audit page's preview and button, and the evidence pack's sentence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from conftest import address_for
from scorecard.demo import ensure_demo_store
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.engines import open_store


def scorecard(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scorecard.cli", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return ensure_demo_store(tmp_path_factory.mktemp("retention") / "demo.duckdb")


def keeping_a_month(address: str) -> tuple[int, datetime]:
    """Days to keep so that the newest month of the demo stays, whatever today is; and the
    newest event's time."""
    with open_store(address, read_only=True) as store:
        newest = store.scalar('SELECT max("timestamp") FROM inference_events')
    today = datetime.now(timezone.utc).replace(tzinfo=None)
    return (today - newest).days + 30, newest


def counts(address: str) -> dict[str, int]:
    with open_store(address, read_only=True) as store:
        return {t: int(store.scalar(f"SELECT count(*) FROM {t}")) for t in (
            "inference_events", "incidents", "rejected_rows", "ingest_log", "signins")}


def test_less_than_six_months_needs_force(demo_db):
    done = scorecard("retention", "--db", str(demo_db), "--keep-days", "90")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "A retention of 90 days is below six months (183 days), which the EU AI Act asks "
        "deployers to keep logs for; add --force if that is really meant.")


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_a_run_removes_what_its_dry_run_counted_and_records_itself(demo_db, tmp_path, engine):
    address = address_for(engine, tmp_path)
    if engine == "duckdb":
        shutil.copy(demo_db, address)
    else:
        ensure_demo_store(address)
    keep, newest = keeping_a_month(address)
    old = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=keep + 5)
    with open_store(address) as store:  # an old sign-in and an old refused upload
        with store.transaction(changes_data=False) as cur:
            cur.execute("INSERT INTO signins (recorded_at, username, role, event) VALUES "
                        "($at, 'ana', 'analyst', 'sign_in')", {"at": old})
            cur.execute("INSERT INTO ingest_log (ingest_id, recorded_at, status) VALUES "
                        "('old-upload', $at, 'refused')", {"at": old})
            cur.execute("INSERT INTO rejected_rows (ingest_id, kind, reason) VALUES "
                        "('old-upload', 'events', 'timestamp is missing')")
    before = counts(address)
    dry = scorecard("retention", "--db", address, "--keep-days", str(keep), "--force",
                    "--dry-run")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and planned["removed"]["events"] > 1000
    assert planned["removed"]["sign-in log"] == 1 and planned["removed"]["rejected rows"] == 1
    assert counts(address) == before, "a dry run removes nothing"

    done = scorecard("retention", "--db", address, "--keep-days", str(keep), "--force")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["removed"] == planned["removed"] and not result["dry_run"]
    after = counts(address)
    # whole days: the run removes what its preview counted, and a TTL (ClickHouse) no more
    assert after["inference_events"] == before["inference_events"] - planned["removed"]["events"]
    assert after["signins"] == before["signins"] - 1
    assert after["rejected_rows"] == before["rejected_rows"] - 1
    cutoff = datetime.fromisoformat(result["cutoff"])
    with open_store(address, read_only=True) as store:
        assert store.scalar('SELECT min("timestamp") FROM inference_events') >= cutoff
        logged = store.query_dicts("SELECT keep_days, removed FROM retention_log")
        if engine == "chdb":
            table = store.scalar("SHOW CREATE TABLE inference_events")
            assert f"TTL toStartOfDay(toDateTime(timestamp, 'UTC')) + toIntervalDay({keep + 1})" \
                in table, table
    assert [(r["keep_days"], json.loads(r["removed"])) for r in logged] == [
        (keep, planned["removed"])]
    # the numbers still come from what is left: the metrics run and count it
    metrics = scorecard("metrics", "--db", address, "--format", "json",
                        "--as-of", f"{newest:%Y-%m-%d}", "--window-days", "7")
    assert metrics.returncode == 0, metrics.stderr
    with open_store(address, read_only=True) as store:
        week = store.scalar('SELECT count(*) FROM inference_events WHERE "timestamp" >= $start',
                            {"start": datetime.combine(newest.date() - timedelta(days=6),
                                                       datetime.min.time())})
    assert json.loads(metrics.stdout)["overall"]["events"]["value"] == week


def test_the_evidence_pack_states_the_retention_and_the_oldest_event(demo_db, tmp_path):
    db = tmp_path / "store.duckdb"
    shutil.copy(demo_db, db)
    keep, _ = keeping_a_month(str(db))
    assert scorecard("retention", "--db", str(db), "--keep-days", str(keep),
                     "--force").returncode == 0
    done = scorecard("evidence", "--db", str(db), "--out", str(tmp_path / "pack"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "pack" / "index.html").read_text()
    assert "Retention in force: 400 days (store.yaml, scorecard retention); last applied on " \
        f"{date.today():%d %b %Y}" in page
    assert "The oldest event kept is from" in page
    assert "retention_days_in_force" in (tmp_path / "pack" / "retention.csv").read_text()


def test_an_admin_previews_and_applies_the_retention_on_the_audit_page(demo_db, tmp_path,
                                                                       monkeypatch):
    from test_app import run

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    cfg = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg, ignore=shutil.ignore_patterns("users.yaml"))
    monkeypatch.setenv("SCORECARD_DB", str(db))
    monkeypatch.setenv("SCORECARD_CONFIG", str(cfg))
    keep, _ = keeping_a_month(str(db))
    at = run("views/audit.py", user="admin")
    assert any("would take nothing" in m.value for m in at.markdown), "400 days: nothing"
    at.number_input(key="ret_days").set_value(keep).run()
    assert "below six months" in at.warning[0].value
    preview = next(m.value for m in at.markdown if "would take" in m.value)
    assert "events" in preview and "The oldest event kept would be from" in preview
    at.button(key="ret_go").click().run()
    assert "below six months" in at.error[0].value and "--force" in at.error[0].value
    at.checkbox(key="ret_force").check().run()
    at.button(key="ret_go").click().run()
    assert at.success and at.success[0].value.startswith("Removed "), [e.value for e in at.error]
    with open_store(str(db), read_only=True) as store:
        assert store.query("SELECT actor, via, keep_days FROM retention_log") == [
            ("admin", "web", keep)]
