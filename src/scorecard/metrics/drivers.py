"""Which slice drives a red metric: of a system's bad events (the shortfall of the metric's
rate, declared in the registry), the release, team, feature, customer, segment or model that
holds far more of them than of the decisions ("71% of failures come from release r2, which
takes 30% of decisions"). One grouped query over the window's events for all flagged systems."""

from __future__ import annotations

from dataclasses import dataclass

from ..sql import Query, identifier
from ..store.db import Store
from ..store.schema import DIMENSIONS
from .attention import needing_attention
from .compute import Scorecard
from .families import base
from .families.window import NO_VALUE, Slicing
from .registry import Metric, registry
from .thresholds import Thresholds

MIN_SHARE = 0.3  # a driver holds at least this share of the bad events,
OVER_VOLUME = 1.25  # and this many times its share of the decisions


@dataclass(frozen=True)
class Driver:
    system: str
    metric: str
    dimension: str
    value: str
    share_of_bad: float
    share_of_events: float
    shortfall: str

    def sentence(self) -> str:
        return (f"{self.share_of_bad:.0%} of {self.shortfall} come from {self.dimension} "
                f"{self.value}, which takes {self.share_of_events:.0%} of decisions")


def explaining_rate(metric: Metric) -> Metric | None:
    """The rate whose bad events explain the metric: itself, or the one it declares."""
    if metric.shortfall:
        return metric
    return registry().get(metric.explained_by) if metric.explained_by else None


def _bad_and_eligible(rate: Metric, condition: str, d) -> tuple[str, str]:
    """SQL for (bad events, events the rate is over) of a rate, among rows meeting
    `condition`."""
    num = base.measure_within(rate.numerator, condition, d)
    den = base.measure_within(rate.denominator, condition, d)
    bad = num if rate.direction == "lower_is_better" else f"({den} - {num})"
    return bad, den


def drivers_query(ctx: base.Context, wanted: dict[str, Metric]) -> Query:
    """Per dimension and value: bad and eligible events of each system in `wanted` (system ->
    rate), columns bad0, eligible0, bad1, ... in its order."""
    d = ctx.dialect
    sums = []
    for i, rate in enumerate(wanted.values()):
        bad, eligible = _bad_and_eligible(rate, f"system = $s{i}", d)
        sums += [f"{bad} AS bad{i}", f"{eligible} AS eligible{i}"]
    parts = [f"SELECT '{dimension}' AS dimension, "
             f"{Slicing(dimension).value_sql(d, identifier(dimension))} AS slice, "
             f"{', '.join(sums)} FROM ev GROUP BY slice" for dimension in DIMENSIONS]
    where = "e.timestamp >= $start AND e.timestamp < $end AND " + d.contains("$systems",
                                                                             "e.system")
    text = (f"WITH {base.params_table(ctx)},\n"
            f"{d.shared_cte('ev', base.events_with_settings(where))}\n"
            + "\nUNION ALL\n".join(parts))
    params = {"start": ctx.start, "end": ctx.end, "systems": list(wanted),
              **{f"s{i}": s for i, s in enumerate(wanted)}}
    return Query.using(text, params)


def find_drivers(store: Store, thresholds: Thresholds, card: Scorecard,
                 flagged: dict[str, str]) -> dict[str, Driver]:
    """system -> the slice that drives its flagged metric (system -> metric id), where one
    does: at least MIN_SHARE of the bad events and OVER_VOLUME times its share of decisions."""
    wanted = {s: rate for s, m in flagged.items()
              if (rate := explaining_rate(registry().get(m))) is not None}
    if not wanted:
        return {}
    ctx = card.window.context(thresholds, card.systems, False, store.dialect)
    rows = store.query_dicts(drivers_query(ctx, wanted))
    found: dict[str, Driver] = {}
    for i, (system, rate) in enumerate(wanted.items()):
        totals: dict[str, tuple[float, float]] = {}
        for r in rows:
            bad, eligible = totals.get(r["dimension"], (0.0, 0.0))
            totals[r["dimension"]] = (bad + float(r[f"bad{i}"] or 0),
                                      eligible + float(r[f"eligible{i}"] or 0))
        best, best_excess = None, 0.0
        for r in rows:
            total_bad, total_eligible = totals[r["dimension"]]
            bad, eligible = float(r[f"bad{i}"] or 0), float(r[f"eligible{i}"] or 0)
            if r["slice"] == NO_VALUE or not total_bad or not total_eligible or not eligible:
                continue
            share_bad, share_events = bad / total_bad, eligible / total_eligible
            excess = bad - eligible * total_bad / total_eligible  # bad events above its share
            if (share_bad >= MIN_SHARE and share_bad >= OVER_VOLUME * share_events
                    and excess > best_excess):
                best, best_excess = Driver(system, flagged[system], r["dimension"], r["slice"],
                                           share_bad, share_events, rate.shortfall), excess
        if best is not None:
            found[system] = best
    return found


def attention_drivers(store: Store, thresholds: Thresholds, card: Scorecard
                      ) -> dict[str, Driver]:
    """The drivers of the metric each system needs attention for first, where one does."""
    flagged = {a.system: a.metric for a in needing_attention(card)}
    return find_drivers(store, thresholds, card, flagged)
