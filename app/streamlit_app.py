"""The scorecard web app: navigation over thin pages that ask the metrics layer and draw."""

import streamlit as st

st.set_page_config(page_title="AI Scorecard", page_icon="📊", layout="wide")

pages = [
    st.Page("pages/scorecard.py", title="Scorecard", icon="📊", default=True),
    st.Page("pages/trends.py", title="Trends", icon="📈"),
    st.Page("pages/questions.py", title="Questions for leaders", icon="❓"),
]
st.navigation(pages).run()
