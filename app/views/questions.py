"""Questions for leaders: five questions answered from the data, each with a sign-off."""

import streamlit as st

import ui
from scorecard import actions
from scorecard.errors import ScorecardError
from scorecard.metrics.checklist import questions
from scorecard.metrics.registry import registry
from scorecard.store import records
from scorecard.users import can

st.title("Questions for leaders")
if ui.empty_store_notice():
    st.stop()
card = ui.scorecard(ui.cache_key(), 7, None)
system = ui.system_picker(card.systems, key="q_system")
answers = questions(card, ui.thresholds(), ui.weekly_table(ui.cache_key()), system)
for answer in answers:
    with st.container(border=True):
        st.markdown(f"**{answer.question}**  \n{ui.badge(answer.status)}")
        st.markdown(ui.as_text(answer.answer))  # names from the data shown as text
        if answer.metrics:
            links = st.columns(len(answer.metrics) + 1)
            links[0].caption("Evidence:")
            for col, metric_id in zip(links[1:], answer.metrics):
                col.page_link("views/trends.py", label=registry().get(metric_id).title,
                              icon=":material/show_chart:",
                              query_params={"metric": metric_id, **({"system": system}
                                                                     if system else {})})
        if can(ui.role(), "sign_off"):
            with st.form(f"signoff_{answer.id}", clear_on_submit=True):
                note = st.text_input("Note", key=f"note_{answer.id}",
                                     placeholder="What was decided, or what to watch")
                if st.form_submit_button(f"Sign off as {ui.username()}"):
                    try:
                        actions.sign_off(ui.store(), ui.directory(), ui.username(),
                                         question=answer.id, system=system, status=answer.status,
                                         note=note, as_of=card.window.as_of)
                        st.success("Signed off.")
                    except ScorecardError as exc:
                        st.error(ui.plain(str(exc)))
        history = records.signoffs(ui.store(), answer.id)
        if history:
            st.dataframe([{"When (UTC)": f"{h['recorded_at']:%d %b %Y %H:%M}", "Who": h["actor"],
                           "System": h["system"], "Status then": ui.badge(h["status"]),
                           "Note": h["note"], "Data as of": f"{h['as_of']:%d %b %Y}"}
                          for h in history], hide_index=True)
