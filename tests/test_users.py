"""Sign-ins: `scorecard users add`, password hashes, roles, and the cookie signing key."""

from __future__ import annotations

import stat
import subprocess
import sys

import bcrypt
import pytest
import yaml

from scorecard.demo import add_demo_settings
from scorecard.users import Directory, NotAllowed, can


def users_add(cfg, *args, password="correct horse battery"):
    return subprocess.run([sys.executable, "-m", "scorecard.cli", "users", "add", *args,
                           "--config", str(cfg)], input=password + "\n", capture_output=True,
                          text=True)


def test_users_add_stores_only_a_bcrypt_hash_readable_by_the_owner(tmp_path):
    done = users_add(tmp_path, "Dana", "--role", "product_manager", "--name", "Dana Reyes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "User dana saved with role product_manager."
    path = tmp_path / "users.yaml"
    text = path.read_text()
    assert "correct horse battery" not in text
    entry = yaml.safe_load(text)["credentials"]["usernames"]["dana"]
    assert entry["name"] == "Dana Reyes" and entry["roles"] == ["product_manager"]
    assert bcrypt.checkpw(b"correct horse battery", entry["password"].encode())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_users_add_updates_a_role_and_keeps_other_users(tmp_path):
    assert users_add(tmp_path, "dana", "--role", "executive").returncode == 0
    assert users_add(tmp_path, "lee", "--role", "analyst").returncode == 0
    assert users_add(tmp_path, "dana", "--role", "admin", password="another password").returncode \
        == 0
    directory = Directory.load(tmp_path)
    assert directory.role("dana") == "admin" and directory.role("lee") == "analyst"


@pytest.mark.parametrize("args,password,message", [
    (["x", "--role", "admin"], "long enough pw", "A username is 2 to 64 characters"),
    (["dana", "--role", "executive"], "short", "at least 8 characters"),
    (["dana", "--role", "admin"], "eleven char", "An admin's password must be at least 12"),
])
def test_users_add_refuses_bad_input_in_one_sentence(tmp_path, args, password, message):
    done = users_add(tmp_path, *args, password=password)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "users.yaml").exists()


def test_an_unknown_role_is_refused(tmp_path):
    done = users_add(tmp_path, "dana", "--role", "ceo")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_demo_sign_ins_live_in_the_demo_store_only(tmp_path, store):
    assert Directory.load(tmp_path, store).usernames == {}
    add_demo_settings(store)
    directory = Directory.load(tmp_path, store)
    assert {u: directory.role(u) for u in directory.usernames} == {
        "exec": "executive", "pm": "product_manager", "analyst": "analyst", "admin": "admin"}


def test_capabilities_per_role(tmp_path, store):
    add_demo_settings(store)
    directory = Directory.load(tmp_path, store)
    assert directory.require("admin", "audit") == "admin"
    with pytest.raises(NotAllowed, match="analyst \\(Analyst\\) may not change thresholds"):
        directory.require("analyst", "edit_thresholds")
    with pytest.raises(NotAllowed, match="Sign in first to read the scorecard"):
        directory.require(None, "read")
    assert [r for r in ("executive", "product_manager", "analyst", "admin")
            if can(r, "upload")] == ["analyst", "admin"]


def test_sign_ins_and_sign_offs_keep_cached_results_valid(store):
    """Only a change to the data moves the data version that the app's caches key on."""
    from datetime import date

    from scorecard.metrics.signoff import record_signoff
    from scorecard.sessions import SecurityPolicy, record_attempt, start_session

    before = store.data_version()
    record_attempt(store, "pm", "product_manager", "sign_in", "local")
    start_session(store, "pm", "product_manager", "hash", "local", SecurityPolicy())
    record_signoff(store, actor="pm", question="costs_grow", system=None, status="amber",
                   note="watching", as_of=date(2026, 11, 22))
    assert store.data_version() == before
    with store.transaction() as cur:
        cur.execute("DELETE FROM incidents")
    assert store.data_version() == before + 1


def test_a_demo_store_built_before_sign_ins_existed_gets_them(tmp_path):
    from scorecard.demo import ensure_demo_store
    from scorecard.store.db import Store

    db = ensure_demo_store(tmp_path / "demo.duckdb")
    with Store(db) as store, store.transaction(changes_data=False) as cur:
        cur.execute("DELETE FROM store_meta WHERE key = 'demo_signins'")
    ensure_demo_store(db)
    with Store(db) as store:
        assert Directory.load(tmp_path, store).role("pm") == "product_manager"
        with store.transaction() as cur:  # a store that is not the demo's stays without them
            cur.execute("DELETE FROM store_meta WHERE key = 'demo_signins'")
            cur.execute("UPDATE ingest_log SET via = 'cli'")
    ensure_demo_store(db)
    with Store(db) as store:
        assert Directory.load(tmp_path, store).usernames == {}


def test_demo_sign_ins_end_when_data_of_ones_own_is_loaded(tmp_path, store):
    """Their password is in the README: it guards the demo's data, never a company's."""
    from conftest import event_row, write_jsonl
    from scorecard.actions import upload
    from scorecard.store.ingest import ingest_file
    from scorecard.store.mapping import ColumnMap

    ingest_file(store, write_jsonl(tmp_path / "demo.jsonl", [event_row("d")]), via="demo")
    add_demo_settings(store)
    cfg = tmp_path / "config"
    cfg.mkdir()
    directory = Directory.load(cfg, store)
    assert directory.is_demo("analyst") and directory.role("admin") == "admin"
    own = write_jsonl(tmp_path / "own.jsonl", [event_row("own")])
    with pytest.raises(NotAllowed, match="no other sign-in yet: add one first"):
        upload(store, directory, "analyst", own, display_name="own.jsonl", kind="events",
               cmap=ColumnMap(), cfg_dir=cfg)
    assert store.scalar("SELECT count(*) FROM inference_events") == 1
    assert users_add(cfg, "dana", "--role", "admin").returncode == 0
    directory = Directory.load(cfg, store)
    store.close()  # the upload runs in a child process, which opens the store itself
    result = upload(store, directory, "analyst", own, display_name="own.jsonl", kind="events",
                    cmap=ColumnMap(), cfg_dir=cfg)
    assert result.inserted == 1
    with type(store)(store.path) as reopened:
        assert list(Directory.load(cfg, reopened).usernames) == ["dana"]
