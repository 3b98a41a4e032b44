"""Error budgets and burn-rate alerts, against an independent computation on seeded data with
planted fast and slow burns; notifications to a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest

from scorecard.metrics.budgets import RULES, WINDOWS, evaluate
from scorecard.metrics.thresholds import PACKAGED, load_thresholds, parse_thresholds
from scorecard.store.ingest import ingest_file

THRESHOLDS = load_thresholds(PACKAGED)
NOW = datetime(2026, 11, 20, 12, 0)
OBJECTIVES = {"failure": 0.98, "latency": 0.95, "success": 0.90}


def _system(name: str, *, fast_burn=False, slow_burn=False) -> list[dict]:
    """An event a minute for 31 days before NOW: 0.5% errors, 1% over the 2 s SLO, 2% of
    outcomes failures; a fast burn makes every other event of the last hour an error, a slow
    burn puts one in ten of the last three days over the SLO."""
    rows = []
    for i in range(31 * 24 * 60):
        when = NOW - timedelta(minutes=i)
        error = i % 200 == 7 or (fast_burn and i < 60 and i % 2 == 0)
        slow = i % 100 == 3 or (slow_burn and i < 3 * 24 * 60 and i % 10 == 5)
        rows.append({"event_id": f"{name}-{i}", "timestamp": when, "system": name, "model": "m",
                     "status": "error" if error else "ok",
                     "latency_ms": 3000.0 if slow else 500.0,
                     "outcome": None if i % 10 == 1 else ("failure" if i % 50 == 9
                                                          else "success")})
    return rows


def _quiet() -> list[dict]:
    """Three decisions in the last hour, two of them errors: a low-traffic system."""
    return [{"event_id": f"q{i}", "timestamp": NOW - timedelta(minutes=m), "system": "quiet",
             "model": "m", "status": status, "latency_ms": 400.0, "outcome": None}
            for i, (m, status) in enumerate([(50, "error"), (20, "ok"), (1, "error")])]


@pytest.fixture(scope="module")
def burning(tmp_path_factory):
    from scorecard.store.db import Store

    root = tmp_path_factory.mktemp("budgets")
    frame = pd.DataFrame(_system("steady") + _system("fast", fast_burn=True)
                         + _system("slow", slow_burn=True) + _quiet())
    frame = frame.sample(frac=1, random_state=3)  # unsorted, as extracts come
    frame.to_parquet(root / "events.parquet", index=False)
    with Store(root / "store.duckdb") as store:
        assert ingest_file(store, root / "events.parquet").inserted == len(frame)
    return root / "store.duckdb", frame


def independent(frame: pd.DataFrame, least: int) -> tuple[dict, set]:
    """Burn rates and firing rules with pandas, straight from SPEC section 3."""
    burns, firing = {}, set()
    for system, ev in frame.groupby("system"):
        for indicator, objective in OBJECTIVES.items():
            if indicator == "failure":
                eligible, bad = ev, ev.status != "ok"
            elif indicator == "latency":
                eligible = ev[ev.latency_ms.notna()]
                bad = eligible.latency_ms > 2000
            else:
                eligible = ev[ev.outcome.isin(["success", "failure"])]
                bad = eligible.outcome != "success"
            rate, count = {}, {}
            for window, span in {**WINDOWS, "30d": timedelta(days=30)}.items():
                inside = (eligible.timestamp > NOW - span) & (eligible.timestamp <= NOW)
                count[window] = int(inside.sum())
                rate[window] = (bad[inside].sum() / inside.sum()) / (1 - objective) \
                    if inside.sum() else None
            burns[(system, indicator)] = rate
            for rule in RULES:
                long, short = rate[rule.long], rate[rule.short]
                if (long is not None and short is not None and long >= rule.factor
                        and short >= rule.factor and count[rule.long] >= least
                        and count[rule.short] >= least):
                    firing.add((system, indicator, rule.severity, rule.long, rule.short))
    return burns, firing


PLANTED = {("fast", "failure", "page", "1h", "5m"), ("slow", "latency", "ticket", "3d", "6h")}


def _firing(report) -> set:
    return {(s, i, a.severity, a.long, a.short) for s, i, a in report.firing()}


def test_burn_rates_and_alerts_agree_with_an_independent_computation(burning):
    from scorecard.store.db import Store

    path, frame = burning
    with Store(path, read_only=True) as store:
        report = evaluate(store, THRESHOLDS)
    assert report.now == NOW
    burns, firing = independent(frame, least=1)
    for (system, indicator), rates in burns.items():
        got = report.systems[system][indicator]
        assert got.objective == pytest.approx(OBJECTIVES[indicator])
        for window in WINDOWS:
            if rates[window] is None:
                assert got.burn[window] is None
            else:
                assert got.burn[window] == pytest.approx(rates[window], abs=1e-12)
        month = rates["30d"]
        assert got.budget_remaining == (None if month is None else pytest.approx(1 - month))
    assert _firing(report) == firing
    # the planted burns fire with their severity; the low-traffic system burns wildly
    assert PLANTED <= firing
    assert firing - PLANTED == {("quiet", "failure", "page", "1h", "5m"),
                                ("quiet", "failure", "page", "6h", "30m"),
                                ("quiet", "failure", "ticket", "3d", "6h")}


def test_a_minimum_of_eligible_events_holds_back_low_traffic_rules(burning):
    from scorecard.store.db import Store

    path, frame = burning
    data = THRESHOLDS.model_dump(mode="json", exclude_defaults=True)
    data["settings"] = {"alerts_min_events": 4}  # the quiet system has 3 in its busiest window
    with Store(path, read_only=True) as store:
        report = evaluate(store, parse_thresholds(data))
    assert _firing(report) == PLANTED == independent(frame, least=4)[1]
    quiet = report.systems["quiet"]["failure"]
    assert quiet.burn["5m"] == pytest.approx(50.0), "burn rates are reported whatever the traffic"


def test_cli_alerts_prints_the_contract_json(burning):
    path, _ = burning
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "alerts", "--db", str(path),
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["now"] == NOW.isoformat()
    fast = report["systems"]["fast"]["failure"]
    assert {"objective", "budget_remaining", "burn", "alerts"} <= set(fast)
    assert list(fast["burn"]) == ["5m", "30m", "1h", "6h", "3d"]
    assert fast["alerts"][0] == {"severity": "page", "long": "1h", "short": "5m",
                                 "factor": 14.4, "long_burn": fast["burn"]["1h"],
                                 "short_burn": fast["burn"]["5m"]}
    table = subprocess.run([sys.executable, "-m", "scorecard.cli", "alerts", "--db", str(path),
                            "--now", "2026-11-20T13:00:00+01:00"],
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "PAGE 1h+5m" in table.stdout
    bad = subprocess.run([sys.executable, "-m", "scorecard.cli", "alerts", "--db", str(path),
                          "--now", "yesterday"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "'yesterday' is not a time; use ISO 8601, such as 2026-11-22T14:30:00Z.")


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    logins: list = []

    def do_POST(self):  # noqa: N802 (the standard library's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        type(self).logins.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received, _Receiver.logins = [], []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Receiver.received
    server.shutdown()


def _alerts(path, config, now=None):
    return subprocess.run([sys.executable, "-m", "scorecard.cli", "alerts", "--db", str(path),
                           "--notify", str(config), "--format", "json",
                           *(["--now", now] if now else [])],
                          capture_output=True, text=True, timeout=120)


def test_notify_sends_each_alert_once_and_then_its_resolution(burning, receiver, tmp_path):
    path, _ = burning
    url, received = receiver
    config = tmp_path / "alerts.yaml"
    config.write_text(f"state: state.json\nwebhooks:\n  - {{name: team, url: {url}/json}}\n"
                      f"  - {{name: chat, url: {url}/slack, format: slack}}\n")
    first = _alerts(path, config)
    assert first.returncode == 0 and first.stderr == ""
    sent = {(p, b.get("status")) for p, b in received}
    assert sent == {("/json", "firing"), ("/slack", None)} and len(received) == 10
    fast = [b for p, b in received if p == "/json" and b["system"] == "fast"][0]
    assert (fast["severity"], fast["indicator"], fast["long"]) == ("page", "failure", "1h")
    slack = [b["text"] for p, b in received if p == "/slack" and "slow" in b["text"]][0]
    assert slack.startswith("🟠 TICKET · slow · latency: the error budget burns 2.")

    received.clear()
    assert _alerts(path, config).returncode == 0 and received == [], "sent once"

    later = (NOW + timedelta(hours=2)).isoformat()  # the fast burn's hour is over
    assert _alerts(path, config, later).returncode == 0
    resolved = sorted((b["system"], b["long"]) for p, b in received if p == "/json")
    assert all(b["status"] == "resolved" for p, b in received if p == "/json")
    assert ("fast", "1h") in resolved and ("slow", "3d") not in resolved


def test_an_unreachable_webhook_is_told_again_next_time(burning, receiver, tmp_path):
    path, _ = burning
    url, received = receiver
    config = tmp_path / "alerts.yaml"
    config.write_text("webhooks:\n  - {name: down, url: 'http://127.0.0.1:9/hook'}\n")
    done = _alerts(path, config)
    assert done.returncode == 0
    assert done.stderr.startswith("Could not send an alert to the webhook down (127.0.0.1:9): ")
    assert done.stderr.strip().endswith("it will be sent again on the next run.")
    assert json.loads((tmp_path / "alerts-state.json").read_text()) == {"down": {}}
    config.write_text(f"webhooks:\n  - {{name: down, url: '{url}/hook'}}\n")
    assert _alerts(path, config).returncode == 0 and len(received) == 5


class _Redirecting(BaseHTTPRequestHandler):
    """A webhook that answers every message with a redirect to another address."""
    to = ""

    def do_POST(self):  # noqa: N802
        self.send_response(307)
        self.send_header("Location", type(self).to)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_webhook_is_never_led_elsewhere_nor_shows_its_password(burning, receiver, tmp_path):
    """A redirect (say, to an address inside the network) is reported, not followed; a
    password written in the webhook's address is sent as a login and printed nowhere."""
    path, _ = burning
    url, received = receiver
    _Redirecting.to = f"{url}/internal"
    server = HTTPServer(("127.0.0.1", 0), _Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "alerts.yaml"
    try:
        config.write_text(f"webhooks:\n  - {{name: moved, url: "
                          f"'http://ops:s3cr3t-pw@127.0.0.1:{server.server_port}/hook'}}\n")
        done = _alerts(path, config)
    finally:
        server.shutdown()
    assert received == [], "the redirect was not followed"
    assert done.returncode == 0
    assert done.stderr.startswith(
        f"Could not send an alert to the webhook moved (127.0.0.1:{server.server_port}): it "
        "answered 307 Temporary Redirect (redirects are not followed);")
    assert "s3cr3t" not in done.stdout + done.stderr
    config.write_text(f"webhooks:\n  - {{name: team, url: 'http://ops:s3cr3t-pw@"
                      f"{url.removeprefix('http://')}/hook'}}\n")
    assert _alerts(path, config).returncode == 0 and len(received) == 5
    assert set(_Receiver.logins) == {"Basic " + base64.b64encode(b"ops:s3cr3t-pw").decode()}


@pytest.mark.parametrize("bad", ["http://127.0.0.1:9/a hook", "http://127.0.0.1:9/a\\r\\nX: y",
                                 "http://127.0.0.1:port/hook"])
def test_a_webhook_address_that_cannot_be_sent_to_is_one_sentence(burning, tmp_path, bad):
    config = tmp_path / "alerts.yaml"
    config.write_text(f'webhooks:\n  - {{name: odd, url: "{bad}"}}\n')
    done = _alerts(burning[0], config)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "webhook url" in done.stderr, \
        done.stderr


def test_the_burn_down_is_the_budget_left_over_the_30_days_to_each_day(burning):
    from scorecard.metrics.budgets import burn_down
    from scorecard.metrics.registry import registry
    from scorecard.store.db import Store

    path, frame = burning
    latency = [b for b in registry().budgets if b.id == "latency"][0]
    with Store(path, read_only=True) as store:
        rows = [r for r in burn_down(store, THRESHOLDS, latency) if r["system"] == "slow"]
    day = pd.Timestamp(NOW.date())
    for row in (rows[-1], rows[-5]):
        start = pd.Timestamp(row["day"]) - pd.Timedelta(days=29)
        ev = frame[(frame.system == "slow") & (frame.timestamp >= start)
                   & (frame.timestamp < pd.Timestamp(row["day"]) + pd.Timedelta(days=1))]
        share = (ev.latency_ms > 2000).mean()
        assert row["eligible"] == len(ev)
        assert row["budget_remaining"] == pytest.approx(1 - share / 0.05, abs=1e-12)
    assert pd.Timestamp(rows[-1]["day"]) == day


def test_a_damaged_state_file_is_one_sentence(burning, tmp_path):
    path, _ = burning
    config = tmp_path / "alerts.yaml"
    config.write_text("webhooks: []\n")
    (tmp_path / "alerts-state.json").write_text("{not json")
    done = _alerts(path, config)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        "cannot be read; delete it to start afresh (alerts firing now will then be sent again).")


def test_a_budget_on_too_few_events_is_not_judged(burning):
    """Three decisions in 30 days spend no budget and overspend none: they are too few (the
    metric's minimum sample), in the strip and in the burn-down, while the others are judged."""
    from scorecard.metrics.budgets import burn_down
    from scorecard.metrics.formatting import budget_cell
    from scorecard.metrics.registry import registry
    from scorecard.store.db import Store

    with Store(burning[0], read_only=True) as store:
        report = evaluate(store, THRESHOLDS, NOW)
        failure = next(b for b in registry().budgets if b.id == "failure")
        days = burn_down(store, THRESHOLDS, failure)
    quiet = report.systems["quiet"]["failure"]
    assert quiet.too_few and quiet.budget_remaining < 0  # 2 errors in 3: overspent, if judged
    assert budget_cell(quiet) == "◌ too few events to judge (3 in 30 days)"
    assert not report.systems["steady"]["failure"].too_few
    assert budget_cell(report.systems["steady"]["failure"]).startswith("🟢 ")
    assert {d["budget_remaining"] for d in days if d["system"] == "quiet"} == {None}
    assert all(d["budget_remaining"] is not None for d in days if d["system"] == "steady")
