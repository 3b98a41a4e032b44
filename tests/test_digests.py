"""Scheduled digests against real servers started here on loopback: an SMTP server (aiosmtpd,
with STARTTLS and a password when asked) and a webhook receiver. What arrives, once per period
however many runners start together, and one sentence for every way it can go wrong."""

from __future__ import annotations

import email
import ipaddress
import json
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from datetime import datetime, timedelta, timezone
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import as_read
from scorecard.board.service import content
from scorecard.demo import ensure_demo_store
from scorecard.digests import ledger
from scorecard.digests.config import Schedule
from scorecard.digests.schedule import latest_slot, next_slot, period
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.formatting import format_value
from scorecard.metrics.registry import registry
from scorecard.metrics.thresholds import PACKAGED, thresholds_for
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.db import Store

NOW = "2026-11-23T09:30:00Z"  # a Monday, after 08:00 Berlin: the weekly digest is due
PASSWORD = "s3cret-smtp-passw0rd"


# -- servers on loopback -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, for the SMTP server's STARTTLS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class Mailbox:
    """An SMTP server on loopback keeping every message it accepts."""

    def __init__(self, folder: Path, secure: bool = False) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.port = free_port()
        options = {}
        if secure:
            import ssl

            self.cert, key = self_signed(folder)
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.cert, key)
            options = {"tls_context": tls, "require_starttls": True,
                       "authenticator": self._authenticate, "auth_require_tls": True,
                       "auth_required": True}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"digest"
                          and auth_data.password == PASSWORD.encode(), handled=False)

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def __enter__(self) -> "Mailbox":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class Receiver:
    """A webhook receiver on loopback keeping every POST (headers and JSON body)."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/T0/SECRET"

    def __enter__(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()


# -- the store and the configuration --------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return ensure_demo_store(tmp_path_factory.mktemp("digests") / "demo.duckdb")


@pytest.fixture
def place(demo_db, tmp_path):
    """A copy of the demo store and a config folder of its own."""
    db = tmp_path / "store.duckdb"
    shutil.copy(demo_db, db)
    cfg = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg, ignore=shutil.ignore_patterns("users.yaml"))
    return db, cfg


def weekly(**extra) -> dict:
    return {"name": "leaders", "role": "executive", "email": ["cto@example.com"],
            "schedule": {"every": "week", "day": "monday", "hour": 8,
                         "time_zone": "Europe/Berlin"}, **extra}


def configure(cfg: Path, subscriptions: list[dict], smtp_port: int | None = None,
              **smtp) -> None:
    data = {"app_url": "https://scorecard.example.com", "subscriptions": subscriptions}
    if smtp_port:
        data["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                        "sender": "scorecard@example.com", **smtp}
    (cfg / "digests.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def digest(db: Path, cfg: Path, *extra: str, env: dict | None = None
           ) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "scorecard.cli", "digest", "--db", str(db),
                           "--config", str(cfg), *extra], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def results(done: subprocess.CompletedProcess) -> dict[str, dict]:
    return {d["subscription"]: d for d in json.loads(done.stdout)["digests"]}


def pdf_pages(data: bytes, folder: Path) -> int:
    path = folder / "attached.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


# -- when a digest is due ---------------------------------------------------------------------------

def test_a_weekly_digest_is_due_from_its_hour_in_its_time_zone():
    berlin = Schedule(every="week", day="monday", hour=8, time_zone="Europe/Berlin")
    monday_0659_utc = datetime(2026, 11, 23, 6, 59, tzinfo=timezone.utc)  # 07:59 in Berlin
    assert period(berlin, monday_0659_utc) == "2026-11-16", "before the hour: last week's"
    assert period(berlin, monday_0659_utc + timedelta(minutes=1)) == "2026-11-23"
    assert period(berlin, datetime(2026, 11, 29, 22, tzinfo=timezone.utc)) == "2026-11-23"
    assert next_slot(berlin, monday_0659_utc + timedelta(minutes=1)).isoformat() == \
        "2026-11-30T08:00:00+01:00"
    # the clocks change on 29 March 2026 in Berlin: still 08:00 local on the Monday after
    assert latest_slot(berlin, datetime(2026, 3, 30, 7, tzinfo=timezone.utc)).isoformat() == \
        "2026-03-30T08:00:00+02:00"
    daily = Schedule(every="day", hour=9)
    assert period(daily, datetime(2026, 12, 3, 8, 59, tzinfo=timezone.utc)) == "2026-12-02"
    assert period(daily, datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)) == "2026-12-03"


# -- what arrives ---------------------------------------------------------------------------------

def test_the_email_brings_the_sentences_the_numbers_a_link_and_a_one_page_pdf(place, tmp_path):
    db, cfg = place
    with Mailbox(tmp_path) as mailbox:
        configure(cfg, [weekly(email=["cto@example.com", "cfo@example.com"])], mailbox.port)
        done = digest(db, cfg, "--now", NOW)
        assert done.returncode == 0, done.stderr
        assert results(done)["leaders"]["result"] == "sent"
        again = digest(db, cfg, "--now", "2026-11-25T12:00:00Z")  # the same week
        assert results(again)["leaders"]["result"] == "sent already"
    assert len(mailbox.messages) == 1, "once per period"
    to, message = mailbox.messages[0]
    assert sorted(to) == ["cfo@example.com", "cto@example.com"]
    assert message["Message-ID"] == "<leaders-2026-11-23@scorecard.digest>"
    assert "systems to act on" in message["Subject"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    with Store(db, read_only=True) as store:
        thresholds = thresholds_for(store, PACKAGED)
        card = compute_scorecard(store, thresholds)
        report = content(store, thresholds)
    for system in card.systems:  # the headline numbers are the app's
        for metric_id in ("events", "cost_per_outcome_usd", "latency_p95_ms", "failure_rate"):
            shown = format_value(registry().get(metric_id), card.scope(system)[metric_id].value)
            assert shown in html and shown in text, (system, metric_id, shown)
    red = next(c for c in report.concerns if c.status == "red")
    assert red.sentence.split(".")[0].replace("'", "&#x27;") in html
    assert 'href="https://scorecard.example.com/"' in html
    assert "▲" in html or "▼" in html, "changes against the week before, with arrows"
    attached = [p for p in message.iter_attachments()]
    assert [p.get_filename() for p in attached] == ["board-report-2026-11-22.pdf"]
    assert pdf_pages(attached[0].get_content(), tmp_path) == 1


def test_slack_and_plain_webhooks_get_the_same_text(place):
    db, cfg = place
    with Receiver() as receiver:
        hook = {"every": "day", "hour": 6, "time_zone": "UTC"}
        configure(cfg, [
            {"name": "ops-slack", "role": "product_manager", "systems": ["credit-precheck"],
             "webhook": {"name": "ops", "url": receiver.url, "format": "slack"},
             "schedule": dict(hook)},
            {"name": "bridge", "role": "analyst",
             "webhook": {"name": "bridge", "url": receiver.url, "format": "json"},
             "schedule": dict(hook)}])
        done = digest(db, cfg, "--now", NOW)
        assert done.returncode == 0, done.stderr
        assert SECRET_NOT_IN(done.stdout + done.stderr)
    (slack_headers, slack), (plain_headers, plain) = sorted(
        receiver.received, key=lambda r: "text" not in r[1] or "subscription" in r[1])
    assert set(slack) == {"text"}
    assert slack_headers["Idempotency-Key"] == "ops-slack-2026-11-23"
    assert "credit-precheck" in slack["text"] and "doc-summariser" not in slack["text"]
    assert "questions for leaders are not signed off" in slack["text"], "the PM's view"
    assert "https://scorecard.example.com/thresholds" in slack["text"]
    assert plain["subscription"] == "bridge" and plain["text"].startswith(plain["subject"])
    assert {row["system"] for row in plain["headline"]} == {
        "credit-precheck", "doc-summariser", "research-agent", "support-assistant"}
    assert "Data: " in plain["text"], "the analyst's view"


def SECRET_NOT_IN(output: str) -> bool:  # noqa: N802 - reads as a sentence
    """A webhook's path may hold its secret (Slack's does): messages name the host only."""
    return "SECRET" not in output


def test_twenty_runners_at_once_send_once(place, tmp_path):
    import os

    db, cfg = place
    with Mailbox(tmp_path) as mailbox:
        configure(cfg, [weekly()], mailbox.port)
        command = [sys.executable, "-m", "scorecard.cli", "digest", "--db", str(db),
                   "--config", str(cfg), "--now", NOW]
        runners = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=dict(os.environ)) for _ in range(20)]
        outcomes = [(r.wait(timeout=600), *r.communicate()) for r in runners]
    assert [code for code, _, _ in outcomes] == [0] * 20, [err for _, _, err in outcomes]
    said = sorted(json.loads(out)["digests"][0]["result"] for _, out, _ in outcomes)
    assert said.count("sent") == 1, said
    assert set(said) <= {"sent", "sent already", "being sent by another run"}
    assert len(mailbox.messages) == 1


def test_a_refused_connection_is_one_sentence_and_tried_again(place, tmp_path):
    db, cfg = place
    port = free_port()  # nothing listens there yet
    configure(cfg, [weekly()], port)
    refused = digest(db, cfg, "--now", NOW)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"Could not send the digest 'leaders' for 2026-11-23: the mail server 127.0.0.1:{port} "
        "refused the connection; it will be tried again at the next run.")
    with Store(db, read_only=True) as store:
        status = ledger.statuses(store)["leaders"]
    assert (status.failures, status.last_sent) == (1, None)
    assert "refused the connection" in status.last_problem
    with Mailbox(tmp_path) as mailbox:
        configure(cfg, [weekly()], mailbox.port)
        retried = digest(db, cfg, "--now", NOW)
    assert retried.returncode == 0 and results(retried)["leaders"]["result"] == "sent"
    assert len(mailbox.messages) == 1
    with Store(db, read_only=True) as store:
        assert ledger.statuses(store)["leaders"].failures == 0


def test_a_runner_that_stopped_mid_send_is_taken_over_after_its_lease(place):
    db, cfg = place
    with Store(db) as store:
        token, _ = ledger.claim(store, "leaders", "2026-11-23")
        assert token
        assert ledger.claim(store, "leaders", "2026-11-23") == (None,
                                                              "being sent by another run")
        store.query("UPDATE digest_sends SET recorded_at = recorded_at - INTERVAL 16 MINUTE")
        taken, _ = ledger.claim(store, "leaders", "2026-11-23")
        assert taken and taken != token
        ledger.finish(store, "leaders", "2026-11-23", taken, None)
        assert ledger.claim(store, "leaders", "2026-11-23") == (None, "sent already")
        steps = [r["detail"] for r in ledger.history(store) if r["step"] == ledger.FAILED]
    assert steps == [ledger.STOPPED]


def test_starttls_and_a_password_from_the_environment_never_kept(place, tmp_path):
    db, cfg = place
    with Mailbox(tmp_path, secure=True) as mailbox:
        configure(cfg, [weekly()], mailbox.port, security="starttls", user="digest",
                  password_env="DIGEST_SMTP_PASSWORD", ca_file=str(mailbox.cert))
        missing = digest(db, cfg, "--now", NOW)
        assert missing.returncode == 1
        assert "put it in the environment variable DIGEST_SMTP_PASSWORD" in missing.stderr
        wrong = digest(db, cfg, "--now", NOW, env={"DIGEST_SMTP_PASSWORD": "nope"})
        assert "did not accept the user name and password" in wrong.stderr
        done = digest(db, cfg, "--now", NOW, env={"DIGEST_SMTP_PASSWORD": PASSWORD})
        assert done.returncode == 0, done.stderr
    assert len(mailbox.messages) == 1
    assert mailbox.logins[-1] == (b"digest", PASSWORD.encode())
    for output in (missing, wrong, done):
        assert PASSWORD not in output.stdout + output.stderr
    for path in [db, *cfg.iterdir()]:
        assert PASSWORD.encode() not in path.read_bytes(), path


def test_a_dry_run_says_what_it_would_send_and_sends_nothing(place, tmp_path):
    db, cfg = place
    with Store(db):
        pass  # brought to this version, as any write would
    with Mailbox(tmp_path) as mailbox:
        configure(cfg, [weekly()], mailbox.port)
        before = db.read_bytes()
        done = digest(db, cfg, "--now", NOW, "--dry-run")
    assert done.returncode == 0, done.stderr
    entry = results(done)["leaders"]
    assert entry["result"] == "would send" and "act on" in entry["subject"]
    assert mailbox.messages == [] and db.read_bytes() == before


# -- bad input: one sentence, nothing sent, nothing else broken -------------------------------------

BAD = [
    ("subscriptions: [name: x", "is not valid YAML"),
    ({"subscriptions": [weekly(role="ceo")]},
     "invalid at subscriptions.0.role: the role must be one of executive, product_manager"),
    ({"subscriptions": [weekly(email=["cto@example.com\r\nBcc: all@example.com"])]},
     "invalid at subscriptions.0.email: 'cto@example.com\\r\\nBcc: all@example.com' is not "
     "one e-mail address"),
    ({"subscriptions": [weekly(email=None, webhook={"name": "x", "url": "file:///etc/passwd"})]},
     "a webhook url starts with http:// or https://"),
    ({"subscriptions": [weekly(email=[])]}, "a subscription has e-mail recipients or a webhook"),
    ({"subscriptions": [weekly(schedule={"every": "week", "time_zone": "Mars/Olympus"})]},
     "'Mars/Olympus' is not a time zone"),
    ({"subscriptions": [weekly(), weekly()]}, "the subscription name 'leaders' is used twice"),
]


@pytest.mark.parametrize("written,sentence", BAD, ids=[s[:30] for _, s in BAD])
def test_a_bad_configuration_is_one_sentence_and_sends_nothing(place, tmp_path, written,
                                                               sentence):
    db, cfg = place
    with Mailbox(tmp_path) as mailbox:
        if isinstance(written, dict):
            written = {"smtp": {"host": "127.0.0.1", "port": mailbox.port, "security": "none"},
                       **written}
            written = yaml.safe_dump(written)
        (cfg / "digests.yaml").write_text(written, encoding="utf-8")
        done = digest(db, cfg, "--now", NOW)
    assert done.returncode == 2, done.stdout
    assert sentence in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and mailbox.messages == []


def test_an_unknown_system_fails_its_subscription_only(place, tmp_path):
    db, cfg = place
    with Mailbox(tmp_path) as mailbox:
        configure(cfg, [weekly(name="typo", systems=["credit-precheque"]), weekly()],
                  mailbox.port)
        done = digest(db, cfg, "--now", NOW)
    assert done.returncode == 1
    assert done.stderr.strip() == ("Could not send the digest 'typo' for 2026-11-23: the store "
                                   "has no system named 'credit-precheque'; it will be tried "
                                   "again at the next run.")
    assert results(done)["leaders"]["result"] == "sent"
    assert len(mailbox.messages) == 1


# -- the Digests page -------------------------------------------------------------------------------

def test_an_admin_sets_up_a_digest_on_the_page_and_sends_a_test(place, tmp_path, monkeypatch):
    from test_app import run

    db, cfg = place
    monkeypatch.setenv("SCORECARD_DB", str(db))
    monkeypatch.setenv("SCORECARD_CONFIG", str(cfg))
    shipped = (cfg / "digests.yaml").read_text()  # the commented example, no subscription
    at = run("views/digests.py", user="admin")
    assert any("No digest is set up yet" in i.value for i in at.info)
    with Mailbox(tmp_path) as mailbox:
        at.text_input[0].set_value("leaders")
        at.text_input[1].set_value("cto@example.com")
        at.button[0].click().run()  # "Save subscription": no mail server yet
        assert [as_read(e.value) for e in at.error] == [
            "The digests configuration is invalid: e-mail subscriptions need the smtp section "
            "(host, port, ...)."]
        assert (cfg / "digests.yaml").read_text() == shipped, "a refused save writes nothing"
        smtp = {w.label: w for w in at.text_input}
        smtp["SMTP host"].set_value("127.0.0.1")
        next(n for n in at.number_input if n.label == "Port").set_value(mailbox.port)
        next(s for s in at.selectbox if s.label == "Security").set_value("none")
        smtp["Sender address"].set_value("scorecard@example.com")
        next(b for b in at.button if b.label == "Save mail server").click().run()
        assert any("Saved" in s.value for s in at.success), [e.value for e in at.error]
        inputs = {w.label: w for w in at.text_input}
        inputs["Name (letters, digits, - and _)"].set_value("leaders")
        inputs["E-mail recipients (comma-separated)"].set_value(
            "cto@example.com\r\nBcc: all@example.com")
        next(b for b in at.button if b.label == "Save subscription").click().run()
        assert "is not one e-mail address" in at.error[0].value
        inputs = {w.label: w for w in at.text_input}
        inputs["Name (letters, digits, - and _)"].set_value("leaders")
        inputs["E-mail recipients (comma-separated)"].set_value("cto@example.com, cfo@example.com")
        next(b for b in at.button if b.label == "Save subscription").click().run()
        assert any("Saved" in s.value for s in at.success), [e.value for e in at.error]
        table = at.dataframe[0].value
        assert table.loc[0, "Sent to"] == "cto@example.com, cfo@example.com"
        assert table.loc[0, "Last sent (UTC)"] == "not yet"
        at.button(key="digest_test").click().run()
        assert [as_read(s.value) for s in at.success] == [
            "Sent a test of 'leaders' to cto@example.com, cfo@example.com."]
    assert len(mailbox.messages) == 1
    saved = yaml.safe_load((cfg / "digests.yaml").read_text())
    assert saved["subscriptions"][0]["email"] == ["cto@example.com", "cfo@example.com"]
    history = at.dataframe[-1].value
    assert list(history["Period"]) == ["test"] and list(history["Result"]) == ["✓ sent"]


def test_serve_sends_due_digests_in_the_background_when_asked(place):
    import time

    from served_app import served

    db, cfg = place
    with Receiver() as receiver:
        configure(cfg, [{"name": "ops", "role": "executive",
                         "webhook": {"name": "ops", "url": receiver.url, "format": "slack"},
                         "schedule": {"every": "day", "hour": 0}}])
        with served(db, cfg, extra=("--digests", "--digests-every", "1")) as app:
            deadline = time.monotonic() + 120
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # a few more rounds: nothing is sent twice
            with urllib.request.urlopen(f"{app.url}/_stcore/health", timeout=5) as answer:
                assert answer.status == 200
    assert len(receiver.received) == 1
    log = (cfg / "serve.log").read_text()
    assert "Sending due digests every 1 seconds" in log
    assert "Sent the digest 'ops' for" in log and "SECRET" not in log


# -- on each engine -------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_the_ledger_grants_a_period_once_on_each_engine(tmp_path, engine):
    from conftest import address_for
    from scorecard.store.engines import open_store

    with open_store(address_for(engine, tmp_path)) as store:
        first, _ = ledger.claim(store, "leaders", "2026-11-23")
        assert first
        assert ledger.claim(store, "leaders", "2026-11-23") == (None,
                                                              "being sent by another run")
        ledger.finish(store, "leaders", "2026-11-23", first, "the mail server refused")
        second, _ = ledger.claim(store, "leaders", "2026-11-23")
        assert second and second != first, "a failure is tried again"
        ledger.finish(store, "leaders", "2026-11-23", second, None)
        assert ledger.claim(store, "leaders", "2026-11-23") == (None, "sent already")
        assert ledger.was_sent(store, "leaders", "2026-11-23")
        status = ledger.statuses(store)["leaders"]
        assert (status.last_period, status.failures) == ("2026-11-23", 0)
        assert [r["step"] for r in ledger.history(store)] == ["sent", "failed"]


def test_a_digest_carries_the_scorecards_numbers_on_each_engine(demo):
    with Receiver() as receiver:
        cfg = Path(str(demo["db"]).removeprefix("chdb://")).parent / "digest-config"
        cfg.mkdir(exist_ok=True)
        configure(cfg, [{"name": "bridge", "role": "executive",
                         "webhook": {"name": "b", "url": receiver.url, "format": "json"},
                         "schedule": {"every": "day", "hour": 0}}])
        done = digest(demo["db"], cfg, "--now", "2026-11-23T09:30:00Z")
        assert done.returncode == 0, done.stderr
    [(_, body)] = receiver.received
    card = demo["card"]
    for row in body["headline"]:
        for metric_id in ("events", "cost_per_outcome_usd", "latency_p95_ms", "failure_rate"):
            expected = format_value(registry().get(metric_id),
                                    card.scope(row["system"])[metric_id].value)
            assert row[metric_id]["value"] == expected, (row["system"], metric_id)
