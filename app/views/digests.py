"""Digests: who gets the scorecard by itself (e-mail, Slack or a webhook), when, and whether it
arrived; admins add and change subscriptions and send a test now."""

from zoneinfo import available_timezones

import pandas as pd
import streamlit as st

import ui
from scorecard import actions
from scorecard.digests import ledger
from scorecard.digests.config import WEEKDAYS, DigestsConfig, Smtp, load, parse
from scorecard.digests.overview import overview
from scorecard.errors import ScorecardError
from scorecard.settings import config_dir
from scorecard.users import ROLE_TITLES, ROLES

st.title("Digests")
ui.require("digests")
st.caption("The scorecard sent to leaders by itself: each subscription once per period, by "
           "e-mail (with the one-page board report attached) or to Slack or a webhook. "
           "`scorecard digest` sends what is due; run it from cron or a systemd timer, or "
           "start the app with `scorecard serve --digests`.")

NEW = "➕ New subscription"
DELIVERY = {"email": "E-mail", "slack": "Slack", "json": "Webhook (JSON)"}
cfg = config_dir()
version = st.session_state.setdefault("_digests_version", 0)  # forms start afresh after a save

try:
    config = load(cfg)
except ScorecardError as exc:
    st.error(ui.plain(str(exc)) + " Correct the file on the server; nothing is sent until then.")
    st.stop()


def saved(message: str) -> None:
    st.session_state["_digests_version"] = version + 1
    st.session_state["_digests_message"] = message
    st.rerun()


def save(new_config: dict) -> None:
    try:
        actions.save_digests(cfg, ui.directory(), ui.username(), parse(new_config))
    except ScorecardError as exc:
        st.error(ui.plain(str(exc)))
        return
    saved("Saved. The next run of `scorecard digest` sends by the new settings.")


if message := st.session_state.pop("_digests_message", None):
    st.success(message)

# -- where each subscription stands -----------------------------------------------------------
if not config.subscriptions:
    st.info("No digest is set up yet. Add a subscription below: who receives it, whose view "
            "(role) it shows, which systems, and when.")
else:
    rows = overview(ui.store(), config)
    failing = sum(r["Problem"] != "✓ none" for r in rows)
    st.caption(f"{len(rows)} subscription{'s' if len(rows) != 1 else ''}"
               + (f"; ⚠ {failing} failed at the last try and will be tried again." if failing
                  else "; none failing."))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    test_name = c1.selectbox("Send a test of", [s.name for s in config.subscriptions],
                             key="digest_test_name")
    if c2.button("Send a test now", icon=":material/send:", key="digest_test"):
        with st.spinner("Composing the digest and printing the board report..."):
            try:
                problem = actions.send_test_digest(ui.store(), cfg, ui.directory(),
                                                   ui.username(), test_name)
            except ScorecardError as exc:
                problem = str(exc)
        if problem:
            st.error(ui.plain(problem))
        else:
            st.success(ui.as_text(f"Sent a test of '{test_name}' to "
                                  f"{config.get(test_name).where()}."))

# -- add or change a subscription -------------------------------------------------------------
st.subheader("Add or change a subscription")
names = [s.name for s in config.subscriptions]
chosen = st.selectbox("Subscription", [NEW, *names], key=f"digest_pick_{version}")
current = config.get(chosen) if chosen != NEW else None
known_systems = ui.scorecard(ui.cache_key(), 7, None).systems if ui.has_events() else []
zones = sorted(available_timezones())

