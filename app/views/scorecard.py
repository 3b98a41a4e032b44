"""Landing page: which AI system needs attention and why, first; then the leadership table."""

import pandas as pd
import streamlit as st

import ui
from scorecard.errors import ScorecardError
from scorecard.metrics import attention
from scorecard.metrics.formatting import (budget_cell, describe, format_change,
                                          format_value, target_and_limit)
from scorecard.metrics.registry import registry
from scorecard.metrics.slices import DIMENSIONS, sliced_metrics, worst_first
from scorecard.metrics.trends import series_from_table

AREAS = {"Accuracy & Benchmarks": "Accuracy", "Temporal Reliability": "Temporal reliability",
         "Performance Degradation": "Degradation", "Cost per Outcome": "Cost per outcome",
         "Latency Impact": "Latency", "Failure Recovery": "Failure recovery",
         "Explainability": "Explainability", "Auditability": "Auditability",
         "Bias over time": "Bias", "Appropriateness": "Appropriateness", "Trust": "Trust"}
ALL_AREAS = "All areas"
NO_SLICING = "nothing (one row per metric)"
SLICE_ROWS = 200  # a slice table shows the worst this many (ten thousand customers are many)

with st.container(key="page_title"):
    st.title("AI systems scorecard")
if ui.empty_store_notice():
    st.stop()
# On a phone the verdict comes first, under the title, and the window's controls after it
st.html("""<style>@media (max-width: 640px) {
  :has(> .st-key-page_title) { order: -2; } :has(> .st-key-verdict) { order: -1; }
  .st-key-page_title h1 { font-size: 1.75rem; padding-bottom: 0.25rem; }
}</style>""")
controls, verdict = st.container(key="controls"), st.container(key="verdict")

# -- the window: the newest event's day by default, or a day the reader pins -------------------
with controls:
    newest = ui.scorecard(ui.cache_key(), 7, None).window.as_of
    pinned = ui.pinned_day(st.query_params.get("as_of"))
    left, right = st.columns([1, 1])
    with left:
        window_days = st.selectbox("Window", [7, 14, 28], format_func=lambda d: f"Last {d} days",
                                   key="window_days")
    with right:
        as_of = st.date_input("As of (UTC day)", value=min(pinned or newest, newest),
                              max_value=newest,
                              key="as_of_day", format="YYYY-MM-DD")
        ui.commit_on_enter("as_of_day")
    if pinned and pinned > newest:
        st.info(f"The store has no events after {newest:%d %b %Y}, so the scorecard shows that "
                f"day rather than {pinned:%d %b %Y}.")
    if as_of != newest:
        st.query_params["as_of"] = as_of.isoformat()
    else:
        st.query_params.pop("as_of", None)
    pinned_as_of = None if as_of == newest else as_of.isoformat()  # None: one entry for "now"
    card = ui.scorecard(ui.cache_key(), window_days, pinned_as_of)
    w = card.window
    last_day = (w.end - pd.Timedelta(days=1)).date()
    st.markdown(f"**Window: {w.start:%a %d %b} – {last_day:%a %d %b %Y}** "
                f"(UTC, {w.window_days} days)"
                + (" · the newest data" if as_of == newest else f" · pinned; newest data is "
                   f"{newest:%d %b %Y}"))
    fresh = ui.freshness(ui.cache_key(), window_days, pinned_as_of)
    quiet = [f for f in fresh if f.quiet]
    st.caption("Newest events: " + " · ".join(
        f"{ui.as_text(f.system)} {f.newest:%d %b}" if f.newest else f"{ui.as_text(f.system)} none"
        for f in fresh)
        + ". Status: 🟢 on target · 🟠 watch · 🔴 act · ◌ too few events to judge · ⚪ no data.")
    for f in quiet:
        since = f"since {f.newest:%d %b %Y}" if f.newest else "yet"
        st.warning(f"{ui.as_text(f.system)} has logged nothing {since}: its numbers describe "
                   "an older period; check that its logging still works.")

# -- which systems need attention, and why --------------------------------------------------
grid = attention.area_grid(card)
flagged = attention.needing_attention(card)
driven = ui.attention_drivers(ui.cache_key(), window_days, pinned_as_of)
with verdict:
    st.subheader("Act first" if flagged else "Nothing in the red")
    if flagged:
        st.caption("Systems in the red, worst first: what each one risks, and the figure "
                   "furthest past its limit. The grid and the details below hold the rest.")
    for rank, item in enumerate(flagged, 1):
        why = f" — {driven[item.system]}" if item.system in driven else ""
        st.page_link("views/trends.py", label=ui.as_text(f"{rank}. {item.sentence}{why}"),
                     icon="🔴", query_params={"metric": item.metric, "system": item.system})
        if item.also:
            st.caption(f"Also in the red: {', '.join(AREAS[r.area].lower() for r in item.also)}.")


