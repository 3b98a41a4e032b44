"""Audit: who loaded what, who changed which threshold, who signed off, who signed in."""

from datetime import date, timedelta

import streamlit as st

import ui
from scorecard.exports import safe_csv
from scorecard import actions
from scorecard.errors import ScorecardError
from scorecard.metrics.audit_view import readable
from scorecard.sessions import list_sessions
from scorecard.settings import config_dir
from scorecard.store import retention
from scorecard.store.audit import AUDIT_TABLES, audit_rows

st.title("Audit log")
ui.require("audit")
c1, c2 = st.columns([1, 1])
who = c1.text_input("Person (part of the name)", key="audit_who")
today = date.today()
days = c2.date_input("Between (UTC days)", value=(today - timedelta(days=90), today),
                     key="audit_days")
since, until = (days if isinstance(days, tuple) and len(days) == 2 else (None, None))



def end_sessions_form() -> None:
    """Sign a user, or everyone, out everywhere: their open sessions end at once."""
    open_sessions = list_sessions(ui.store())
    if not open_sessions:
        st.caption("No session is open.")
        return
    people = sorted({s["username"] for s in open_sessions})
    st.caption(f"{len(open_sessions)} open session{'s' if len(open_sessions) != 1 else ''} "
               f"({', '.join(people)}).")
    with st.form("end_sessions"):
        whose = st.selectbox("Sign out everywhere", ["everyone", *people], key="end_whose")
        if st.form_submit_button("End these sessions now"):
            try:
                ended = actions.end_sessions(ui.store(), ui.directory(), ui.username(),
                                             None if whose == "everyone" else whose)
                st.success(f"{ended} session{'s' if ended != 1 else ''} ended.")
            except ScorecardError as exc:
                st.error(ui.plain(str(exc)))


def retention_section() -> None:
    """Preview what the retention would remove (a dry run, always shown), then remove it."""
    if done := st.session_state.pop("_retention_done", None):
        st.success(done)
    in_force = ui.retention_days()
    last = retention.last_run(ui.store())
    st.caption(f"store.yaml keeps {in_force} days. " + (
        f"Last applied on {last['recorded_at']:%d %b %Y %H:%M} UTC by "
        f"{ui.as_text(last['actor'])} ({last['keep_days']} days)." if last
        else "It has not been applied yet."))
    days = int(st.number_input("Keep (days)", 1, 36500, value=in_force, key="ret_days"))
    plan = retention.plan(ui.store(), days)
    gone = {name: n for name, n in plan.removed.items() if n}
    st.markdown(f"Removing what is older than **{plan.cutoff:%d %b %Y %H:%M} UTC** would take "
                + (", ".join(f"{n:,} {name}" for name, n in gone.items()) if gone
                   else "nothing") + "." + (f" The oldest event kept would be from "
                                            f"{plan.oldest_kept:%d %b %Y}." if plan.oldest_kept
                                            else " No event would be left."))
    force = False
    if days < retention.MINIMUM_DAYS:
        st.warning(f"{days} days is below six months ({retention.MINIMUM_DAYS} days), which the "
                   "EU AI Act asks deployers to keep logs for.")
        force = st.checkbox("Keep less than six months all the same", key="ret_force")
    if gone and st.button("Remove them now", icon=":material/delete_sweep:", key="ret_go",
                          disabled=ui.store().read_only):
        try:
            with st.spinner("Removing and bringing the daily summaries up to date..."):
                run = actions.keep_to_retention(ui.store(), config_dir(), ui.directory(),
                                                ui.username(), days, force)
            st.session_state["_retention_done"] = (
                f"Removed {sum(run.removed.values()):,} rows older than {run.cutoff:%d %b %Y}; "
                "the run is recorded.")
            st.rerun()  # the preview above then counts what is left
        except ScorecardError as exc:
            st.error(ui.plain(str(exc)))


with st.expander("Retention: remove what is older than the logs must be kept",
                 expanded="_retention_done" in st.session_state):
    retention_section()

for table, tab in zip(AUDIT_TABLES, st.tabs([t.title for t in AUDIT_TABLES])):
    with tab:
        rows = readable(audit_rows(ui.store(), table, who=who.strip() or None, since=since,
                                   until=until))
        if table.table == "sessions":
            end_sessions_form()
        if rows.empty:
            st.caption("Nothing recorded for this filter.")
            continue
        st.caption(f"{len(rows):,} entr{'y' if len(rows) == 1 else 'ies'}, newest first.")
        st.dataframe(rows, hide_index=True, width="stretch")
        st.download_button(f"Download {table.title.lower()} (CSV)", safe_csv(rows),
                           file_name=f"audit-{table.table}.csv", mime="text/csv",
                           key=f"dl_{table.table}")
