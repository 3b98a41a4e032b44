"""Error budgets and burn rates (SPEC section 3): for each system and each declared indicator,
how fast the budget for bad events burns over the last 5 minutes to 3 days, how much of the
30-day budget is left, and which multiwindow burn-rate rules fire.

The store counts eligible and bad events for every system, indicator and window in one grouped
query; Python only divides and compares those counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from ..sql import Dialect, Query, identifier
from ..store.db import Store
from . import rollups
from .families.base import (EVENTS, Context, counted_row, events_with_settings, params_table,
                            systems_query)
from .registry import Budget, registry
from .thresholds import Thresholds

WINDOWS = {"5m": timedelta(minutes=5), "30m": timedelta(minutes=30), "1h": timedelta(hours=1),
           "6h": timedelta(hours=6), "3d": timedelta(days=3)}
BUDGET_WINDOW = ("30d", timedelta(days=30))  # the period the budget is counted over


@dataclass(frozen=True)
class Rule:
    """Fire when both windows burn at or above `factor` (Google SRE workbook, chapter 5)."""

    severity: str
    long: str
    short: str
    factor: float


RULES = (Rule("page", "1h", "5m", 14.4), Rule("page", "6h", "30m", 6.0),
         Rule("ticket", "3d", "6h", 1.0))


@dataclass
class Alert:
    severity: str
    long: str
    short: str
    factor: float
    long_burn: float
    short_burn: float


@dataclass
class Indicator:
    objective: float
    budget_remaining: float | None
    burn: dict[str, float | None]
    alerts: list[Alert] = field(default_factory=list)
    eligible: dict[str, int] = field(default_factory=dict)
    min_events: int = 0  # the metric's minimum sample: fewer over the 30 days is too few to judge

    @property
    def too_few(self) -> bool:
        return self.eligible.get(BUDGET_WINDOW[0], 0) < self.min_events

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class BudgetReport:
    now: datetime | None
    systems: dict[str, dict[str, Indicator]]

    def as_json(self) -> dict:
        return {"now": self.now.isoformat() if self.now else None,
                "systems": {s: {i: v.as_json() for i, v in ind.items()}
                            for s, ind in self.systems.items()}}

    def firing(self) -> list[tuple[str, str, Alert]]:
        """(system, indicator, alert) for every rule that fires, worst first."""
        found = [(s, i, a) for s, ind in self.systems.items() for i, v in ind.items()
                 for a in v.alerts]
        return sorted(found, key=lambda f: (f[2].severity != "page", f[0], f[1]))


def _conditions(budget: Budget) -> tuple[str, str]:
    """(eligible, bad) as conditions on one event row."""
    rate = registry().get(budget.metric)
    eligible, counted = counted_row(rate.denominator), counted_row(rate.numerator)
    if rate.direction == "lower_is_better":  # the rate counts bad events
        return eligible, f"{eligible} AND {counted}"
    return eligible, f"{eligible} AND ({counted}) IS NOT TRUE"


def objective(budget: Budget, thresholds: Thresholds, system: str) -> float:
    """The share of good events promised: the rate's green target (1 - target for a rate of
    bad events)."""
    rate = registry().get(budget.metric)
    target = thresholds.for_metric(budget.metric, system).target
    return 1 - target if rate.direction == "lower_is_better" else target


SPANS = [*WINDOWS, BUDGET_WINDOW[0]]  # nested windows, shortest first


def counts_query(thresholds: Thresholds, systems: list[str], now: datetime,
                 d: Dialect) -> Query:
    """Per system and window: eligible and bad events of every indicator over the window
    ending at `now`, in one pass over the 30 days before it. Each event is counted once, in
    the shortest window that holds it; the windows nest, so a window's counts are the running
    sum over the shorter ones."""
    spans = {**WINDOWS, BUDGET_WINDOW[0]: BUDGET_WINDOW[1]}
    params = {f"from_{name}": now - span for name, span in spans.items()}
    span = ("CASE " + " ".join(f"WHEN e.timestamp > $from_{name} THEN {i}"
                               for i, name in enumerate(SPANS[:-1]))
            + f" ELSE {len(SPANS) - 1} END")
    counts, running = [], []
    for budget in registry().budgets:
        eligible, bad = _conditions(budget)
        for what, condition in (("eligible", eligible), ("bad", bad)):
            name = identifier(f"{budget.id}:{what}")
            counts.append(f"{d.count_if(condition)} AS {name}")
            running.append(f"sum({name}) OVER (PARTITION BY system ORDER BY span) AS {name}")
    ctx = Context(thresholds, tuple(systems), now, now, dialect=d)
    since = f"e.timestamp > $from_{BUDGET_WINDOW[0]} AND e.timestamp <= $now"
    text = f"""
