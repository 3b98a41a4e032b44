"""Which systems need attention, and why: the worst status per system and area of the
leadership table, one plain sentence per system in the red, and how fresh each system's data is.
Everything here reads a computed scorecard (and, for freshness, one grouped query)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..store.db import Store
from . import rollups
from .families import base
from .compute import MetricValue, Scorecard
from .formatting import format_value
from .registry import registry

SEVERITY = {"red": 4, "amber": 3, "green": 2, "insufficient": 1, "unknown": 0}
QUIET_AFTER = timedelta(days=2)  # no event for this long before the window's end: gone quiet


def cell_status(value: MetricValue) -> str:
    """A value's status for the grid: too few events to judge counts apart from a verdict."""
    return "insufficient" if value.insufficient else value.status


def area_grid(card: Scorecard) -> dict[str, dict[str, str]]:
    """system -> area (seed row) -> the worst status among that area's metrics; the systems
    worst first (`ranked_systems`)."""
    return {system: {row: max((cell_status(card.scope(system)[m.id]) for m in metrics),
                              key=SEVERITY.get, default="unknown")
                     for row, metrics in registry().by_row().items()}
            for system in ranked_systems(card)}


def system_status(row_statuses: dict[str, str]) -> str:
    return max(row_statuses.values(), key=SEVERITY.get, default="unknown")


def _reference(value: MetricValue) -> tuple[float, str]:
    """What a value is judged against: its limit when red, else its target."""
    return (value.limit, "limit") if value.status == "red" else (value.target, "target")


def distance(value: MetricValue) -> float:
    """How far a value is past its limit (red) or from its target, in widths of the band
    between target and limit (the room its thresholds allow); relative to the threshold
    itself when target and limit are one."""
    reference, _ = _reference(value)
    if value.value is None or reference is None:
        return 0.0
    band = abs(value.target - value.limit) if None not in (value.target, value.limit) else 0
    return abs(value.value - reference) / (band or max(abs(reference), 1e-9))


def against(metric, value: MetricValue) -> str:
    """A value in words against its limit (red) or target: "input drift (confidence PSI) 1.25
    against a 0.25 limit"."""
    reference, kind = _reference(value)
    return (f"{metric.title[0].lower() + metric.title[1:]} {format_value(metric, value.value)} "
            f"against a {format_value(metric, reference)} {kind}")


@dataclass(frozen=True)
class Reason:
    """An area of a system off target, told by its worst metric."""

    system: str
    metric: str
    area: str
    status: str
    distance: float  # past the limit (red) or from the target, in threshold bands
    figure: str  # its metric and value against the threshold

    @property
    def words(self) -> str:
        """What it risks in business words, then its figure: "it breaks the speed promised to
        users (within latency SLO 0.0%; limit 90.0%)"."""
        metric = registry().get(self.metric)
        return f"{metric.at_risk or metric.why} ({self.figure})"


def figure(metric, value: MetricValue) -> str:
    """A value against its limit (red) or target, without the title's aside: "input drift
    1.25; limit 0.25"."""
    reference, kind = _reference(value)
    name = re.sub(r"\s*\(.*\)", "", metric.title)
    return (f"{name[0].lower() + name[1:]} {format_value(metric, value.value)}; "
            f"{kind} {format_value(metric, reference)}")


def reasons(card: Scorecard, system: str | None) -> list[Reason]:
    """Each area of the leadership table where the system is red or amber (judged on enough
    events), told by its metric furthest off; red first, then furthest off first."""
    found = []
    for area, metrics in registry().by_row().items():
        off = [(m, v) for m in metrics if (v := card.scope(system)[m.id]).status in ("red", "amber")
               and not v.insufficient and v.value is not None]
        if off:
            m, v = max(off, key=lambda pair: (SEVERITY[pair[1].status], distance(pair[1])))
            found.append(Reason(system, m.id, area, v.status, distance(v), figure(m, v)))
    return sorted(found, key=lambda r: (-SEVERITY[r.status], -r.distance))


def ranked_systems(card: Scorecard) -> list[str]:
    """The systems worst first: by their worst status, then by how far their worst area is
    off, then by how many areas are red."""
    def badness(system):
        found = reasons(card, system)
        statuses = [cell_status(card.scope(system)[m.id])
                    for metrics in registry().by_row().values() for m in metrics]
        return (max((SEVERITY[s] for s in statuses), default=0),
                found[0].distance if found else 0.0,
                sum(r.status == "red" for r in found))
    return sorted(card.systems, key=badness, reverse=True)


@dataclass(frozen=True)
class Attention:
    """A system in the red: its worst area first, then its other red areas, worst first."""

    system: str
    first: Reason
    also: tuple[Reason, ...]

    @property
    def metric(self) -> str:
        return self.first.metric

    @property
    def sentence(self) -> str:
        return f"{self.system}: {self.first.words}"


def needing_attention(card: Scorecard) -> list[Attention]:
    """One entry per system with an area of the leadership table in the red, worst system
    first. The grid's areas decide, so the sentences and the grid agree (volume alone is not
    an area)."""
    found = []
    for system in ranked_systems(card):
        red = [r for r in reasons(card, system) if r.status == "red"]
        if red:
            found.append(Attention(system, red[0], tuple(red[1:])))
    return found


@dataclass(frozen=True)
class Freshness:
    system: str
    newest: datetime | None
    quiet: bool  # no event in the last days before the window's end


def freshness(store: Store, card: Scorecard) -> list[Freshness]:
    """The newest event of each system (to the day when read from the daily rollup), and
    whether it has gone quiet before the window's end."""
    newest = dict(store.query(base.newest_per_system_query(rollups.ready(store))))
    cutoff = card.window.end - QUIET_AFTER
    return [Freshness(s, newest.get(s), newest.get(s) is None or newest[s] < cutoff)
            for s in card.systems]
