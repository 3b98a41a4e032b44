"""Sign-in sessions, throttling, account commands and safe exports, on a real store file.

Times are passed in, so nothing here waits or depends on how fast the machine is."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pandas as pd
import pytest

from scorecard import sessions
from scorecard.exports import safe_csv
from scorecard.sessions import Ended, SecurityPolicy, Session
from scorecard.users import Directory, add_user, remove_user, set_password

T0 = datetime(2026, 11, 26, 9, 0)
POLICY = SecurityPolicy()
PASSWORD = "correct horse battery"


@pytest.fixture
def cfg(tmp_path):
    cfg = tmp_path / "config"
    cfg.mkdir()
    add_user(cfg, "dana", "product_manager", PASSWORD)
    add_user(cfg, "lee", "analyst", PASSWORD)
    return cfg


def begin(store, cfg, user="dana", at=T0) -> str:
    directory = Directory.load(cfg)
    return sessions.start_session(store, user, directory.role(user),
                                  directory.usernames[user]["password"], "10.0.0.7", POLICY, at)


def check(store, cfg, token, at=T0 + timedelta(minutes=5)):
    return sessions.check_session(store, token, Directory.load(cfg), POLICY, at)


# -- sessions ----------------------------------------------------------------------------------

def test_a_session_holds_only_a_hash_of_its_token_and_opens_for_its_user(store, cfg):
    token = begin(store, cfg)
    assert check(store, cfg, token) == Session(
        store.scalar("SELECT session_id FROM sessions"), "dana", "product_manager")
    assert store.scalar("SELECT count(*) FROM sessions WHERE token_hash = ?", [token]) == 0
    assert isinstance(check(store, cfg, token + "x"), Ended)
    assert check(store, cfg, "").reason == "that sign-in is not known here"


@pytest.mark.parametrize("change, reason", [
    (lambda store, cfg, token: sessions.end_sessions(store, by="dana", reason="signed out",
                                                     token=token), "signed out"),
    (lambda store, cfg, token: set_password(cfg, "dana", "a brand new password"),
     "the password was changed"),
    (lambda store, cfg, token: add_user(cfg, "dana", "executive", PASSWORD),
     "the password was changed"),  # a re-added user has a new hash as well as a new role
    (lambda store, cfg, token: remove_user(cfg, "dana"), "the user was removed"),
    (lambda store, cfg, token: sessions.end_sessions(store, by="admin", username="dana",
                                                     reason="signed out everywhere"),
     "signed out everywhere"),
])
def test_a_copied_token_is_useless_once_its_session_ends(store, cfg, change, reason):
    token = begin(store, cfg)
    other = begin(store, cfg, "lee")
    change(store, cfg, token)
    assert check(store, cfg, token) == Ended(reason)
    assert check(store, cfg, token) == Ended(reason), "and stays ended, with its reason"
    assert isinstance(check(store, cfg, other), Session), "other users keep their sessions"


def test_a_role_change_alone_ends_the_session(store, cfg):
    token = begin(store, cfg)
    path = cfg / "users.yaml"
    path.write_text(path.read_text().replace("- product_manager", "- admin"))
    assert check(store, cfg, token) == Ended("the role was changed")


def test_sessions_end_when_idle_or_at_their_lifetime(store, cfg):
    token = begin(store, cfg)
    assert isinstance(check(store, cfg, token, T0 + timedelta(hours=7)), Session)
    assert check(store, cfg, token, T0 + timedelta(hours=7 + 8)) == Ended("it was idle too long")
    busy = begin(store, cfg)
    for hours in range(6, 7 * 24, 6):  # seen every six hours, yet it ends after 7 days
        assert isinstance(check(store, cfg, busy, T0 + timedelta(hours=hours)), Session)
    assert check(store, cfg, busy, T0 + timedelta(days=7)) == Ended("it reached its time limit")
    ended = store.query("SELECT end_reason, ended_by FROM sessions ORDER BY started_at")
    assert ended == [("it was idle too long", "scorecard"),
                     ("it reached its time limit", "scorecard")]


# -- throttling --------------------------------------------------------------------------------

def fail(store, name, n, client="10.0.0.7", start=T0, policy=POLICY) -> list[bool]:
    return [sessions.record_failure(store, name, None, client, policy,
                                    start + timedelta(seconds=i)) for i in range(n)]


def wait(store, name, at, client="10.0.0.7", policy=POLICY) -> float:
    return sessions.wait_before_attempt(store, name, client, policy, at)


def test_waits_grow_after_five_failures_and_ten_lock_for_fifteen_minutes(store):
    fail(store, "dana", 4)
    assert wait(store, "dana", T0 + timedelta(seconds=3)) == 0
    fail(store, "dana", 1, start=T0 + timedelta(seconds=4))  # the fifth
    assert wait(store, "dana", T0 + timedelta(seconds=4)) == 1
    fail(store, "dana", 1, start=T0 + timedelta(seconds=5))  # the sixth
    assert wait(store, "dana", T0 + timedelta(seconds=5)) == 2
    locked = fail(store, "dana", 4, start=T0 + timedelta(seconds=6))
    assert locked == [False, False, False, True], "the tenth failure locks"
    assert wait(store, "dana", T0 + timedelta(seconds=9)) == 15 * 60
    assert wait(store, "dana", T0 + timedelta(seconds=9, minutes=15)) == 0
    assert store.query("SELECT count(*) FROM signins WHERE event = 'locked'") == [(1,)]


def test_attempts_sent_together_are_throttled_as_if_sent_in_turn(store):
    """25 attempts at once (as a script sends them over the websocket): each is counted before
    the next is checked, so only the five the throttle allows reach the password check."""
    import threading
    import time

    checked, lock = [], threading.Lock()

    def wrong_password() -> bool:
        with lock:
            checked.append(1)
        time.sleep(0.05)  # about what bcrypt takes
        return False

    results = []
    threads = [threading.Thread(target=lambda: results.append(sessions.attempt(
        store, "pm", "product_manager", "10.0.0.9", SecurityPolicy(), wrong_password)))
        for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == SecurityPolicy().delay_after == 5
    assert sum(r.wait > 0 for r in results) == 20 and not any(r.matched for r in results)
    assert sessions.sign_ins.failures(store, False, "pm", datetime(2000, 1, 1))[0] == 5


def test_unknown_usernames_are_throttled_alike_and_unlock_lifts_a_lock(store):
    fail(store, "nobody-here", 10)
    assert wait(store, "nobody-here", T0 + timedelta(seconds=10), client="10.0.0.8") == \
        pytest.approx(15 * 60 - 1)
    sessions.unlock(store, "nobody-here", by="admin")
    assert wait(store, "nobody-here", T0 + timedelta(seconds=11), client="10.0.0.8") == 0


def test_a_client_trying_many_names_waits_but_locks_nobody_out_and_a_sign_in_clears_its_own(
        store):
    """Made-up names from one address slow that address down (at most a minute between tries),
    but lock no one: everyone behind an office's address would be locked with it."""
    locked = [fail(store, f"guess{i}", 1, client="10.9.9.9", start=T0 + timedelta(seconds=i))[0]
              for i in range(40)]
    assert not any(locked)
    assert store.query("SELECT count(*) FROM signins WHERE event = 'locked'") == [(0,)]
    at = T0 + timedelta(seconds=40)
    assert 0 < wait(store, "dana", at, client="10.9.9.9") <= sessions.ADDRESS_WAIT_CAP
    assert wait(store, "dana", at + timedelta(minutes=1), client="10.9.9.9") == 0
    assert wait(store, "dana", at, client="10.0.0.7") == 0, "other addresses do not wait"
    sessions.unlock(store, "dana", by="admin")
    assert wait(store, "dana", at, client="10.9.9.9") > 0, "a name's unlock is not the address's"
    sessions.unlock_address(store, "10.9.9.9", by="admin")
    assert wait(store, "dana", at, client="10.9.9.9") == 0
    fail(store, "lee", 4, client="10.0.0.7")
    sessions.record_attempt(store, "lee", "analyst", "sign_in", "10.0.0.7", T0 + timedelta(5))
    fail(store, "lee", 4, client="10.0.0.7", start=T0 + timedelta(seconds=6))
    assert wait(store, "lee", T0 + timedelta(seconds=12), client="10.0.0.7") == 0, \
        "failures before a successful sign-in no longer count"


