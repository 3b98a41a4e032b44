"""Questions for leaders: each answered from the data, in sentences with numbers and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .compute import OVERALL, MetricValue, Scorecard
from .formatting import format_value
from .registry import registry
from .thresholds import Thresholds
from .trends import QuietRisk, quiet_risks, series_from_table

SEVERITY = {"red": 3, "amber": 2, "green": 1, "unknown": 0}
QUESTIONS = {  # id (kept with each sign-off) -> the question as leaders read it
    "inputs_change": "How does the system behave when inputs change unexpectedly?",
    "low_confidence": "What happens when confidence is low or data is missing?",
    "detect_recover": "How quickly do we detect and recover from failure?",
    "costs_scale": "Which costs grow as usage scales?",
    "rising_risks": "Which risks are increasing quietly?",
}


@dataclass
class Answer:
    id: str
    question: str
    metrics: list[str]
    status: str
    answer: str


def worst(statuses: list[str]) -> str:
    known = [s for s in statuses if s != "unknown"]
    return max(known, key=SEVERITY.get) if known else "unknown"


def _fmt(metric_id: str, value: float | None) -> str:
    return format_value(registry().get(metric_id), value)


def _status(mv: MetricValue) -> str:
    return "unknown" if mv.insufficient else mv.status


def _worst_system(card: Scorecard, metric_id: str) -> tuple[str, MetricValue] | None:
    metric = registry().get(metric_id)
    found = [(s, card.values[s][metric_id]) for s in card.systems
             if card.values[s][metric_id].value is not None
             and not card.values[s][metric_id].insufficient]
    if not found:
        return None
    pick = min if metric.direction == "higher_is_better" else max
    return pick(found, key=lambda item: item[1].value)


def _scopes(card: Scorecard, system: str | None) -> tuple[dict[str, MetricValue], str]:
    return card.scope(system), (system or "all systems")


def _estimate(v: dict[str, MetricValue]) -> tuple[str, MetricValue] | None:
    """While too few outcomes are known (label coverage below its target), the estimated
    success rate in a sentence that says it is an estimate, and how far it can be trusted."""
    cover, est = v["label_coverage"], v["estimated_success_rate"]
    if cover.value is None or cover.value >= cover.target or est.value is None:
        return None
    text = (f"With only {_fmt('label_coverage', cover.value)} of outcomes known, counting the "
            f"other {int(est.extra.get('n_estimated') or 0):,} decisions at their chance of "
            f"success given their confidence, the estimated success rate is "
            f"{_fmt('estimated_success_rate', est.value)}")
    if est.extra.get("unreliable"):
        text += (f"; treat it with care: {est.extra['unreliable']}, so confidence may not mean "
                 "what it meant at baseline.")
    else:
        text += " (an estimate: it assumes confidence means what it meant at baseline)."
    return text, est


def inputs_change(card: Scorecard, system: str | None) -> Answer:
    v, who = _scopes(card, system)
    psi, change = v["confidence_psi"], v["success_rate_change_pp"]
    base = card.baselines.get(system or OVERALL) or {}
    when = (f"{base['start']:%d %b} to {(base['end'] - timedelta(days=1)):%d %b %Y}"
            if base.get("start") else "the baseline")
    if psi.value is None and change.value is None:
        text = f"There is not enough data for {who} to compare the week to {card.window.as_of:%d %b} with the baseline."
    else:
        shift = ("a significant shift" if (psi.value or 0) > psi.limit else
                 "a moderate shift" if (psi.value or 0) > psi.target else "stable inputs")
        text = (f"Against the baseline of {when}, model confidence for {who} shows {shift} "
                f"(PSI {_fmt('confidence_psi', psi.value)}), and the success rate moved "
                f"{_fmt('success_rate_change_pp', change.value)} to "
                f"{_fmt('success_rate', v['success_rate'].value)} in the week to "
                f"{card.window.as_of:%d %b}")
        p = change.extra.get("p_value")
        text += (f" (p {'< 0.001' if p < 0.001 else f'= {p:.3f}'})." if p is not None else ".")
        estimate = _estimate(v)
        if estimate:
            text += " " + estimate[0]
        hit = _worst_system(card, "confidence_psi") if system is None else None
        if hit and hit[1].value > psi.target:
            text += f" The largest drift is in {hit[0]} (PSI {_fmt('confidence_psi', hit[1].value)})."
    return Answer("inputs_change", QUESTIONS["inputs_change"],
                  ["confidence_psi", "success_rate_change_pp"],
                  worst([_status(psi), _status(change)]), text)


def low_confidence(card: Scorecard, system: str | None, thresholds: Thresholds) -> Answer:
    v, who = _scopes(card, system)
    unrev, cover = v["unreviewed_low_confidence_rate"], v["label_coverage"]
    floor = thresholds.floor(system)
    parts = []
    if unrev.value is not None:
        parts.append(f"In the week to {card.window.as_of:%d %b}, {unrev.n:,} decisions of {who} had "
                     f"confidence below {floor:g}, and {_fmt('unreviewed_low_confidence_rate', unrev.value)} "
                     "of them took effect without a human review.")
    else:
        parts.append(f"No decisions of {who} fell below confidence {floor:g} in the week to "
                     f"{card.window.as_of:%d %b}, or confidence is not logged.")
    statuses, used = [_status(unrev), _status(cover)], ["unreviewed_low_confidence_rate",
                                                        "label_coverage"]
    if cover.value is not None:
        parts.append(f"Business outcomes are known for {_fmt('label_coverage', cover.value)} of decisions.")
        hit = _worst_system(card, "label_coverage") if system is None else None
        if hit and hit[1].value < cover.target:
            parts.append(f"{hit[0]} has the least: {_fmt('label_coverage', hit[1].value)}.")
    estimate = _estimate(v)
    if estimate:
        parts.append(estimate[0])
        statuses.append(_status(estimate[1]))
        used.append("estimated_success_rate")
    return Answer("low_confidence", QUESTIONS["low_confidence"], used, worst(statuses),
                  " ".join(parts))


def detect_recover(card: Scorecard, system: str | None) -> Answer:
    v, who = _scopes(card, system)
    ttd, ttr = v["median_time_to_detect_minutes"], v["median_time_to_recover_minutes"]
    vis = v["failure_visibility"]
    if ttd.n:
        text = (f"{who.capitalize()} had {ttd.n} incident{'s' if ttd.n != 1 else ''} in the 90 days "
                f"to {card.window.as_of:%d %b}: detected in a median "
                f"{_fmt('median_time_to_detect_minutes', ttd.value)} and recovered in a median "
                f"{_fmt('median_time_to_recover_minutes', ttr.value)}")
        still_open = int(ttr.extra.get("open") or 0)
        text += f"; {still_open} still open." if still_open else "."
    else:
        text = f"{who.capitalize()} had no recorded incidents in the 90 days to {card.window.as_of:%d %b}."
    if vis.value is not None:
        text += (f" This week we found {_fmt('failure_visibility', vis.value)} of failures ourselves; "
                 "customers or regulators found the rest.")
    return Answer("detect_recover", QUESTIONS["detect_recover"],
                  ["failure_visibility", "median_time_to_detect_minutes",
                   "median_time_to_recover_minutes"],
                  worst([_status(vis), _status(ttd), _status(ttr)]), text)


def costs_scale(card: Scorecard, system: str | None, week_table: dict,
                thresholds: Thresholds) -> Answer:
    v, who = _scopes(card, system)
    cpo = v["cost_per_outcome_usd"]
    events = [p for p in series_from_table(week_table, thresholds, "events", "week", system)
              if p.end <= card.window.end]
    costs = [p for p in series_from_table(week_table, thresholds, "cost_per_outcome_usd", "week",
                                          system) if p.end <= card.window.end and p.value]
    status = _status(cpo)
    if len(events) >= 2 and len(costs) >= 2:
        first, last = events[0], events[-1]
        growth = (last.value / first.value - 1) if first.value else 0
        cost_growth = costs[-1].value / costs[0].value - 1
        text = (f"Weekly decisions for {who} went from {first.value:,.0f} (week of "
                f"{first.start:%d %b}) to {last.value:,.0f} (week of {last.start:%d %b}), "
                f"{growth:+.0%}; cost per successful decision went from "
                f"{_fmt('cost_per_outcome_usd', costs[0].value)} to "
                f"{_fmt('cost_per_outcome_usd', costs[-1].value)}, {cost_growth:+.0%}.")
        if cost_growth > 0.1:
            text += " Costs are growing faster than the value delivered."
            status = worst([status, "amber"])
        text += (f" Cost per request is {_fmt('cost_per_request_usd', v['cost_per_request_usd'].value)}; "
                 f"with human review and failures counted, each success costs "
                 f"{_fmt('cost_per_outcome_usd', cpo.value)}.")
    else:
        text = f"There are too few weeks of data for {who} to see how costs scale with usage."
    return Answer("costs_scale", QUESTIONS["costs_scale"],
                  ["cost_per_outcome_usd", "cost_per_request_usd", "events"], status, text)


def rising_risks(card: Scorecard, system: str | None, risks: list[QuietRisk]) -> Answer:
    mine = [r for r in risks if r.system == system]
    quiet = [r for r in mine if r.weeks_to_limit is not None]
    loud = len(mine) - len(quiet)
    tail = (f" {loud} other metric{'s are' if loud != 1 else ' is'} worsening and already past "
            f"{'their limits' if loud != 1 else 'its limit'} (see the scorecard)." if loud else "")
    if not quiet:
        text = (f"No metric of {system or 'all systems'} is worsening quietly (significantly, while "
                f"still inside its limit) over the 8 weeks to {card.window.as_of:%d %b}." + tail)
        return Answer("rising_risks", QUESTIONS["rising_risks"],
                      [r.metric_id for r in mine], "amber" if loud else "green", text)
    bits = []
    for r in quiet[:3]:
        m = registry().get(r.metric_id)
        weeks = max(1, round(r.weeks_to_limit))
        bits.append(f"{m.title.lower()} (now {format_value(m, r.last_value)}, p = {r.p_value:.3f}, "
                    f"on course to cross its limit in about {weeks} week{'s' if weeks > 1 else ''})")
    more = f", and {len(quiet) - 3} more" if len(quiet) > 3 else ""
    text = (f"{len(quiet)} metric{'s are' if len(quiet) > 1 else ' is'} worsening steadily over "
            "the last 8 weeks while still inside the limit: " + "; ".join(bits) + more + "." + tail)
    soon = any(r.weeks_to_limit <= 4 for r in quiet)
    return Answer("rising_risks", QUESTIONS["rising_risks"],
                  [r.metric_id for r in mine], "red" if soon else "amber", text)


def questions(card: Scorecard, thresholds: Thresholds, week_table: dict,
              system: str | None = None) -> list[Answer]:
    """The five questions for leaders, answered for one system or all systems together."""
    risks = quiet_risks(week_table, thresholds, [system or OVERALL], card.window.end)
    return [inputs_change(card, system), low_confidence(card, system, thresholds),
            detect_recover(card, system), costs_scale(card, system, week_table, thresholds),
            rising_risks(card, system, risks)]
