"""Thresholds: the targets and limits that turn values into statuses, edited with a reason,
previewed before saving, kept with their history and revertible."""

import pandas as pd
import streamlit as st

import ui
from scorecard import actions
from scorecard.errors import ScorecardError
from scorecard.metrics import threshold_changes as changes
from scorecard.metrics.formatting import (display_scale, format_value, target_and_limit,
                                          threshold_words)
from scorecard.metrics.registry import registry
from scorecard.store import records

st.title("Thresholds")
ui.require("edit_thresholds")
st.caption("Green at or beyond the target, red beyond the limit, amber between. A threshold for "
           "all systems applies wherever a system has none of its own.")
if ui.empty_store_notice():
    st.stop()
ui.read_only_notice()
if not ui.thresholds_path().exists():
    st.caption(f"The packaged defaults apply: there is no {ui.thresholds_path().name} in the "
               "config directory yet. Your first change writes it, with the history kept here.")
if st.session_state.get("threshold_saved"):
    st.success(st.session_state.pop("threshold_saved"))



# Inputs and the revert box are keyed by this version: after a save or a revert they are new
# widgets, so the browser shows the thresholds now in force and the newest change, instead of
# keeping what was typed or picked before.
version = st.session_state.setdefault("_th_version", 0)


def _done(message: str) -> None:
    """After a save or revert: say so, and let the inputs show the thresholds now in force."""
    st.session_state["_th_version"] = version + 1
    st.session_state["threshold_saved"] = message
    st.rerun()


card = ui.scorecard(ui.cache_key(), 7, None)
th = ui.thresholds()
asked, asked_system = ui.asked_in_link("thresholds", "metric"), ui.asked_in_link("thresholds",
                                                                                "system")
if asked in registry().ids:
    st.session_state["th_metric"] = asked
if asked_system in card.systems:
    st.session_state["th_system"] = asked_system
st.session_state.setdefault("th_metric", "success_rate")
c1, c2 = st.columns([1, 2])
with c1:
    scope = ui.system_picker(card.systems, key="th_system")
with c2:
    metric = registry().get(st.selectbox(
        "Metric", registry().ids, key="th_metric",
        format_func=ui.metric_label))
# the choices live in the link, so a reload or a bookmark comes back to them
ui.write_link("thresholds", {"metric": metric.id, **({"system": scope} if scope else {})})

scale, unit = display_scale(metric)
current = th.for_metric(metric.id, scope)
own = changes.current_entry(th, metric.id, scope)
value = card.scope(scope)[metric.id]
better = "higher" if metric.direction == "higher_is_better" else "lower"
st.markdown(
    f"**{metric.title}**: {metric.measures} {better.capitalize()} is better.  \n"
    f"Now {format_value(metric, value.value)} ({ui.badge(value.status, value.insufficient)}) "
    f"for {ui.as_text(scope) if scope else 'all systems'}; "
    f"target {format_value(metric, current.target)}, limit "
    f"{format_value(metric, current.limit)}"
    + ("" if scope is None or own else " (inherited from all systems)") + ".")

key = f"{scope or 'all'}_{metric.id}_{version}"
step = 0.1 if scale == 100 else (0.01 if metric.format in ("usd", "decimal") else 1.0)
a, b = st.columns(2)
target = a.number_input(f"Target ({unit})" if unit else "Target", value=current.target * scale,
                        step=step, key=f"target_{key}", format="%g")
limit = b.number_input(f"Limit ({unit})" if unit else "Limit", value=current.limit * scale,
                       step=step, key=f"limit_{key}", format="%g")
proposal = changes.Proposal(metric.id, scope, round(target / scale, 12), round(limit / scale, 12))

wrong_side = target < limit if better == "higher" else target > limit
try:
    if wrong_side:  # said in the units of the boxes, before the file's own check says it in its
        side = "below" if better == "higher" else "above"
        raise ScorecardError(
            f"The target {format_value(metric, target / scale)} is {side} the limit "
            f"{format_value(metric, limit / scale)}, but {better} is better, so the target must "
            f"be at or {'above' if better == 'higher' else 'below'} the limit.")
    proposed = changes.apply(th, proposal)