def test_the_policy_comes_from_security_yaml_with_a_plain_error(tmp_path):
    assert sessions.load_policy(tmp_path) == SecurityPolicy()
    (tmp_path / "security.yaml").write_text("lock_after: 3\nidle_hours: 1\n")
    assert sessions.load_policy(tmp_path).lock_after == 3
    (tmp_path / "security.yaml").write_text("lock_after: 0\n")
    with pytest.raises(Exception, match="security settings file .* invalid at lock_after"):
        sessions.load_policy(tmp_path)
    (tmp_path / "security.yaml").write_text("trusted_proxies: [10.0.0.5, 10.1.0.0/16]\n")
    assert sessions.forwarded_allow_ips(sessions.load_policy(tmp_path)) == "10.0.0.5,10.1.0.0/16"
    (tmp_path / "security.yaml").write_text("trusted_proxies: ['*']\n")
    with pytest.raises(Exception, match="invalid at trusted_proxies: .*'\\*' is not an address"):
        sessions.load_policy(tmp_path)
    assert sessions.forwarded_allow_ips(SecurityPolicy()) == "", "no proxy is trusted unasked"


# -- account commands --------------------------------------------------------------------------

def users(cfg, db, *args, password=None):
    return subprocess.run([sys.executable, "-m", "scorecard.cli", "users", *args, "--config",
                           str(cfg), *(["--db", str(db)] if db else [])],
                          input=(password or "") + "\n", capture_output=True, text=True)


