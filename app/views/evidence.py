"""Governance evidence: which clause of the NIST AI RMF and the EU AI Act each measurement
speaks to, its value now and lately, and the pack of records to hand to a reviewer."""

import pandas as pd
import streamlit as st

import ui
from scorecard.board.evidence import NOT_A_CERTIFICATE, evidence_rows
from scorecard.errors import ScorecardError

st.title("Governance evidence")
ui.require("evidence")
if ui.empty_store_notice():
    st.stop()
st.info(NOT_A_CERTIFICATE)
try:
    rows, _ = evidence_rows(ui.store(), ui.thresholds())
except ScorecardError as exc:
    st.error(ui.plain(str(exc)))
    st.stop()
st.dataframe(pd.DataFrame([{
    "Clause": r.clause, "What it asks": r.asks, "What the scorecard measures": r.measures,
    "Now (all systems)": r.now, "Last 8 weeks": r.history, "Records in the pack": r.records}
    for r in rows]), hide_index=True, width="stretch")
if st.button("Prepare the evidence pack", icon=":material/inventory_2:", key="pack_make"):
    st.session_state["pack_ready"] = True
if st.session_state.get("pack_ready"):
    st.download_button("Download the pack (zip)", ui.evidence_zip(ui.records_key()),
                       file_name="evidence-pack.zip", mime="application/zip",
                       icon=":material/download:", key="pack_zip")
    st.caption("index.html, clauses.csv and the records behind them: threshold changes with "
               "who and why, sign-offs, uploads, incidents with their 15-day reporting dates, "
               "retention and audit coverage.")
