"""Who spends what: each system's spend and cost per successful outcome by team, feature and
customer, with each one's share of the spend, to download as CSV."""

import pandas as pd
import streamlit as st

import ui
from scorecard.exports import safe_csv
from scorecard.metrics.slices import ATTRIBUTED_BY, cost_rows

st.title("Cost attribution")
if ui.empty_store_notice():
    st.stop()
card = ui.scorecard(ui.cache_key(), 7, None)
c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    system = ui.system_picker(card.systems, key="cost_system")
with c2:
    dimension = st.radio("By", ATTRIBUTED_BY, key="cost_by", horizontal=True,
                         format_func=str.capitalize)
with c3:
    days = st.selectbox("Over", [7, 28], key="cost_days",
                        format_func=lambda d: f"the last {d} days")
sliced = ui.slice_card(ui.cache_key(), dimension, days, None)
rows = cost_rows(sliced, system)
w = sliced.window
scope = ui.as_text(system or "all systems")
if not rows or all(r["value"] == "(none)" for r in rows):
    st.info(f"The decisions of {scope} in this window log no {dimension}, so their spend "
            f"cannot be attributed. Add a `{dimension}` column to the extracts (or a constant "
            "in the map file) to see who spends what.")
    st.stop()
total = sum(r["spend_usd"] for r in rows)
st.markdown(f"**{scope}** spent **${total:,.2f}** from {w.start:%d %b} to "
            f"{w.end - pd.Timedelta(days=1):%d %b %Y} (inference and human review). "
            f"{ui.as_text(rows[0]['value'])} spent the most: {rows[0]['share_of_spend']:.0%}.")
frame = pd.DataFrame([{
    dimension.capitalize(): r["value"],
    "Spend": f"${r['spend_usd']:,.2f}",
    "Share of spend": "–" if r["share_of_spend"] is None else f"{r['share_of_spend']:.1%}",
    "Decisions": f"{r['decisions'] or 0:,.0f}",
    "Cost per successful outcome": ("no successes" if r["cost_per_success_usd"] is None else
                                    f"${r['cost_per_success_usd']:,.2f}")
    + (" ◌ too few to judge" if r["too_few_to_judge"] else "")} for r in rows])
st.dataframe(frame, hide_index=True, width="stretch",
             column_config={dimension.capitalize(): st.column_config.TextColumn(pinned=True)})
download = pd.DataFrame([{
    "system": system or "all systems", "dimension": dimension, "value": r["value"],
    "spend_usd": round(r["spend_usd"], 6), "share_of_spend": r["share_of_spend"],
    "decisions": r["decisions"], "cost_per_successful_outcome_usd": r["cost_per_success_usd"],
    "window_start": f"{w.start:%Y-%m-%d}", "window_end": f"{w.end:%Y-%m-%d}"} for r in rows])
st.download_button("Download the table (CSV)", safe_csv(download),
                   file_name=f"cost-by-{dimension}-{w.as_of:%Y-%m-%d}.csv", mime="text/csv",
                   icon=":material/download:", key="cost_csv")
st.caption("Spend: cost_usd and review_cost_usd of the window's decisions. Cost per successful "
           "outcome: that spend over the decisions whose outcome was a success (◌: fewer "
           "successes than the metric needs to judge). (none): decisions that log no "
           f"{dimension}.")
