"""Entry point of the web app (replaced by the full scorecard in the app issue)."""

import streamlit as st

st.set_page_config(page_title="AI Scorecard", layout="wide")
st.title("AI Scorecard")
st.write("The store is ready; the scorecard pages arrive with the metrics layer.")