except ScorecardError as exc:
    st.error(ui.plain(str(exc)))
    proposed = None

if proposed is not None:
    diff = changes.status_changes(card, ui.scorecard_with(ui.cache_key(), proposed.to_yaml()))
    st.subheader("Preview")
    if diff:
        st.dataframe(pd.DataFrame([{
            "Scope": d["scope"], "Metric": registry().get(d["metric"]).title,
            "Value now": format_value(registry().get(d["metric"]), d["value_before"]),
            "Status now": ui.badge(d["before"]),
            "Value after": format_value(registry().get(d["metric"]), d["value_after"]),
            "After the change": ui.badge(d["after"]),
        } for d in diff]), hide_index=True, width="stretch")
    else:
        st.caption("No status on the current 7-day window would change.")
    with st.form("save_threshold", clear_on_submit=True):
        reason = st.text_area("Reason (kept in the history)", key="th_reason",
                              placeholder="e.g. agreed with the risk committee on 24 Nov")
        if st.form_submit_button("Save threshold", type="primary"):
            try:
                actions.change_threshold(ui.store(), ui.directory(), ui.username(),
                                         ui.thresholds_path(), proposal, reason)
                _done(f"Saved: {metric.title} for {ui.as_text(scope) if scope else 'all systems'}. "
                      f"{len(diff)} status{'es' if len(diff) != 1 else ''} changed.")
            except ScorecardError as exc:
                st.error(ui.plain(str(exc)))

if scope is not None and own is not None:
    if st.button(f"Use the all-systems threshold for {ui.as_text(scope)}",
                 key="drop_override"):
        try:
            actions.change_threshold(ui.store(), ui.directory(), ui.username(),
                                     ui.thresholds_path(),
                                     changes.Proposal(metric.id, scope, None, None),
                                     f"{scope} now follows the all-systems threshold")
            _done(f"{ui.as_text(scope)} now follows the all-systems threshold.")
        except ScorecardError as exc:
            st.error(ui.plain(str(exc)))

st.subheader("History")
history = records.threshold_changes(ui.store())
if not history:
    st.caption("No threshold has been changed in the app yet.")
    st.stop()


st.dataframe(pd.DataFrame([{
    "When (UTC)": h["recorded_at"], "Who": h["actor"], "Scope": h["system"] or "All systems",
    "Metric": registry().get(h["metric"]).title, "Before (target / limit)": threshold_words(
        registry().get(h["metric"]), h["old"]),
    "After": threshold_words(registry().get(h["metric"]), h["new"]), "Reason": h["reason"],
} for h in history]), hide_index=True, width="stretch")


def _restores(change: dict) -> str:
    """What reverting a change puts back, in the units people read: "back to 2.00 s / 4.00 s,
    inherited from all systems"."""
    m = registry().get(change["metric"])
    try:
        after = changes.apply(th, changes.revert_proposal(change))
    except ScorecardError as exc:
        return ui.plain(str(exc))
    restored = after.for_metric(m.id, change["system"])
    words = f"back to {target_and_limit(m, restored.target, restored.limit)}"
    if change["system"] and change["old"] is None:
        words += ", inherited from all systems"
    scope_words = ui.as_text(change["system"]) if change["system"] else "all systems"
    return f"Reverting sets {m.title} for {scope_words} {words}."


pick = st.selectbox("Revert a change (newest first)", range(len(history)),
                    key=f"revert_pick_{version}",
                    format_func=lambda i: (
                        f"{history[i]['recorded_at']:%d %b %H:%M} · {history[i]['actor']} · "
                        f"{registry().get(history[i]['metric']).title} "
                        f"({history[i]['system'] or 'all systems'})"))
st.caption(_restores(history[pick]))
if st.button("Revert", key=f"revert_go_{version}"):
    try:
        actions.revert_threshold(ui.store(), ui.directory(), ui.username(),
                                 ui.thresholds_path(), history[pick])
        _done("Reverted; the revert is in the history too.")
    except ScorecardError as exc:
        st.error(ui.plain(str(exc)))
