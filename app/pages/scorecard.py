"""Landing page: the leadership metric table, one row group per seed row."""

import pandas as pd
import streamlit as st

import ui
from scorecard.metrics.formatting import format_change, format_value
from scorecard.metrics.registry import registry
from scorecard.metrics.trends import series_from_table

st.title("AI systems scorecard")
if ui.empty_store_notice():
    st.stop()

left, right = st.columns([2, 1])
with right:
    window_days = st.selectbox("Window", [7, 14, 28], format_func=lambda d: f"Last {d} days")
card = ui.scorecard(ui.cache_key(), window_days, None)
with left:
    system = ui.system_picker(card.systems)
values = card.scope(system)
w = card.window
st.caption(f"Window {w.start:%d %b} – {(w.end - pd.Timedelta(days=1)):%d %b %Y} (UTC), "
           f"as of the newest event. Status: 🟢 on target · 🟠 watch · 🔴 act · "
           "◌ too few events to judge · ⚪ no data.")

counts = pd.Series([v.status if not v.insufficient else "insufficient"
                    for mid, v in values.items() if mid != "events"]).value_counts()
cols = st.columns(4)
for col, (key, label) in zip(cols, [("red", "🔴 Act"), ("amber", "🟠 Watch"),
                                    ("green", "🟢 On target"), ("insufficient", "◌ Too few events")]):
    col.metric(label, int(counts.get(key, 0)))

th = ui.thresholds()


def table_rows(week=None, base=None) -> list[dict]:
    """One row per metric; the change against the baseline and the 8-week sparkline once
    they are at hand."""
    base = (base or {}).get(system or "", {})
    rows = []
    for row_name, metrics in [("Volume", [registry().get("events")]),
                              *registry().by_row().items()]:
        for m in metrics:
            v = values[m.id]
            interval = ("" if v.ci_low is None else
                        f"{format_value(m, v.ci_low)} – {format_value(m, v.ci_high)}")
            spark = [] if week is None else [
                p.value for p in series_from_table(week, th, m.id, "week", system)
                if p.end <= w.end and p.value is not None][-8:]
            rows.append({
                "Area": row_name, "Metric": m.title, "Value": format_value(m, v.value),
                "95% interval": interval, "vs baseline": format_change(m, v.value, base.get(m.id)),
                "n": v.n, "Status": ui.badge(v.status, v.insufficient),
                "Target": format_value(m, v.target), "Limit": format_value(m, v.limit),
                "Last 8 weeks": spark, "What it measures": m.measures, "Why it matters": m.why,
            })
    return rows


def draw(rows: list[dict]) -> None:
    table.dataframe(
        pd.DataFrame(rows), hide_index=True, width="stretch", height=35 * len(rows) + 40,
        column_config={
            "n": st.column_config.NumberColumn("n", format="%d", help="events behind the value"),
            "vs baseline": st.column_config.TextColumn(
                help="change from the baseline period (the first 28 days, or pinned dates)"),
            "Last 8 weeks": st.column_config.LineChartColumn("Last 8 weeks", width="small"),
            "What it measures": st.column_config.TextColumn(width="medium"),
            "Why it matters": st.column_config.TextColumn(width="medium"),
        })


# The numbers first; baseline changes and sparklines follow once computed (or cached).
table = st.empty()
draw(table_rows())
draw(table_rows(ui.weekly_table(ui.cache_key()),
                ui.baseline_values(ui.cache_key(), window_days)))
