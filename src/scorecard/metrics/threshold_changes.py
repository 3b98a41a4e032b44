"""Changing thresholds: validate a proposal, preview the statuses it changes, save it with its
history in the store, and revert a past change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from ..errors import BadInput
from ..store import records
from ..store.db import Store
from .compute import Scorecard
from .registry import registry
from .thresholds import Threshold, Thresholds, load_thresholds, parse_thresholds, save_thresholds


@dataclass(frozen=True)
class Proposal:
    """New target and limit for one metric, for all systems (system None) or one system."""

    metric: str
    system: str | None
    target: float | None  # None with limit None: drop the system's override
    limit: float | None

    @property
    def removes_override(self) -> bool:
        return self.system is not None and self.target is None and self.limit is None


def _as_dict(threshold: Threshold | None) -> dict | None:
    return None if threshold is None else {"target": threshold.target, "limit": threshold.limit}


def current_entry(th: Thresholds, metric: str, system: str | None) -> dict | None:
    """What the file holds for this metric at this level (None: a system without override)."""
    if system is None:
        return _as_dict(th.defaults.get(metric))
    override = th.systems.get(system)
    return _as_dict(override.metrics.get(metric) if override else None)


def apply(th: Thresholds, proposal: Proposal) -> Thresholds:
    """The thresholds with the proposal applied; BadInput says plainly what is wrong with it."""
    metric = registry().get(proposal.metric)
    data = th.model_dump(mode="json")
    if proposal.removes_override:
        data["systems"].get(proposal.system, {}).get("metrics", {}).pop(proposal.metric, None)
        return parse_thresholds(data)
    if proposal.target is None or proposal.limit is None:
        raise BadInput("Both a target and a limit are needed.")
    entry = {"direction": metric.direction, "target": float(proposal.target),
             "limit": float(proposal.limit)}
    try:
        Threshold.model_validate(entry)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise BadInput(f"{metric.title}: {message}.") from None
    if proposal.system is None:
        data["defaults"][proposal.metric] = entry
    else:
        scope = data["systems"].setdefault(proposal.system, {"metrics": {}})
        scope.setdefault("metrics", {})[proposal.metric] = entry
    return parse_thresholds(data)


def status_changes(before: Scorecard, after: Scorecard) -> list[dict]:
    """Every (scope, metric) whose status differs between two scorecards of the same window.

    Both must be computed, not re-judged: some values depend on thresholds themselves
    (weeks meeting target counts weeks at or beyond the success and failure targets)."""
    changes = []
    for scope, values in before.values.items():
        for metric_id, old in values.items():
            new = after.values[scope][metric_id]
            if old.status != new.status:
                changes.append({"scope": scope or "All systems", "metric": metric_id,
                                "value_before": old.value, "value_after": new.value,
                                "before": old.status, "after": new.status})
    return changes


def _file_path(proposal: Proposal) -> tuple[str, ...]:
    """Where the proposal's entry sits in the thresholds file."""
    if proposal.system is None:
        return ("defaults", proposal.metric)
    return ("systems", proposal.system, "metrics", proposal.metric)


def save_change(store: Store, path: Path, proposal: Proposal, *, actor: str,
                reason: str) -> Thresholds:
    """Apply to the file as it is now, record the change, write the file atomically."""
    if not reason.strip():
        raise BadInput("Say why the threshold changes; the reason is kept in the history.")
    before = load_thresholds(path)
    after = apply(before, proposal)
    old = current_entry(before, proposal.metric, proposal.system)
    new = current_entry(after, proposal.metric, proposal.system)
    if old == new:
        raise BadInput("That is the threshold already in force; nothing changed.")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with records.threshold_change(store, recorded_at=now, actor=actor, system=proposal.system,
                                  metric=proposal.metric, old=old, new=new,
                                  reason=reason.strip()):
        save_thresholds(after, path, {_file_path(proposal): (
            f"{reason.strip()} ({actor}, {now:%d %b %Y})")})
        # a failed write rolls the history row back
    return after


def revert_proposal(change: dict) -> Proposal:
    """The proposal that puts back what a recorded change replaced."""
    old = change["old"]
    return Proposal(change["metric"], change["system"],
                    old["target"] if old else None, old["limit"] if old else None)
