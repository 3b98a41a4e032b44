"""Where each subscription stands, in words, for the Digests page: sent when, due when, and
what went wrong since it was last sent."""

from __future__ import annotations

from datetime import datetime

from ..store.db import Store
from ..users import ROLE_TITLES
from . import ledger, schedule
from .config import DigestsConfig


def overview(store: Store, config: DigestsConfig, now: datetime | None = None) -> list[dict]:
    moment = schedule.as_utc(now)
    statuses = ledger.statuses(store)
    rows = []
    for sub in config.subscriptions:
        status = statuses.get(sub.name, ledger.Status())
        period = schedule.period(sub.schedule, moment)
        if status.last_period == period:
            upcoming = schedule.next_slot(sub.schedule, moment)
            due = f"{upcoming:%a %d %b %H:%M} ({sub.schedule.time_zone})"
        else:
            due = "now: at the next run"
        problem = ""
        if status.failures:
            tries = "once" if status.failures == 1 else f"{status.failures} times"
            problem = f"⚠ failed {tries}: {status.last_problem}; tried again at the next run"
        rows.append({
            "Subscription": sub.name, "Sent to": sub.where(),
            "When": sub.schedule.words(), "View of": ROLE_TITLES[sub.role],
            "Systems": ", ".join(sub.systems) or "all",
            "Last sent (UTC)": (f"{status.last_sent:%d %b %Y %H:%M}" if status.last_sent
                                else "not yet"),
            "Next due": due, "Problem": problem or "✓ none"})
    return rows
