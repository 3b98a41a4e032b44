"""Trend charts: a metric over periods with its interval, target and limit, model changes and
incidents marked."""

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import ui
from scorecard.metrics.formatting import format_value
from scorecard.metrics.registry import registry
from scorecard.metrics.slices import DIMENSIONS, sliced_metrics
from scorecard.metrics.trends import series_from_table
from scorecard.store import records

WHOLE = "the whole"

st.title("Trends")
if ui.empty_store_notice():
    st.stop()
card = ui.scorecard(ui.cache_key(), 7, None)
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
asked = ui.asked_in_link("trends", "metric")  # links from the scorecard and questions
asked_system = ui.asked_in_link("trends", "system")
if asked in registry().ids:
    st.session_state["trend_metric"] = asked
if asked_system in card.systems:
    st.session_state["trend_system"] = asked_system
st.session_state.setdefault("trend_metric", "success_rate")
with c1:
    metric = registry().get(st.selectbox(
        "Metric", registry().ids, key="trend_metric",
        format_func=ui.metric_label))
with c2:
    system = ui.system_picker(card.systems, key="trend_system")
with c3:
    period = st.radio("Period", ["day", "week", "month"], index=1, horizontal=True)
asked_slice = ui.asked_in_link("trends", "by")
if asked_slice in DIMENSIONS:
    st.session_state["trend_by"] = asked_slice
with c4:
    by = st.selectbox("One line per", [WHOLE, *DIMENSIONS], key="trend_by",
                      format_func=lambda d: d if d == WHOLE else d.capitalize())
# the link in the address bar is always this view, so a reload or a bookmark comes back to it
ui.write_link("trends", {"metric": metric.id, **({"system": system} if system else {}),
                         **({"by": by} if by != WHOLE else {})})
# the same units as the scorecard: shares in %, latencies in seconds
scale, axis_title = {"percent": (100, "%"), "ms": (0.001, "seconds")}.get(
    metric.format, (1, metric.unit))

MARGIN = {"t": 60, "b": 40, "r": 110}  # room on the right for the target and limit labels


def threshold_lines(fig: go.Figure, t) -> None:
    """The target and limit as lines, labelled beyond the plot's right edge (not over the
    data)."""
    fig.add_hline(y=t.target * scale, line_dash="dash", line_color="#2e7d32",
                  annotation_text=f"target {format_value(metric, t.target)}",
                  annotation_position="right")
    fig.add_hline(y=t.limit * scale, line_dash="dot", line_color="#c62828",
                  annotation_text=f"limit {format_value(metric, t.limit)}",
                  annotation_position="right")


if by != WHOLE:
    if metric not in sliced_metrics():
        st.info(f"{metric.title} is not computed per {by}: only the metrics of the window's "
                "events are. Choose another metric, or one line for the whole.")
        st.stop()
    series = ui.slice_trends(ui.cache_key(), metric.id, by, period, system)
    if not series:
        st.info("No periods with events for this choice.")
        st.stop()
    fig = go.Figure()
    for value, points in series.items():
        shown = html.escape(value, quote=False)  # data text, not plotly's markup
        fig.add_trace(go.Scatter(
            x=[p.start for p in points],
            y=[None if p.value is None else p.value * scale for p in points],
            mode="lines+markers", name=shown, hoverinfo="text+x",
            hovertext=[shown + f": {format_value(metric, p.value)}<br>n = "
                       f"{p.n if p.n is not None else '–'}"
                       + (f"<br>95%: {format_value(metric, p.ci_low)} – "
                          f"{format_value(metric, p.ci_high)}" if p.ci_low is not None else "")
                       + ("<br>too few events to judge" if p.insufficient else "")
                       for p in points]))
    threshold_lines(fig, ui.thresholds().for_metric(metric.id, system))
    fig.update_layout(height=460, margin=MARGIN, yaxis_title=axis_title,
                      legend={"orientation": "h"})
    st.plotly_chart(fig, width="stretch")
    st.caption(f"{metric.measures} One line per {by}: the 8 with the most decisions, the rest "
               "together as (other); (none) holds the decisions that log no "
               f"{by}. Hover a point for its 95% interval and how many events it rests on.")
    with st.expander("Data behind the chart"):
        st.dataframe(pd.DataFrame([{by: v, "start": p.start, "value": p.value, "low": p.ci_low,
                                    "high": p.ci_high, "n": p.n}
                                   for v, points in series.items() for p in points]),
                     hide_index=True)
    st.stop()

th = ui.thresholds()
table = ui.weekly_table(ui.cache_key(), period)
points = series_from_table(table, th, metric.id, period, system)
if not points:
    st.info("No periods with events for this choice.")
    st.stop()
frame = pd.DataFrame([{"start": p.start, "value": p.value, "low": p.ci_low, "high": p.ci_high,
                       "n": p.n} for p in points])