def open_cell(system: str, area: str) -> None:
    st.session_state["system"] = system
    st.session_state["area"] = area
    st.session_state["_scroll_to_details"] = True


ui.responsive_grid_css()
with st.container(key="grid_wide"):
    head = st.columns([1.7] + [1] * len(AREAS), gap="xxsmall")
    head[0].markdown("**System**")
    for col, short in zip(head[1:], AREAS.values()):
        header = short.replace("ability", "&shy;ability").replace("ateness", "ate&shy;ness")
        col.markdown(f"<small><b>{header}</b></small>", unsafe_allow_html=True)
    for system, rows in grid.items():
        line = st.columns([1.7] + [1] * len(AREAS), gap="xxsmall")
        line[0].markdown(f"**{ui.as_text(system)}**  \n"
                         f"{ui.badge(attention.system_status(rows))}")
        for i, (col, (area, status)) in enumerate(zip(line[1:], rows.items())):
            col.button(ui.short_badge(status), key=f"cell_{system}_{i}",
                       help=f"{ui.as_text(system)} · {AREAS[area]}: open its rows",
                       width="stretch",
                       on_click=open_cell, args=(system, area))
with st.container(key="grid_cards"):
    for system, rows in grid.items():
        with st.container(border=True):
            st.markdown(f"**{ui.as_text(system)}** · "
                        f"{ui.badge(attention.system_status(rows))}")
            shown = [(a, s) for a, s in rows.items() if s in ("red", "amber")] or list(rows.items())
            for area, status in shown:
                i = list(AREAS).index(area)
                st.button(f"{ui.short_badge(status)} {AREAS[area]}", key=f"card_{system}_{i}",
                          on_click=open_cell, args=(system, area), width="stretch")

# -- error budgets: how much of the month's allowance for bad events is spent ----------------
budget = ui.budget_report(ui.cache_key())
if budget.systems:
    st.subheader("Error budgets")
    st.caption(f"Each system's allowance for failures, slow answers and failed outcomes over "
               f"the 30 days to {budget.now:%d %b %H:%M} UTC, and any burn-rate alert "
               "firing now.")
    titles = [registry().get(b.metric).title for b in registry().budgets]
    st.markdown("\n".join([
        "| System | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|",
        *(f"| {ui.as_text(system)} | " + " | ".join(budget_cell(v) for v in ind.values()) + " |"
          for system, ind in budget.systems.items())]))

# -- the detailed rows ----------------------------------------------------------------------
st.subheader("Details", anchor="details")
if st.session_state.pop("_scroll_to_details", False):
    ui.scroll_to("details")  # the cell's rows, which are below the screen on most displays
c1, c2, c3 = st.columns(3)
with c1:
    system = ui.system_picker(card.systems, key="system")
with c2:
    area = st.selectbox("Area", [ALL_AREAS, *AREAS], key="area",
                        format_func=lambda a: AREAS.get(a, a))
with c3:
    dimension = st.selectbox("Slice by", [NO_SLICING, *DIMENSIONS], key="slice_by",
                             format_func=lambda d: d if d == NO_SLICING else d.capitalize())
values = card.scope(system)
base_period = card.baselines.get(system or "", {})
baseline_is_window = bool(base_period.get("end") and base_period["end"] > w.start)
th = ui.thresholds()
metrics = [(row, m) for row, ms in [("Volume", [registry().get("events")]),
                                    *registry().by_row().items()]
           if area == ALL_AREAS or row == area for m in ms]


def table_rows(week=None, base=None) -> list[dict]:
    """One row per metric; the change against the baseline and the 8-week sparkline once
    they are at hand."""
    base = (base or {}).get(system or "", {})
    rows = []
    for row_name, m in metrics:
        v = values[m.id]
        interval = ("" if v.ci_low is None else
                    f"{format_value(m, v.ci_low)} – {format_value(m, v.ci_high)}")
        spark = [] if week is None else [
            p.value for p in series_from_table(week, th, m.id, "week", system)
            if p.end <= w.end and p.value is not None][-8:]
        # what a reader steers by first (status, value, thresholds, direction), the long
        # words last, so at desktop width the numbers are on screen without scrolling
        rows.append({
            "Metric": m.title, "Status": ui.badge(v.status, v.insufficient),
            "Value": format_value(m, v.value),
            "Target / limit": target_and_limit(m, v.target, v.limit),
            "vs baseline": "" if baseline_is_window else format_change(m, v.value,
                                                                        base.get(m.id)),
            "Last 8 weeks": spark,
            "95% interval": interval,
            "n": "—" if v.n is None else f"{v.n:,} {m.sample_noun}",
            "In words": describe(m, v.value, {**v.extra, "n": v.n}),
            # the area only when the table holds several: the picker above says it otherwise
            **({"Area": AREAS.get(row_name, row_name)} if area == ALL_AREAS else {}),
        })
    return rows


