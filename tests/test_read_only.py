"""Reading never writes: the CLI and the app work on a store they may not write, and leave
every byte of it as it was."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import event_row, write_csv
from scorecard import cli
from scorecard.demo import DEMO_PASSWORD
from scorecard.metrics import rollups
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.db import Store, writable
from scorecard.store.ingest import ingest_file
from test_app import APP, demo_db  # noqa: F401 - shared fixture

NOBODY = 65534


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def locked_store(demo_db, tmp_path):  # noqa: F811
    """A copy of the demo store, read-only on disk, in a folder anyone may enter."""
    folder = Path(tempfile.mkdtemp(prefix="scorecard-ro-"))
    folder.chmod(0o755)
    db = folder / "store.duckdb"
    shutil.copy(demo_db, db)
    db.chmod(0o444)
    cfg = folder / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg, ignore=shutil.ignore_patterns("users.yaml",
                                                                          "secrets.yaml"))
    for path in [cfg, *cfg.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield db, cfg
    shutil.rmtree(folder, ignore_errors=True)


def as_nobody(job) -> dict:
    """Run `job()` in a child process that has given up root (as an operator's service account
    would run), and return what it returns (a JSON-able dict)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, run, report, leave without cleanup handlers
        os.close(read)
        try:
            if os.getuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            out = {"ok": True, **job()}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(out, default=str).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b'{"ok": false, "error": "no answer"}')


def test_the_cli_reads_a_store_it_may_not_write(locked_store, capsys):
    db, cfg = locked_store
    before = digest(db)

    def job():
        assert not writable(db)
        code = cli.main(["metrics", "--db", str(db), "--config", str(cfg), "--format", "json"])
        trend = cli.main(["trends", "--db", str(db), "--config", str(cfg), "--metric",
                          "success_rate", "--format", "json"])
        return {"codes": [code, trend]}

    result = as_nobody(job)
    assert result == {"ok": True, "codes": [0, 0]}, result
    assert digest(db) == before and sorted(p.name for p in db.parent.iterdir()) == [
        "config", "store.duckdb"], "no write-ahead log, nothing written"


def test_the_app_signs_in_and_shows_the_scorecard_on_a_store_it_may_not_write(locked_store,
                                                                                monkeypatch):
    db, cfg = locked_store
    second = db.with_name("second.duckdb")  # its own path: the app keeps no open handle to it
    shutil.copy(db, second)
    second.chmod(0o444)
    before = digest(db)
    monkeypatch.setenv("SCORECARD_DB", str(db))
    monkeypatch.setenv("SCORECARD_CONFIG", str(cfg))

    def job():
        sign_in = AppTest.from_file(APP, default_timeout=60).run()
        form_shown = bool(sign_in.text_input) and not sign_in.exception and not sign_in.error
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.text_input(key="signin_username").input("analyst")
        at.text_input(key="signin_password").input(DEMO_PASSWORD)
        at.button[0].click().run()
        shown = bool(at.dataframe) and not at.exception and not at.error
        at.switch_page("views/upload.py")
        at.run()
        notice = [i.value for i in at.info]
        problems = [e.value for e in [*sign_in.error, *at.error]] + [
            "\n".join(e.stack_trace) for e in [*sign_in.exception, *at.exception]]
        return {"form": form_shown, "scorecard": shown, "upload": notice, "problems": problems}

    # first as root with the store opened read-only on request ($SCORECARD_READ_ONLY), which
    # also loads every module the app uses: the interpreter's own files may be out of
    # nobody's reach, as they are where Python lives under /root
    monkeypatch.setenv("SCORECARD_READ_ONLY", "1")
    on_request = {"ok": True, **job()}
    monkeypatch.delenv("SCORECARD_READ_ONLY")
    monkeypatch.setenv("SCORECARD_DB", str(second))
    for result in (on_request, as_nobody(job)):
        assert result["ok"], result
        assert result["form"] and result["scorecard"], result["problems"]
        assert result["upload"] and "open for reading only" in result["upload"][0]
    assert digest(db) == before == digest(second)


def test_reading_a_store_whose_rollup_is_behind_writes_nothing(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        ingest_file(store, write_csv(tmp_path / "a.csv", [
            event_row(f"e{i}", outcome="success" if i % 3 else "failure") for i in range(60)]))
        rollups.refresh(store)
        ingest_file(store, write_csv(tmp_path / "b.csv", [event_row(f"f{i}") for i in range(5)]))
        store.cursor().execute("CHECKPOINT")
    before = digest(db)
    assert cli.main(["metrics", "--db", str(db), "--format", "json"]) == 0
    with Store(db, read_only=True) as store:
        assert not rollups.ready(store), "still behind: the reader did not refresh it"
    assert digest(db) == before


def test_a_lockout_on_a_store_it_may_not_write_outlives_a_cleared_cache(locked_store,
                                                                        monkeypatch):
    """Anyone may send Streamlit's clear_cache message; the sign-in ledger kept in memory for
    a read-only store is out of its reach."""
    from streamlit.runtime import caching

    from scorecard import sessions

    db, cfg = locked_store
    (cfg / "security.yaml").write_text("lock_after: 2\nlock_minutes: 15\n")
    monkeypatch.setenv("SCORECARD_DB", str(db))
    monkeypatch.setenv("SCORECARD_CONFIG", str(cfg))
    monkeypatch.setenv("SCORECARD_READ_ONLY", "1")

    def sign_in(password: str) -> list[str]:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.text_input(key="signin_username").input("pm")
        at.text_input(key="signin_password").input(password)
        at.button[0].click().run()
        return [e.value for e in at.error]

    try:
        sign_in("a wrong guess")
        assert "paused for 15 minutes" in sign_in("another wrong guess")[0]
        caching.cache_data.clear()  # what the clear_cache message does
        caching.cache_resource.clear()
        assert sign_in(DEMO_PASSWORD)[0].startswith("Too many failed sign-ins")
    finally:
        sessions.unlock(sessions.memory_ledger(), "pm", by="the test")
