"""What the one-page board report says, from the same metrics layer the app reads: a verdict
per system (dependable, economical, resilient), what is red or amber and why, the questions
for leaders with who signed them off, three weekly trends with their thresholds, the error
budgets left, and how much data it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..store import records
from ..store.db import Store
from ..metrics import attention, budgets
from ..metrics.checklist import questions
from ..metrics.compute import MetricValue, compute_scorecard
from ..metrics.formatting import budget_cell, format_value
from ..metrics.registry import registry
from ..metrics.thresholds import Thresholds
from ..metrics.trends import series_from_table, trend_table
from .headline import HeadlineRow, headline

# each quality leaders steer by, and the areas of the leadership table that decide it
DIMENSIONS = {"dependable": ("Accuracy & Benchmarks", "Temporal Reliability",
                             "Performance Degradation"),
              "economical": ("Cost per Outcome",),
              "resilient": ("Latency Impact", "Failure Recovery")}
CHARTS = ("success_rate", "cost_per_outcome_usd", "failure_rate")
CHART_WEEKS = 12
MOST_CONCERNS = 6  # what fits on the page; the rest is counted


@dataclass
class Verdict:
    system: str
    statuses: dict[str, str]  # dimension -> worst status of its areas
    sentence: str


@dataclass
class Concern:
    system: str
    metric_id: str
    status: str
    sentence: str


@dataclass
class Answer:
    question: str
    status: str
    answer: str
    signed: str  # who signed it off and when, or "not signed off"


@dataclass
class Chart:
    metric_id: str
    title: str
    points: list[tuple[datetime, float]]
    target: float
    limit: float


@dataclass
class BoardReport:
    as_of: date
    window: tuple[datetime, datetime]
    scope: str | None
    verdicts: list[Verdict]
    concerns: list[Concern]
    more_concerns: int
    answers: list[Answer]
    charts: list[Chart]
    budgets: dict[str, dict[str, str]]  # system -> indicator title -> words
    coverage: dict[str, str] = field(default_factory=dict)
    headline: list[HeadlineRow] = field(default_factory=list)
    previous: tuple[datetime, datetime] | None = None  # the period the changes are against


NOUNS = {"dependable": "dependability", "economical": "cost", "resilient": "resilience"}


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _worst(values: dict[str, MetricValue], rows: tuple[str, ...], status: str):
    """The metric of these rows with this status that is furthest off."""
    found = [(m, values[m.id]) for row in rows for m in registry().by_row().get(row, [])
             if attention.cell_status(values[m.id]) == status]
    return max(found, key=lambda pair: attention.distance(pair[1])) if found else None


def verdict(system: str, values: dict[str, MetricValue], grid: dict[str, str]) -> Verdict:
    """One sentence per status: what the system is not, what it is, what to watch and what
    has too little data ("credit-precheck is not dependable (...). It is economical. Watch
    resilience (...).")."""
    statuses: dict[str, str] = {}
    said: dict[str, list[str]] = {"red": [], "green": [], "amber": [], "unknown": []}
    for dimension, rows in DIMENSIONS.items():
        status = max((grid[r] for r in rows if r in grid), key=attention.SEVERITY.get,
                     default="unknown")
        statuses[dimension] = status
        group = status if status in said else "unknown"
        worst = _worst(values, rows, status) if group in ("red", "amber") else None
        said[group].append({"red": f"not {dimension} ({attention.figure(*worst)})"
                            if worst else "", "green": dimension,
                            "amber": f"{NOUNS[dimension]} ({attention.figure(*worst)})"
                            if worst else "", "unknown": NOUNS[dimension]}[group])
    sentences = []
    for group, opening in (("red", "is"), ("green", "is"), ("amber", "watch"),
                           ("unknown", "too little data to judge")):
        if said[group]:
            start = (f"{system} {opening}" if opening == "is" else f"{system}: {opening}"
                     ) if not sentences else ("It is" if opening == "is" else opening.capitalize())
            sentences.append(f"{start} {_and(said[group])}.")
    return Verdict(system, statuses, " ".join(sentences))


def concerns(card, systems: list[str]) -> list[Concern]:
    """Every red and amber metric judged on enough events, red first, furthest off first."""
    found = []
    for system in systems:
        for metrics in registry().by_row().values():
            for m in metrics:
                v = card.scope(system)[m.id]
                if v.insufficient or v.status not in ("red", "amber") or v.value is None:
                    continue
                words = f"{system}: {attention.against(m, v)}. {m.why}"
                found.append(((v.status != "red", -attention.distance(v)),
                              Concern(system, m.id, v.status, words)))
    return [c for _, c in sorted(found, key=lambda pair: pair[0])]


def _signed(store: Store, question: str, system: str | None) -> str:
    scope = system or "all systems"
    latest = [s for s in records.signoffs(store, question) if s["system"] == scope]
    if not latest:
        return "not signed off"
    s = latest[0]
    return (f"signed off by {s['actor']} on {s['recorded_at']:%d %b %Y} "
            f"(data as of {s['as_of']:%d %b})")


def board_report(store: Store, thresholds: Thresholds, as_of: str | date | None = None,
                 system: str | None = None, among: list[str] | None = None) -> BoardReport:
    """The report's content, for one system or all of them; `among` keeps the verdicts,
    numbers and concerns to those systems (the questions, charts and coverage stay those of
    all systems together)."""
    card = compute_scorecard(store, thresholds, as_of=as_of)
    systems = [system] if system else [s for s in card.systems if not among or s in among]
    days = card.window.window_days
    previous = compute_scorecard(store, thresholds, as_of=card.window.as_of - timedelta(days),
                                 window_days=days)
    grid = attention.area_grid(card)
    week = trend_table(store, thresholds, "week", {m.family for m in registry().metrics})
    found = concerns(card, systems)
    answers = [Answer(a.question, a.status, a.answer, _signed(store, a.id, system))
               for a in questions(card, thresholds, week, system)]
    charts = []
    for metric_id in CHARTS:
        points = [(p.start, p.value) for p in series_from_table(week, thresholds, metric_id,
                                                                "week", system)
                  if p.end <= card.window.end and p.value is not None][-CHART_WEEKS:]
        t = thresholds.for_metric(metric_id, system)
        charts.append(Chart(metric_id, registry().get(metric_id).title, points, t.target,
                            t.limit))
    # the budgets as of the report's day: the newest event, or the end of an earlier day
    report = budgets.evaluate(store, thresholds, card.window.end if as_of else None)
    titles = {b.id: registry().get(b.metric).title for b in registry().budgets}
    budget_words = {s: {titles[i]: budget_cell(v) for i, v in report.systems[s].items()}
                    for s in systems if s in report.systems}
    values = card.scope(system)
    events, labelled = values["events"], values["label_coverage"]
    estimate = values["estimated_success_rate"]
    estimated = estimate.extra.get("n_estimated") or 0
    coverage = {
        "window": f"{card.window.start:%d %b} – {card.window.end - timedelta(days=1):%d %b %Y} "
                  f"(UTC, {days} days)",
        "events": format_value(registry().get("events"), events.value),
        "labelled": format_value(registry().get("label_coverage"), labelled.value),
        "estimated": (f"{estimated / events.value:.1%}" if events.value else "no data"),
    }
    scope = system or (", ".join(systems) if among else None)
    return BoardReport(card.window.as_of, (card.window.start, card.window.end), scope,
                       [verdict(s, card.scope(s), grid[s]) for s in systems],
                       found[:MOST_CONCERNS], max(len(found) - MOST_CONCERNS, 0), answers,
                       charts, budget_words, coverage, headline(card, previous, systems),
                       (previous.window.start, previous.window.end))

