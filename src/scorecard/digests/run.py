"""`scorecard digest`: each subscription that is due is composed from the store, claimed in
the ledger, sent, and recorded; the store is not held while a message is printed or sent, so
other runners and the app carry on meanwhile."""

from __future__ import annotations

import tempfile
import threading
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..board.html import render
from ..board.service import content, print_pdf
from ..errors import ScorecardError
from ..metrics.report import thresholds_file
from ..metrics.thresholds import thresholds_for
from ..store.db import Store
from . import ledger, schedule
from .config import DigestsConfig, Subscription, load
from .deliver import email_message, send_email, send_webhook, webhook_body
from .message import Digest, compose

Opener = Callable[[bool], AbstractContextManager[Store]]  # read_only -> an open store


def digest_for(store: Store, cfg_dir: Path, config: DigestsConfig, sub: Subscription
               ) -> Digest:
    """The subscription's digest from the store as it is now (its role's view, its systems)."""
    thresholds = thresholds_for(store, thresholds_file(None, cfg_dir))
    one = sub.systems[0] if len(sub.systems) == 1 else None
    report = content(store, thresholds, system=one, among=None if one else sub.systems or None)
    return compose(report, sub.role, config.app_url)


def attachment(digest: Digest) -> tuple[bytes, str]:
    """The board report as one PDF page; as HTML when this machine cannot print PDF."""
    day = f"{digest.report.as_of:%Y-%m-%d}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "board-report.pdf"
        try:
            print_pdf(digest.report, out)
            return out.read_bytes(), f"board-report-{day}.pdf"
        except ScorecardError:
            return render(digest.report).encode(), f"board-report-{day}.html"


def deliver(config: DigestsConfig, sub: Subscription, digest: Digest, period: str) -> str | None:
    """Send one digest; None when it was taken, else why not."""
    key = f"{sub.name}-{period}"
    if sub.webhook:
        return send_webhook(sub, webhook_body(sub, digest, period), key)
    data, name = attachment(digest)
    message = email_message(config.smtp, sub.email, digest, key, data, name)
    return send_email(config.smtp, sub.email, message)


def failure_sentence(sub: Subscription, period: str, problem: str) -> str:
    """One sentence, whether the problem came as a clause or as a sentence of its own."""
    clause = problem.strip().rstrip(".")
    if clause[:4] in ("The ", "Ther"):
        clause = clause[0].lower() + clause[1:]
    return (f"Could not send the digest '{sub.name}' for {period}: {clause}; it will be tried "
            "again at the next run.")


def run_one(open_store: Opener, cfg_dir: Path, config: DigestsConfig, sub: Subscription,
            now: datetime, dry_run: bool) -> dict:
    period = schedule.period(sub.schedule, now)
    entry = {"subscription": sub.name, "period": period, "to": sub.where()}
    with open_store(dry_run) as store:
        if dry_run:
            if ledger.was_sent(store, sub.name, period):
                return {**entry, "result": "sent already"}
            try:
                digest = digest_for(store, cfg_dir, config, sub)
            except ScorecardError as exc:
                return {**entry, "result": "cannot send", "problem": str(exc)}
            return {**entry, "result": "would send", "subject": digest.subject}
        token, why_not = ledger.claim(store, sub.name, period)
        if token is None:
            return {**entry, "result": why_not}
        try:
            digest = digest_for(store, cfg_dir, config, sub)
        except ScorecardError as exc:
            ledger.finish(store, sub.name, period, token, str(exc))
            return {**entry, "result": "failed", "problem": failure_sentence(sub, period,
                                                                             str(exc))}
    problem = deliver(config, sub, digest, period)
    with open_store(False) as store:
        ledger.finish(store, sub.name, period, token, problem)
    if problem:
        return {**entry, "result": "failed", "subject": digest.subject,
                "problem": failure_sentence(sub, period, problem)}
    return {**entry, "result": "sent", "subject": digest.subject}


def run_due(open_store: Opener, cfg_dir: Path, now: datetime | None = None,
            dry_run: bool = False) -> dict:
    """Send every subscription due at `now` (default: the clock); what happened, per
    subscription. The configuration is read and checked first: a bad one sends nothing."""
    config = load(cfg_dir)
    moment = schedule.as_utc(now)
    return {"now": moment.isoformat(timespec="seconds"), "dry_run": dry_run,
            "digests": [run_one(open_store, cfg_dir, config, sub, moment, dry_run)
                        for sub in config.subscriptions]}


def send_test(store: Store, cfg_dir: Path, name: str) -> str | None:
    """Send one subscription now, whatever its schedule (the Digests page's test); recorded
    as a test, never as its period. None when sent, else why not in one sentence."""
    config = load(cfg_dir)
    sub = config.get(name)
    digest = digest_for(store, cfg_dir, config, sub)
    problem = deliver(config, sub, digest, ledger.TEST_PERIOD)
    if not store.read_only:
        ledger.record_test(store, sub.name, problem)
    return (f"Could not send the test of '{name}': {problem}." if problem else None)


def run_in_background(open_store: Opener, cfg_dir: Path, every_seconds: float = 300,
                      report: Callable[[str], None] = print) -> threading.Event:
    """Send due digests every few minutes until the returned event is set (`serve --digests`)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                for entry in run_due(open_store, cfg_dir)["digests"]:
                    if entry["result"] in ("sent", "failed"):
                        report(entry.get("problem") or
                               f"Sent the digest '{entry['subscription']}' for "
                               f"{entry['period']} to {entry['to']}.")
            except ScorecardError as exc:
                report(f"Digests: {exc}")
            except Exception as exc:  # noqa: BLE001 - the loop must outlive one bad run
                report(f"Digests: the run failed unexpectedly ({type(exc).__name__}); "
                       "the next one follows as scheduled.")
            stop.wait(every_seconds)

    threading.Thread(target=loop, name="digests", daemon=True).start()
    return stop
