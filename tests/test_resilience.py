"""Resilience: config files that are missing or wrong, errors nobody planned for, hostile
YAML. Each gives one plain sentence (file and line, or an error id), never a traceback."""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import sys

import pytest

from conftest import as_read, event_row, write_csv
from scorecard.errors import BadInput, ScorecardError
from scorecard.metrics.thresholds import load_thresholds
from scorecard.settings import parse_yaml, read_yaml
from scorecard.store.mapping import load_map
from scorecard.upload_worker import UploadJob, run_upload
from scorecard.users import Directory, add_user
from served_app import own_signins
from test_app import app_env, demo_db, open_store, run  # noqa: F401 - shared fixtures

ALIASES = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"


def _errors(at) -> list[str]:
    return [as_read(e.value) for e in at.error]


# -- config files ------------------------------------------------------------------------------

def test_without_a_thresholds_file_the_packaged_defaults_apply(app_env):
    _, cfg = app_env
    assert not (cfg / "thresholds.yaml").exists()
    at = run(user="exec")
    assert at.dataframe and not at.error


@pytest.mark.parametrize("content, says", [
    ("defaults: [unclosed\n", "is not valid YAML at line 2"),
    ("", "are invalid: defaults lack a threshold for events"),
    ("settings:\n  latency_slo_ms: 2000\ndefaults:\n  events: {direction: higher_is_better, "
     "target: 10, limit: 100}\n", "(line 4): target 10 is below limit 100"),
    (ALIASES, "uses a YAML alias (*a) at line 2"),
    ("defaults:\n  events: {direction: higher_is_better, target: .nan, limit: 100}\n",
     "(line 2): Input should be a finite number"),
    ("defaults:\n  events: {direction: higher_is_better, target: 1e306, limit: 100}\n",
     "(line 2): Input should be less than or equal to 1000000000000"),
])
def test_a_broken_thresholds_file_is_one_sentence(app_env, content, says):
    """Through the app's entry script, as the server runs every page (the browser test visits
    each page by its link)."""
    _, cfg = app_env
    (cfg / "thresholds.yaml").write_text(content)
    sign_in_page = run()
    assert sign_in_page.text_input and not sign_in_page.error, "the sign-in form still works"
    errors = _errors(run(user="admin"))
    assert len(errors) == 1 and says in errors[0], errors
    assert "thresholds.yaml" in errors[0] and str(cfg) not in errors[0], "no server path"


def test_a_malformed_users_file_is_one_sentence_naming_its_line(app_env):
    _, cfg = app_env
    (cfg / "users.yaml").write_text("credentials:\n  usernames:\n    - alice\n")
    at = run()
    assert _errors(at) == ["The users file users.yaml is malformed at credentials.usernames "
                           "(line 2): each sign-in is a username with name, password and a list "
                           "of roles; fix it or add sign-ins again with `scorecard users add`."]
    with pytest.raises(BadInput, match="malformed"):
        add_user(cfg, "bob", "executive", "long enough password")
    assert "alice" in (cfg / "users.yaml").read_text(), "a malformed file is not rewritten"


@pytest.mark.parametrize("content, says", [
    ("lock_minutes: 1e308\n", "invalid at lock_minutes: Input should be less than or equal to "
                              "43200"),
    ("lifetime_days: .inf\n", "invalid at lifetime_days: Input should be a finite number"),
    ("idle_hours: .nan\n", "invalid at idle_hours: Input should be a finite number"),
    ("lock_after: 10\nlockout: 5\n", "invalid at lockout: Extra inputs are not permitted"),
])
def test_security_settings_that_would_break_sign_in_are_one_sentence(tmp_path, content, says):
    from scorecard.sessions import load_policy

    (tmp_path / "security.yaml").write_text(content)
    with pytest.raises(BadInput) as refused:
        load_policy(tmp_path)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_a_password_that_is_not_a_hash_is_a_malformed_users_file(app_env):
    _, cfg = app_env
    (cfg / "users.yaml").write_text("credentials:\n  usernames:\n    alice:\n      name: A\n"
                                    "      password: 12345678\n      roles: [admin]\n")
    assert _errors(run()) == [
        "The users file users.yaml is malformed at credentials.usernames.alice (line 3): each "
        "sign-in is a username with name, password and a list of roles; fix it or add sign-ins "
        "again with `scorecard users add`."]


def test_a_map_file_is_checked_with_its_line(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("columns:\n  event_id: id\nconstants: [system]\n")
    with pytest.raises(BadInput, match=r"malformed at 'constants' \(line 3\)"):
        load_map(bad)
    bad.write_text(ALIASES)
    with pytest.raises(BadInput, match="alias"):
        load_map(bad)


def test_yaml_aliases_are_refused_before_they_expand(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
        for i in range(8))
    with pytest.raises(BadInput, match="alias"):
        parse_yaml(bomb, "The file")
    path = tmp_path / "thresholds.yaml"
    path.write_text(bomb)
    with pytest.raises(BadInput, match="alias"):
        load_thresholds(path)
    (tmp_path / "store.yaml").write_text("- just\n- a list\n")
    with pytest.raises(BadInput, match="must hold named sections"):
        read_yaml(tmp_path / "store.yaml")


def test_cli_with_a_broken_config_says_one_line(tmp_path):
    (tmp_path / "thresholds.yaml").write_text("defaults: {events: [1, 2}\n")
    db = tmp_path / "s.duckdb"
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "ingest",
                           str(write_csv(tmp_path / "a.csv", [event_row("a")])), "--db", str(db),
                           "--config", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not valid YAML at line 1" in done.stderr


# -- errors nobody planned for -----------------------------------------------------------------

@pytest.mark.unexpected_error_expected
def test_an_unexpected_error_shows_an_id_and_is_logged(app_env, caplog):
    db, _ = app_env
    with open_store(db) as store, store.transaction() as cur:
        cur.execute("DROP TABLE incidents")  # a store damaged by hand
    with caplog.at_level(logging.ERROR, logger="scorecard.app"):
        at = run(user="exec")
    errors = _errors(at)
    assert len(errors) == 1 and errors[0].startswith("Something went wrong on our side (error ")
    error_id = errors[0].split("(error ")[1][:8]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records), \
        "the traceback is in the server log, under the id the person sees"
    assert "Traceback" not in errors[0] and "incidents" not in errors[0]