WITH {params_table(ctx)},
spans AS (SELECT e.system, {span} AS span, {', '.join(counts)}
          FROM ({events_with_settings(since)}) e GROUP BY e.system, span)
SELECT system, span, {', '.join(running)} FROM spans ORDER BY system, span"""
    return Query(text, {**params, "now": now})


def _window_counts(rows: list[dict]) -> dict[str, dict[str, dict[str, tuple[int, int]]]]:
    """system -> indicator -> window -> (eligible, bad), from the running sums per span (a
    span without events has the counts of the shorter window before it)."""
    out: dict = {}
    by_system: dict[str, dict[int, dict]] = {}
    for row in rows:
        by_system.setdefault(row["system"], {})[row["span"]] = row
    for system, spans in by_system.items():
        out[system] = {}
        for budget in registry().budgets:
            last, windows = (0, 0), {}
            for i, window in enumerate(SPANS):
                if i in spans:
                    row = spans[i]
                    last = (int(row[f"{budget.id}:eligible"]), int(row[f"{budget.id}:bad"]))
                windows[window] = last
            out[system][budget.id] = windows
    return out


def burn_down_query(thresholds: Thresholds, systems: list[str], budget: Budget,
                    d: Dialect) -> Query:
    """Per system and day: eligible and bad events over the 30 days ending with that day."""
    eligible, bad = _conditions(budget)
    ctx = Context(thresholds, tuple(systems), datetime.min, datetime.max, dialect=d)
    days = BUDGET_WINDOW[1].days
    return Query(f"""
WITH {params_table(ctx)},
daily AS (SELECT e.system, {d.trunc('day', 'e.timestamp')} AS day,
                 {d.count_if(eligible)} AS eligible, {d.count_if(bad)} AS bad
          FROM ({events_with_settings('true')}) e GROUP BY e.system, day)
SELECT system, day, {d.trailing_days_sum('eligible', 'system', 'day', days)} AS eligible,
       {d.trailing_days_sum('bad', 'system', 'day', days)} AS bad
FROM daily ORDER BY system, day""")


def _systems(store: Store) -> list[str]:
    return [r[0] for r in store.query(systems_query(rollups.ready(store)))]


def burn_down(store: Store, thresholds: Thresholds, budget: Budget) -> list[dict]:
    """Per system and day, the budget left over the 30 days ending with that day (None on a
    day whose 30 days hold too few events to judge)."""
    systems = _systems(store)
    rows = store.query_dicts(burn_down_query(thresholds, systems, budget, store.dialect))
    least = registry().get(budget.metric).min_sample
    out = []
    for row in rows:
        rate = burn(row["bad"], row["eligible"], objective(budget, thresholds, row["system"]))
        out.append({"system": row["system"], "day": row["day"],
                    "budget_remaining": None if rate is None or row["eligible"] < least
                    else 1 - rate,
                    "eligible": row["eligible"]})
    return out


def burn(bad: int, eligible: int, objective_: float) -> float | None:
    """(bad / eligible) / (1 - objective); None without eligible events, or without a budget
    (an objective of 100%)."""
    allowed = 1 - objective_
    if not eligible or allowed <= 0:
        return None
    return (bad / eligible) / allowed


def evaluate(store: Store, thresholds: Thresholds, now: datetime | None = None) -> BudgetReport:
    """Burn rates, budgets left and firing rules for every system, as of `now` (default: the
    newest event's time, but never later than the clock: a row stamped ahead would otherwise
    empty the short windows and silence every alert)."""
    if now is None:
        newest = store.scalar(f"SELECT max(timestamp) FROM {EVENTS}")
        now = newest and min(newest, datetime.now(UTC).replace(tzinfo=None))
    if now is None:
        return BudgetReport(None, {})
    systems = _systems(store)
    counted = _window_counts(store.query_dicts(counts_query(thresholds, systems, now,
                                                          store.dialect)))
    least = thresholds.settings.alerts_min_events
    report: dict[str, dict[str, Indicator]] = {}
    for system, indicators in counted.items():
        report[system] = {}
        for budget in registry().budgets:
            goal = objective(budget, thresholds, system)
            got = indicators[budget.id]
            rates = {w: burn(bad, n, goal) for w, (n, bad) in got.items()}
            month = rates.pop(BUDGET_WINDOW[0])
            alerts = [Alert(r.severity, r.long, r.short, r.factor, rates[r.long], rates[r.short])
                      for r in RULES
                      if rates[r.long] is not None and rates[r.short] is not None
                      and rates[r.long] >= r.factor and rates[r.short] >= r.factor
                      and got[r.long][0] >= least and got[r.short][0] >= least]
            report[system][budget.id] = Indicator(
                goal, None if month is None else 1 - month, rates, alerts,
                {w: n for w, (n, _) in got.items()}, registry().get(budget.metric).min_sample)
    return BudgetReport(now, report)
