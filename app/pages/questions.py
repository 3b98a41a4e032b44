"""Questions for leaders: five questions answered from the data, each with a sign-off."""

import streamlit as st

import ui
from scorecard.errors import ScorecardError
from scorecard.metrics.checklist import questions
from scorecard.metrics.signoff import record_signoff, signoff_history

st.title("Questions for leaders")
if ui.empty_store_notice():
    st.stop()
card = ui.scorecard(ui.cache_key(), 7, None)
system = ui.system_picker(card.systems, key="q_system")
answers = questions(card, ui.thresholds(), ui.weekly_table(ui.cache_key()), system)
for answer in answers:
    with st.container(border=True):
        st.markdown(f"**{answer.question}**  \n{ui.badge(answer.status)}")
        st.write(answer.answer)
        if answer.metrics:
            st.caption("Evidence: see Trends for " + ", ".join(answer.metrics))
        with st.form(f"signoff_{answer.id}"):
            who = st.text_input("Signed off by", key=f"who_{answer.id}")
            note = st.text_input("Note", key=f"note_{answer.id}")
            if st.form_submit_button("Sign off"):
                try:
                    record_signoff(ui.store(), actor=who, question=answer.id, system=system,
                                   status=answer.status, note=note, as_of=card.window.as_of)
                    st.success("Signed off.")
                except ScorecardError as exc:
                    st.error(str(exc))
        history = signoff_history(ui.store(), answer.id)
        if history:
            st.dataframe(history, hide_index=True)