def test_the_directory_reads_a_users_file_written_by_the_cli(tmp_path):
    add_user(tmp_path, "carol", "analyst", "long enough password")
    assert Directory.load(tmp_path).role("carol") == "analyst"


# -- hostile uploads ---------------------------------------------------------------------------

def _upload(at, name: str, content: bytes):
    at.file_uploader[0].set_value((name, content, "application/octet-stream")).run()
    at.button(key="up_load").click().run()
    return at


def _rows(n: int) -> bytes:
    header = "event_id,timestamp,system,model,status,latency_ms\n"
    return (header + "".join(f"x{i},2026-11-20T10:00:00Z,bulk,m,ok,{i % 900}\n"
                             for i in range(n))).encode()


def test_a_gzip_that_expands_too_far_is_refused_with_the_limit_named(app_env):
    db, cfg = app_env
    own_signins(cfg)
    (cfg / "store.yaml").write_text("max_decompressed_gb: 0.001\n")  # 1 MB
    at = _upload(run("views/upload.py", user="analyst"), "bomb.csv.gz",
                 gzip.compress(_rows(40_000)))  # 1.9 MB of rows in about 200 KB
    assert not at.exception
    assert _errors(at) == ["bomb.csv.gz expands to more than 0.001 GB when unzipped; raise "
                           "max_decompressed_gb in store.yaml to load it. Nothing from this "
                           "file was stored."]
    with open_store(db) as store:
        assert store.scalar("SELECT count(*) FROM inference_events WHERE system = 'bulk'") == 0


def test_an_upload_is_read_and_loaded_in_its_own_process_under_its_own_memory_limit(
        app_env, tmp_path):
    """Reading for the preview and the mapper, and the load, each run in a child process with
    the upload memory limit: too little stops them with one sentence and stores nothing."""
    db, cfg = app_env
    own_signins(cfg)
    (cfg / "store.yaml").write_text("upload_memory_limit: 2MB\n")  # far too little
    at = run("views/upload.py", user="analyst")
    at.file_uploader[0].set_value(("big.csv", _rows(20_000), "text/csv")).run()
    assert not at.exception
    assert _errors(at) == ["Reading big.csv needed more memory than an upload from the web may "
                           "use (2 MiB) and was stopped; nothing was stored. Load it with "
                           "`scorecard ingest`, or raise upload_memory_limit in store.yaml."]
    assert not [b for b in at.button if b.key == "up_load"]
    job = UploadJob(db=str(db), config=str(cfg), path=str(write_csv(
        tmp_path / "big.csv", [event_row(f"x{i}", system="bulk") for i in range(20_000)])),
        display_name="big.csv", kind="events", cmap={}, actor="analyst")
    with pytest.raises(ScorecardError, match=r"^big\.csv needed more memory than this process "
                                             r"may use"):
        run_upload(job, lambda *_: None)
    with open_store(db) as store:  # the server's own store, with its own limit, is fine
        assert store.scalar("SELECT count(*) FROM inference_events WHERE system = 'bulk'") == 0
    (cfg / "store.yaml").write_text("upload_memory_limit: 512MB\n")
    at = _upload(run("views/upload.py", user="analyst"), "big.csv", _rows(20_000))
    assert {m.label: m.value for m in at.metric}["Inserted"] == "20,000"


# -- files the app and the command line write are the owner's alone ----------------------------

def test_written_files_are_readable_by_their_owner_only(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    db = tmp_path / "s.duckdb"
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "ingest",
                           str(write_csv(tmp_path / "a.csv", [event_row("a")])), "--db", str(db),
                           "--config", str(cfg)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    add_user(cfg, "dana", "admin", "long enough password")
    from scorecard.store.preview import save_map
    from scorecard.store.mapping import ColumnMap
    written = [db, cfg / "users.yaml", save_map(cfg, "tool", ColumnMap())]
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {
        p.name: "0o600" for p in written}


def test_serve_says_where_it_listens_and_binds_to_this_machine_by_default(tmp_path):
    from served_app import free_port

    port = free_port()
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "scorecard.cli", "serve", "--db",
                             str(tmp_path / "s.duckdb"), "--config", str(cfg), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        first = proc.stdout.readline().strip()
        assert first == (f"Serving the scorecard at http://127.0.0.1:{port} (this machine only; "
                         "--address 0.0.0.0 serves every interface).")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    assert oct((tmp_path / "s.duckdb").stat().st_mode & 0o777) == "0o600"
