"""Audit: who loaded what, who changed which threshold, who signed off, who signed in."""

from datetime import date, timedelta

import streamlit as st

import ui
from scorecard.metrics.audit_view import readable
from scorecard.store.audit import AUDIT_TABLES, audit_rows

st.title("Audit log")
ui.require("audit")
c1, c2 = st.columns([1, 1])
who = c1.text_input("Person (part of the name)", key="audit_who")
today = date.today()
days = c2.date_input("Between (UTC days)", value=(today - timedelta(days=90), today),
                     key="audit_days")
since, until = (days if isinstance(days, tuple) and len(days) == 2 else (None, None))

for table, tab in zip(AUDIT_TABLES, st.tabs([t.title for t in AUDIT_TABLES])):
    with tab:
        rows = readable(audit_rows(ui.store(), table, who=who.strip() or None, since=since,
                                   until=until))
        if rows.empty:
            st.caption("Nothing recorded for this filter.")
            continue
        st.caption(f"{len(rows):,} entr{'y' if len(rows) == 1 else 'ies'}, newest first.")
        st.dataframe(rows, hide_index=True, width="stretch")
        st.download_button(f"Download {table.title.lower()} (CSV)", rows.to_csv(index=False),
                           file_name=f"audit-{table.table}.csv", mime="text/csv",
                           key=f"dl_{table.table}")
