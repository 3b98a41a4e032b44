"""Did the new release make things worse? Two releases (or models) of one system, side by side
over the same days: each metric's change with its interval or p-value, and a verdict."""

from datetime import timedelta

import pandas as pd
import streamlit as st

import ui
from scorecard.errors import ScorecardError
from scorecard.metrics.compare import COMPARED_BY, in_words
from scorecard.metrics.formatting import format_value
from scorecard.metrics.registry import registry
from scorecard.metrics.slices import values_in_order

VERDICT_ICON = {"regressed": "🔴", "improved": "🟢", "worse, within target": "🟠",
                "better, within target": "🟢", "no clear change": "⚪"}

st.title("Releases")
if ui.empty_store_notice():
    st.stop()
card = ui.scorecard(ui.cache_key(), 7, None)
asked = {name: ui.asked_in_link("releases", name) for name in ("system", "by", "a", "b")}
if asked["system"] in card.systems:
    st.session_state["rel_system"] = asked["system"]
if asked["by"] in COMPARED_BY:
    st.session_state["rel_by"] = asked["by"]

c1, c2, c3 = st.columns([2, 1, 1])
with c2:
    by = st.radio("Compare", COMPARED_BY, key="rel_by", horizontal=True,
                  format_func=lambda d: f"{d}s")
with c3:
    days = st.selectbox("Over", [7, 14, 28], key="rel_days",
                        format_func=lambda d: f"the last {d} days")
end = card.window.end
start = end - timedelta(days=days)
present = {s: ui.slice_values_in_order(ui.cache_key(), by, s, start, end) for s in card.systems}
comparable = [s for s in card.systems if len(present[s]) >= 2]
with c1:
    if not comparable:
        st.info(f"No system logs two {by}s in the last {days} days, so there is nothing to "
                f"compare. The `{by}` column of an extract says which {by} made each decision.")
        st.stop()
    if st.session_state.get("rel_system") not in comparable:
        st.session_state["rel_system"] = comparable[0]
    system = st.selectbox("System", comparable, key="rel_system")

values = [v for v, _ in present[system]]
events = dict(present[system])
label = {v: f"{v} ({events[v]:,} decisions)" for v in values}
left, right = st.columns(2)
# what the link asks for; else the newest two: B the newest, A the one before it
for key, value, default in (("rel_a", asked["a"], values[-2]), ("rel_b", asked["b"], values[-1])):
    if value in values:
        st.session_state[key] = value
    elif st.session_state.get(key) not in values:
        st.session_state[key] = default
with left:
    a = st.selectbox(f"Compared against (A, {by})", values, key="rel_a", format_func=label.get)
with right:
    b = st.selectbox(f"Judged ({by} B)", values, key="rel_b", format_func=label.get)
ui.write_link("releases", {"system": system, "by": by, "a": a, "b": b})
if a == b:
    st.info(f"Pick two different {by}s.")
    st.stop()

last_day = end - timedelta(days=1)
try:
    result = ui.comparison(ui.cache_key(), system, by, a, b, f"{start:%Y-%m-%d}",
                           f"{last_day:%Y-%m-%d}")
except ScorecardError as exc:
    st.error(ui.plain(str(exc)))
    st.stop()

icon = "🔴" if result.regressed else "🟢" if result.improved else "⚪"
verdict = "Regressed" if result.regressed else "Improved" if result.improved else \
    "No clear change"
st.subheader(f"{icon} {verdict}")
st.markdown(ui.as_text(result.headline()))
st.caption(f"{ui.as_text(system)}, {start:%d %b} – {last_day:%d %b %Y} (UTC), the same days for "
           f"both: {result.events[0]:,} decisions of {ui.as_text(a)} and {result.events[1]:,} of "
           f"{ui.as_text(b)}. Regressed: worse with p < 0.05 and beyond the metric's amber band "
           "(past its green target, or a change as wide as the band).")


def change_text(metric, change) -> str:
    if change.difference is None:
        return "–"
    if metric.format == "percent":
        return f"{change.difference * 100:+.1f} pts"
    if change.a:
        return f"{change.difference / change.a * 100:+.0f}%" + (
            f" ({'+' if change.difference > 0 else '−'}"
            f"{format_value(metric, abs(change.difference))})" if metric.format == "ms" else "")
    return "–"


def evidence(metric, change) -> str:
    if change.p_value is None:
        return "too few to test"
    p = "p < 0.001" if change.p_value < 0.001 else f"p = {change.p_value:.3f}"
    if change.ci_low is not None:
        return (f"95% interval {format_value(metric, change.ci_low)} to "
                f"{format_value(metric, change.ci_high)}, {p}")
    return p


rows = []
for change in result.changes:
    metric = registry().get(change.metric)
    words = in_words(metric, change)
    rows.append({"Metric": metric.title, "Verdict": f"{VERDICT_ICON[words]} {words}",
                 f"A: {a}": format_value(metric, change.a),
                 f"B: {b}": format_value(metric, change.b), "Change": change_text(metric, change),
                 "Evidence": evidence(metric, change),
                 "n (A / B)": f"{change.n_a or 0:,} / {change.n_b or 0:,}",
                 "Test": change.test})
order = {"regressed": 0, "worse, within target": 1, "improved": 2}
rows.sort(key=lambda r: order.get(r["Verdict"].split(" ", 1)[1], 3))
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
             column_config={"Metric": st.column_config.TextColumn(pinned=True),
                            "Evidence": st.column_config.TextColumn(width="large"),
                            "Test": st.column_config.TextColumn(width="small")})
st.caption("Rates: pooled two-proportion z-test. 95th percentile latency: bootstrap 95% "
           "interval of the difference (2,000 resamples). Cost per successful outcome: "
           "delta-method z-test. 🟠 worse, within target: a clear change that the thresholds "
           "do not yet count as a regression.")
