"""The catalog of metric families: which module computes each family named in the registry.

A family module gives `current(ctx, metrics)` (over the window) and `trend(ctx, metrics,
period)` (per period), each a `Query` whose rows hold a scope, a period start (trends) and
columns named "metric:field". Adding a family is a module and one line in ROOMS."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Hashable

from ...sql import Query
from ..registry import Metric
from . import baseline, calibration, estimated, incidents, lag, psi, segments, weekly, window
from .base import Context

Run = Callable[[Query], list[dict]]  # runs a query on the store, rows as dicts


@dataclass(frozen=True)
class Room:
    """How a family is computed, and what its sample size n counts."""

    current: Callable[[Context, list[Metric]], Query]
    trend: Callable[[Context, list[Metric], str], Query]
    sample_noun: str = "events"
    needs_baseline: bool = False  # unreliable while the baseline overlaps the window
    gives_baselines: bool = False  # its rows say each scope's baseline period
    requires: tuple[str, ...] = ()  # the declaration's fields the family reads
    shared_by: str = ""  # families computed in one query together share this key
    apart: Callable[[Metric], Hashable] = lambda m: ""  # metrics with one key share a query
    # what the family fits from the store before its queries are built (kept in ctx.fitted)
    prepare: Callable[[Context, list[Metric], Run], Any] | None = None


def _window(requires: tuple[str, ...], sample_noun: str = "events") -> Room:
    return Room(window.current, window.trend, sample_noun, requires=requires, shared_by="window")


ROOMS: dict[str, Room] = {
    "rate": _window(("numerator", "denominator")),
    "ratio": _window(("numerator", "denominator")),
    "count": _window(("numerator",)),
    "quantile": _window(("quantile", "denominator")),
    "gap": _window(("based_on",), "labelled events"),
    "weekly": Room(weekly.current, weekly.trend, "weeks", requires=("based_on", "statistic"),
                   apart=lambda m: m.based_on),
    "baseline": Room(baseline.current, baseline.trend, "labelled events", needs_baseline=True,
                     gives_baselines=True, requires=("based_on",), apart=lambda m: m.based_on),
    "psi": Room(psi.current, psi.trend, needs_baseline=True),
    "incidents": Room(incidents.current, incidents.trend, "incidents", requires=("field",)),
    "segments": Room(segments.current, segments.trend, "segments", requires=("based_on",),
                     apart=lambda m: m.id),
    "estimated": Room(estimated.current, estimated.trend, "decisions",
                      requires=("based_on", "field", "min_fit"), apart=lambda m: m.id,
                      prepare=calibration.prepare),
    "lag": Room(lag.current, lag.trend, "outcomes", requires=("quantile", "field")),
}


def register(name: str, room: Room) -> None:
    """Add a family (a team's own, or a test's) before the registry that uses it is loaded."""
    ROOMS[name] = room


def room_of(family: str) -> Room:
    try:
        return ROOMS[family]
    except KeyError:
        raise ValueError(f"there is no metric family {family!r}; the families are "
                         f"{', '.join(ROOMS)}") from None


def check_families(registry) -> None:
    """Every metric names a known family and declares what its family reads; what a metric is
    based on is a rate."""
    rooms = {m.id: room_of(m.family) for m in registry.metrics}
    for m in registry.metrics:
        missing = [f for f in rooms[m.id].requires if not getattr(m, f)]
        if missing:
            raise ValueError(f"metric {m.id} ({m.family}) needs {' and '.join(missing)}")
        for rate in m.based_on:
            if registry.get(rate).family != "rate":
                raise ValueError(f"metric {m.id} is based on {rate}, which is not a rate")


def prepare(ctx: Context, metrics: list[Metric], run: Run) -> Context:
    """The context with what each family of these metrics fits from the store first."""
    fitted = dict(ctx.fitted)
    for family in dict.fromkeys(m.family for m in metrics):
        room = room_of(family)
        if room.prepare is not None and family not in fitted:
            fitted[family] = room.prepare(ctx, [m for m in metrics if m.family == family], run)
    return replace(ctx, fitted=fitted)


def queries(ctx: Context, metrics: list[Metric], period: str | None = None) -> list[Query]:
    """The queries that compute these metrics: over the window, or per period when given.
    Families that share a query are computed together."""
    groups: dict[tuple, list[Metric]] = {}
    for m in metrics:
        room = room_of(m.family)
        groups.setdefault((room.shared_by or m.family, room.apart(m)), []).append(m)
    return [room_of(group[0].family).current(ctx, group) if period is None
            else room_of(group[0].family).trend(ctx, group, period)
            for group in groups.values()]