fig = go.Figure()
if frame["low"].notna().any():
    fig.add_trace(go.Scatter(x=list(frame.start) + list(frame.start[::-1]),
                             y=list(frame.high * scale) + list(frame.low[::-1] * scale),
                             fill="toself", fillcolor="rgba(31,78,121,0.15)", line={"width": 0},
                             name="95% interval", hoverinfo="skip"))
hover = [f"{format_value(metric, p.value)}<br>n = {p.n if p.n is not None else '–'}"
         + (f"<br>95%: {format_value(metric, p.ci_low)} – {format_value(metric, p.ci_high)}"
            if p.ci_low is not None else "") for p in points]
fig.add_trace(go.Scatter(x=frame.start, y=frame.value * scale, mode="lines+markers",
                         name=metric.title, line={"color": "#1f4e79"}, hovertext=hover,
                         hoverinfo="text+x"))
for other in registry().shown_with(metric.id):  # an estimate beside the rate it estimates
    beside = series_from_table(table, th, other.id, period, system)
    fig.add_trace(go.Scatter(
        x=[p.start for p in beside], y=[None if p.value is None else p.value * scale
                                        for p in beside],
        mode="lines+markers", name=other.title, line={"color": "#8d6e00", "dash": "dash"},
        marker={"symbol": "diamond"}, hoverinfo="text+x",
        hovertext=[f"{other.title}: {format_value(other, p.value)}<br>n = "
                   f"{p.n if p.n is not None else '–'}" for p in beside]))
threshold_lines(fig, th.for_metric(metric.id, system))
for i, change in enumerate(records.model_changes(ui.store(), system)):
    fig.add_vline(x=change["first_seen"], line_color="#6a1b9a", line_width=1)
    # neighbouring labels on two heights, so close changes do not print over each other
    fig.add_annotation(x=change["first_seen"], y=1.02 + 0.06 * (i % 2), yref="paper",
                       showarrow=False,
                       text=f"model → {html.escape(change['model'], quote=False)}",
                       font={"color": "#6a1b9a", "size": 10})
first, last = frame.start.min(), frame.start.max()
incidents = [i for i in records.incidents(ui.store(), system)
             if (i["resolved_at"] or last) >= first and i["started_at"] <= last]
for inc in incidents:
    fig.add_vrect(x0=max(inc["started_at"], first), x1=min(inc["resolved_at"] or last, last),
                  fillcolor="#c62828", opacity=0.08, line_width=0)
if incidents:  # named on hover and in the legend, not printed over the axis dates
    top = max(v for v in frame[["value", "high"]].max() * scale if pd.notna(v))
    fig.add_trace(go.Scatter(
        x=[max(i["started_at"], first) for i in incidents], y=[top] * len(incidents),
        mode="markers", name="Incident (hover for details)",
        marker={"symbol": "triangle-down", "color": "#c62828", "size": 9},
        hovertext=[html.escape(f"⚠ {i['incident_id']} ({i['severity']}, {i['system']}): "
                               f"{i['summary'] or ''}", quote=False) for i in incidents],
        hoverinfo="text"))
fig.update_layout(height=460, margin=MARGIN, hovermode="x unified",
                  yaxis_title=axis_title, legend={"orientation": "h"})
half = pd.Timedelta(days={"day": 1, "week": 7, "month": 30}[period] / 2)  # whole end markers
fig.update_xaxes(range=[first - half, last + half] if first != last else None)
st.plotly_chart(fig, width="stretch")
band = ("Shaded band: 95% Wilson interval. " if metric.is_rate and frame["low"].notna().any()
        else "")
beside = "".join(f" Dashed line: {o.title.lower()}, for comparison." for o in
                 registry().shown_with(metric.id))
st.caption(f"{metric.measures} {band}Purple lines: a new model first seen in the logs. Red "
           f"bands and triangles: incidents (hover for what happened).{beside}")
with st.expander("Data behind the chart"):
    st.dataframe(frame, hide_index=True)

# -- the error budget's burn-down, for a metric that sets one --------------------------------
for budget in [b for b in registry().budgets if b.metric == metric.id]:
    days = pd.DataFrame(ui.burn_down(ui.cache_key(), budget.id))
    if system:
        days = days[days.system == system]
    if days.empty:
        continue
    st.subheader("Error budget left")
    burn = go.Figure()
    for name, rows in days.groupby("system"):
        burn.add_trace(go.Scatter(x=rows.day, y=rows.budget_remaining * 100, mode="lines",
                                  name=html.escape(name, quote=False),  # data text, not markup
                                  hovertemplate="%{y:.0f}% left<extra>%{x}</extra>"))
    burn.add_hline(y=0, line_dash="dot", line_color="#c62828", annotation_text="budget spent")
    burn.update_layout(height=320, margin={"t": 30, "b": 30}, yaxis_title="% of budget left",
                       legend={"orientation": "h"})
    st.plotly_chart(burn, width="stretch")
    st.caption("Each day: the share of the allowance for bad events (set by this metric's "
               "green target) left over the 30 days ending that day. Below zero, more went "
               "wrong than the objective allows. Days whose 30 days hold too few events to "
               "judge are left out.")