def test_account_commands_list_change_remove_unlock_and_end_sessions(store, cfg, tmp_path):
    db = store.path
    dana, lee = begin(store, cfg), begin(store, cfg, "lee")
    fail(store, "dana", 10)
    store.close()
    listed = users(cfg, None, "list")
    assert listed.returncode == 0 and listed.stdout.split() == [
        "dana", "product_manager", "dana", "lee", "analyst", "lee"]
    shown = users(cfg, db, "sessions")
    assert shown.returncode == 0 and shown.stdout.count(" from 10.0.0.7 ") == 2
    changed = users(cfg, db, "passwd", "dana", password="another long password")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == "Password of dana changed. 1 open session ended.\n"
    unlocked = users(cfg, db, "unlock", "dana")
    assert unlocked.stdout == "Sign-ins for dana are open again.\n"
    assert users(cfg, db, "unlock", "10.0.0.7").stdout == "Sign-ins from 10.0.0.7 are open again.\n"
    lee_id = users(cfg, db, "sessions", "--user", "lee").stdout.split()[0]
    assert users(cfg, db, "sessions", "--end", lee_id).stdout == "1 session ended.\n"
    assert users(cfg, db, "sessions").stdout == "No open sessions.\n"
    refused = users(cfg, db, "sessions", "--end", "all")
    assert refused.returncode == 2 and "--end all --user NAME" in refused.stderr
    removed = users(cfg, db, "remove", "lee")
    assert removed.returncode == 0 and removed.stdout.startswith("User lee removed.")
    gone = users(cfg, db, "passwd", "lee", password="whatever long enough")
    assert gone.returncode == 2 and gone.stderr == "There is no sign-in named lee in the users " \
                                                   "file.\n"
    from scorecard.store.db import Store

    with Store(db) as again:
        assert wait(again, "dana", T0 + timedelta(seconds=11)) == 0
        assert {r[0]: r[1] for r in again.query(
            "SELECT username, end_reason FROM sessions")} == {
            "dana": "the password was changed", "lee": "ended by an administrator"}
        assert isinstance(check(again, cfg, dana), Ended) and isinstance(
            check(again, cfg, lee), Ended)


def test_admin_passwords_need_twelve_characters(tmp_path):
    short = users(tmp_path, None, "add", "root", "--role", "admin", password="eleven char")
    assert short.returncode == 2
    assert short.stderr == "An admin's password must be at least 12 characters long.\n"
    assert users(tmp_path, None, "add", "root", "--role", "admin",
                 password="twelve chars").returncode == 0


# -- files for people --------------------------------------------------------------------------

def test_csv_for_people_neutralises_formulas_without_touching_numbers():
    frame = pd.DataFrame({"note": ["=HYPERLINK(\"http://x\")", "+1", "-cmd", "@sum", "\tx",
                                   "plain"], "n": [-1, 2, 3, 4, 5, 6]})
    lines = safe_csv(frame).splitlines()
    assert lines[1:] == ['"\'=HYPERLINK(""http://x"")",-1', "'+1,2", "'-cmd,3", "'@sum,4",
                         "'\tx,5", "plain,6"]
    assert frame["note"][0].startswith("="), "the data itself is unchanged"


def test_csv_for_people_neutralises_a_formula_after_a_line_break():
    """A carriage return (or a line feed) before a formula: a spreadsheet that starts a row at
    it would run the rest, so each line is neutralised, not only the cell's start."""
    frame = pd.DataFrame({"user": ["\r=1+1", "ok\r=cmd|' /C calc'!A0", "a\r\n@SUM(A1)",
                                   "line\nplain"]})
    assert safe_csv(frame) == ('user\n"\n\'=1+1"\n"ok\n\'=cmd|\' /C calc\'!A0"\n'
                               '"a\n\'@SUM(A1)"\n"line\nplain"\n')
