"""When a digest is due: the latest scheduled moment at or before now is its period, named by
that moment's local day ("2026-11-30"); the digest is due while that period has not been sent.
A runner that was off for weeks sends the latest period once, not every missed one."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from .config import WEEKDAYS, Schedule


def latest_slot(schedule: Schedule, now: datetime) -> datetime:
    """The latest scheduled moment at or before `now` (aware), in the schedule's time zone."""
    local = now.astimezone(schedule.zone)
    slot = datetime.combine(local.date(), time(schedule.hour), tzinfo=schedule.zone)
    if schedule.every == "week":
        slot -= timedelta(days=(local.weekday() - WEEKDAYS.index(schedule.day)) % 7)
    step = timedelta(days=7 if schedule.every == "week" else 1)
    while slot > local:
        slot -= step
    # across a change of clocks the wall-clock hour may not exist: normalise through UTC
    return slot.astimezone(timezone.utc).astimezone(schedule.zone)


def next_slot(schedule: Schedule, now: datetime) -> datetime:
    step = timedelta(days=7 if schedule.every == "week" else 1)
    slot = latest_slot(schedule, now)
    return datetime.combine(slot.date() + step, time(schedule.hour), tzinfo=schedule.zone)


def period(schedule: Schedule, now: datetime) -> str:
    """The period a digest sent now belongs to: its latest slot's local day."""
    return latest_slot(schedule, now).date().isoformat()


def as_utc(moment: datetime | None) -> datetime:
    """An aware UTC time: naive times are taken as UTC (the store's clock)."""
    if moment is None:
        return datetime.now(timezone.utc)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None \
        else moment.astimezone(timezone.utc)
