"""Which systems need attention, and why: the worst status per system and area of the
leadership table, one plain sentence per system in the red, and how fresh each system's data is.
Everything here reads a computed scorecard (and, for freshness, one grouped query)."""

from __future__ import annotations

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
    """system -> area (seed row) -> the worst status among that area's metrics."""
    return {system: {row: max((cell_status(card.scope(system)[m.id]) for m in metrics),
                              key=SEVERITY.get, default="unknown")
                     for row, metrics in registry().by_row().items()}
            for system in card.systems}


def system_status(row_statuses: dict[str, str]) -> str:
    return max(row_statuses.values(), key=SEVERITY.get, default="unknown")


@dataclass(frozen=True)
class Attention:
    """A system in the red, its worst metric, and the sentence that says so."""

    system: str
    metric: str
    area: str
    sentence: str


def _reference(value: MetricValue) -> tuple[float, str]:
    """What a value is judged against: its limit when red, else its target."""
    return (value.limit, "limit") if value.status == "red" else (value.target, "target")


def distance(value: MetricValue) -> float:
    """How far a value is from its limit (red) or target, relative to that threshold's size."""
    reference, _ = _reference(value)
    return abs(value.value - reference) / max(abs(reference), 1e-9)


def against(metric, value: MetricValue) -> str:
    """A value in words against its limit (red) or target: "input drift (confidence PSI) 1.25
    against a 0.25 limit"."""
    reference, kind = _reference(value)
    return (f"{metric.title[0].lower() + metric.title[1:]} {format_value(metric, value.value)} "
            f"against a {format_value(metric, reference)} {kind}")


def needing_attention(card: Scorecard) -> list[Attention]:
    """One entry per system with a metric of the leadership table in the red (judged on enough
    events), worst first: its metric furthest beyond its limit. The grid's areas decide, so the
    sentences and the grid agree (volume alone is not an area)."""
    found = []
    in_areas = [m for metrics in registry().by_row().values() for m in metrics]
    for system in card.systems:
        red = [(m, v) for m in in_areas
               if (v := card.scope(system)[m.id]).status == "red" and not v.insufficient]
        if not red:
            continue
        metric, value = max(red, key=lambda pair: distance(pair[1]))
        sentence = f"{system}: {against(metric, value)}"
        found.append((distance(value), Attention(system, metric.id, metric.row, sentence)))
    return [a for _, a in sorted(found, key=lambda pair: -pair[0])]


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