def draw(rows: list[dict]) -> None:
    table.dataframe(
        pd.DataFrame(rows), hide_index=True, width="stretch", height=35 * len(rows) + 40,
        column_config={
            "Metric": st.column_config.TextColumn(pinned=True, width="medium"),
            "n": st.column_config.TextColumn("n", help="what the value rests on"),
            "vs baseline": st.column_config.TextColumn(
                help="change from the baseline period (the first 28 days, or pinned dates)"),
            "Last 8 weeks": st.column_config.LineChartColumn("Last 8 weeks"),
        })


def slice_rows(sliced, metric_ids: list[str]) -> list[dict]:
    """One row per slice of the chosen system (of each system, for all), worst first: its
    volume and spend, and each metric as status and value, judged by its own system's
    thresholds (too few events to judge marked, never hidden)."""
    rows = []
    for name, value in worst_first(sliced, [system] if system else card.systems,
                                   metric_ids)[:SLICE_ROWS]:
        values = sliced.slices(name)[value]
        row = {} if system else {"System": name}
        row.update({sliced.dimension.capitalize(): value,
                    "Spend": f"${sliced.spend.get(name, {}).get(value, 0.0):,.2f}"})
        for mid in metric_ids:
            v, m = values[mid], registry().get(mid)
            row[m.title] = f"{ui.short_badge('insufficient' if v.insufficient else v.status)} " \
                           f"{format_value(m, v.value)}"
        rows.append(row)
    return rows


if dimension != NO_SLICING:
    sliced = ui.slice_card(ui.cache_key(), dimension, window_days, pinned_as_of)
    shown = [m.id for _, m in metrics if m in sliced_metrics()]
    rows = slice_rows(sliced, shown)
    if not rows:
        st.info(f"No {dimension} has events in this window.")
    else:
        total = sum(len(sliced.slices(s)) for s in ([system] if system else card.systems))
        shown_of = f" (the {SLICE_ROWS} worst of {total:,})" if total > SLICE_ROWS else ""
        st.caption(f"One row per {dimension} of {ui.as_text(system or 'each system')}"
                   f"{shown_of}, the worst first (most red, then amber), each judged by its "
                   "system's thresholds. "
                   "◌ Few: too few events to judge. Only the metrics of the window's events are "
                   "computed per slice.")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={sliced.dimension.capitalize(): st.column_config.TextColumn(
                         pinned=True)})
else:
    # The numbers first; baseline changes and sparklines follow once computed (or cached).
    table = st.empty()
    draw(table_rows())
    if baseline_is_window:
        st.caption("No change against the baseline is shown: this system's baseline period "
                   "(its first 28 days) overlaps the window.")
    with st.expander("What these metrics measure and why they matter"):
        st.markdown("\n".join(f"- **{m.title}**: {m.measures} *{m.why}*" for _, m in metrics))
    draw(table_rows(ui.weekly_table(ui.cache_key()),
                    ui.baseline_values(ui.cache_key(), window_days, pinned_as_of)))

# -- the board report: the same numbers on one page, for rooms the app does not reach --------
with st.expander("Board report: this scorecard on one page, to download"):
    st.caption("The 7 days to the day shown above, all systems: verdicts, what is red and why, "
               "the questions for leaders with their sign-offs, three trends and the error "
               "budgets; the same numbers as this page.")
    if st.button("Prepare the board report", icon=":material/description:", key="report_make"):
        st.session_state["report_ready"] = True
    if st.session_state.get("report_ready"):
        stamp = f"{w.as_of:%Y-%m-%d}"
        left, right = st.columns(2)
        left.download_button("Download (HTML)",
                             ui.board_report_html(ui.records_key(), None, pinned_as_of),
                             file_name=f"board-report-{stamp}.html", mime="text/html",
                             icon=":material/download:", key="report_html")
        try:
            right.download_button("Download (PDF)",
                                  ui.board_report_pdf(ui.records_key(), None, pinned_as_of),
                                  file_name=f"board-report-{stamp}.pdf", mime="application/pdf",
                                  icon=":material/picture_as_pdf:", key="report_pdf")
        except ScorecardError as exc:
            right.error(ui.plain(str(exc)))
