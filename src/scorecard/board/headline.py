"""The board report's headline table: one row per system with the numbers behind its verdict
(decisions, success rate, cost per successful outcome, p95 latency, failure rate), each with
its status and its change against the previous period, as an arrow and words."""

from __future__ import annotations

from dataclasses import dataclass

from ..metrics.compute import MetricValue, Scorecard
from ..metrics.formatting import format_change, format_value, status_label
from ..metrics.registry import Metric, registry

COLUMNS = ("events", "success_rate", "cost_per_outcome_usd", "latency_p95_ms", "failure_rate")
ESTIMATE = "estimated_success_rate"  # shown beside the success rate while labels lag
LAGGING_COVERAGE = 0.9  # below this share of known outcomes, the estimate is shown too


@dataclass
class Figure:
    """One cell: the value in words, its status (icon and word) and the change."""

    metric_id: str
    value: str
    status: str
    change: str  # "▲ +1.2 pts, better", "▼ −12%, worse", "no change" or "" (nothing before)


@dataclass
class HeadlineRow:
    system: str
    figures: list[Figure]


def change_words(metric: Metric, now: float | None, before: float | None) -> str:
    """The change against the previous period: an arrow for its sign, the amount, and whether
    that is better or worse (for volume, up or down only)."""
    amount = format_change(metric, now, before)
    if not amount or amount == "no change":
        return amount
    up = now > before
    arrow = "▲" if up else "▼"
    if metric.id == "events":
        return f"{arrow} {amount}"
    better = up == (metric.direction == "higher_is_better")
    return f"{arrow} {amount}, {'better' if better else 'worse'}"


def _figure(metric_id: str, now: MetricValue, before: MetricValue | None) -> Figure:
    metric = registry().get(metric_id)
    return Figure(metric_id, format_value(metric, now.value),
                  status_label(now.status, now.insufficient),
                  change_words(metric, now.value, before.value if before else None))


def _success(values: dict[str, MetricValue], previous: dict[str, MetricValue] | None) -> Figure:
    """The success rate, with the estimated rate beside it where many outcomes are not known
    yet (the estimate's own status decides then, as it is the better-informed number)."""
    figure = _figure("success_rate", values["success_rate"],
                     previous and previous["success_rate"])
    coverage, estimate = values["label_coverage"].value, values[ESTIMATE]
    if coverage is not None and coverage < LAGGING_COVERAGE and estimate.value is not None:
        metric = registry().get(ESTIMATE)
        figure.value += f" (estimated {format_value(metric, estimate.value)})"
        if not estimate.insufficient and estimate.status != "unknown":
            figure.status = status_label(estimate.status)
        figure.change = change_words(metric, estimate.value,
                                     previous[ESTIMATE].value if previous else None)
    return figure


def headline(card: Scorecard, previous: Scorecard | None, systems: list[str]
             ) -> list[HeadlineRow]:
    """One row per system; `previous` is the scorecard of the period before (None: no change
    column)."""
    rows = []
    for system in systems:
        values = card.scope(system)
        before = previous.scope(system) if previous and system in previous.systems else None
        figures = [_success(values, before) if m == "success_rate"
                   else _figure(m, values[m], before and before[m]) for m in COLUMNS]
        rows.append(HeadlineRow(system, figures))
    return rows


def titles() -> list[str]:
    """The table's column headings, from the registry."""
    return [registry().get(m).title for m in COLUMNS]