with st.form(f"digest_form_{version}_{chosen}"):
    name = st.text_input("Name (letters, digits, - and _)", value=current.name if current else "",
                         disabled=current is not None)
    c1, c2 = st.columns(2)
    role = c1.selectbox("Whose view it shows", ROLES, format_func=ROLE_TITLES.get,
                        index=ROLES.index(current.role) if current else 0)
    chosen_systems = c2.multiselect("Systems (none: all systems)", known_systems,
                                    default=[s for s in (current.systems if current else [])
                                             if s in known_systems])
    delivery_now = ("email" if not current or current.email else current.webhook.format)
    delivery = st.radio("Sent by", list(DELIVERY), format_func=DELIVERY.get, horizontal=True,
                        index=list(DELIVERY).index(delivery_now))
    recipients = st.text_input("E-mail recipients (comma-separated)",
                               value=", ".join(current.email) if current else "")
    url = st.text_input("Webhook URL (Slack's incoming webhook, or any https:// address)",
                        value=current.webhook.url if current and current.webhook else "")
    c1, c2, c3, c4 = st.columns(4)
    sched = current.schedule if current else None
    every = c1.selectbox("Every", ["week", "day"], index=0 if not sched or sched.every == "week"
                         else 1)
    day = c2.selectbox("On (weekly)", WEEKDAYS, format_func=str.capitalize,
                       index=WEEKDAYS.index(sched.day) if sched else 0)
    hour = c3.number_input("At hour", 0, 23, value=sched.hour if sched else 8)
    zone = c4.selectbox("Time zone", zones, index=zones.index(sched.time_zone if sched
                                                              else "UTC"))
    submitted = st.form_submit_button("Save subscription", type="primary")

if submitted:
    entry = {"name": current.name if current else name.strip(), "role": role,
             "systems": chosen_systems,
             "schedule": {"every": every, "day": day, "hour": int(hour), "time_zone": zone}}
    if delivery == "email":
        entry["email"] = [a.strip() for a in recipients.split(",") if a.strip()]
    else:
        entry["webhook"] = {"name": entry["name"], "url": url.strip(), "format": delivery}
    data = config.model_dump(mode="json")
    data["subscriptions"] = [entry if s["name"] == entry["name"] else s
                             for s in data["subscriptions"]]
    if not current:
        if entry["name"] in names:
            st.error(f"A subscription named '{ui.as_text(entry['name'])}' exists already; "
                     "pick it above to change it.")
            st.stop()
        data["subscriptions"].append(entry)
    save(data)

if current and st.button(f"Remove '{current.name}'", icon=":material/delete:",
                         key=f"digest_remove_{version}"):
    data = config.model_dump(mode="json")
    data["subscriptions"] = [s for s in data["subscriptions"] if s["name"] != current.name]
    save(data)

# -- the mail server ---------------------------------------------------------------------------
st.subheader("Mail server and link")
smtp = config.smtp or Smtp(host="localhost")
with st.form(f"smtp_form_{version}"):
    c1, c2, c3 = st.columns([3, 1, 1])
    host = c1.text_input("SMTP host", value=config.smtp.host if config.smtp else "")
    port = c2.number_input("Port", 1, 65535, value=smtp.port)
    security = c3.selectbox("Security", ["starttls", "tls", "none"],
                            index=["starttls", "tls", "none"].index(smtp.security))
    c1, c2, c3 = st.columns(3)
    user = c1.text_input("User (empty: no sign-in)", value=smtp.user or "")
    password_env = c2.text_input("Password from the environment variable",
                                 value=smtp.password_env)
    sender = c3.text_input("Sender address", value=smtp.sender)
    app_url = st.text_input("The app's address, for the link in each digest",
                            value=config.app_url)
    st.caption("The password is never stored: the program that sends reads it from the "
               "environment variable named here.")
    if st.form_submit_button("Save mail server"):
        data = config.model_dump(mode="json")
        data["app_url"] = app_url.strip()
        data["smtp"] = ({**(data.get("smtp") or {}), "host": host.strip(), "port": int(port),
                         "security": security, "user": user.strip() or None,
                         "password_env": password_env.strip(), "sender": sender.strip()}
                        if host.strip() else None)
        save(data)

# -- what was sent -----------------------------------------------------------------------------
st.subheader("Sent and failed")
sent = ledger.history(ui.store())
if not sent:
    st.caption("Nothing has been sent yet.")
else:
    st.dataframe(pd.DataFrame([{
        "When (UTC)": f"{r['recorded_at']:%d %b %Y %H:%M}", "Subscription": r["subscription"],
        "Period": "test" if r["period"] == ledger.TEST_PERIOD else r["period"],
        "Result": "✓ sent" if r["step"] == ledger.SENT else f"⚠ failed: {r['detail']}"}
        for r in sent]), hide_index=True, width="stretch")
