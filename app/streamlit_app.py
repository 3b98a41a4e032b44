"""The scorecard web app: sign-in, then only the pages the user's role may use.

Sessions live on the server (scorecard.sessions): the browser's cookie holds a random token,
and every run checks it in the store, so an ended session is over wherever its cookie is.
streamlit-authenticator checks passwords against the users file's bcrypt hashes; its own JWT
cookie is not used, because nothing could end one before it expired. A company sign-in (OpenID
Connect, company_sign_in.py) opens the same kind of session."""

import html
import os
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st
import streamlit_authenticator as stauth

import company_sign_in
import cookies
import ui
from scorecard import sessions
from scorecard.errors import ScorecardError, StoreBusy
from scorecard.sessions import load_policy
from scorecard.settings import config_dir
from scorecard.users import ACTIONS, ROLE_TITLES, Directory, can, dummy_password_hash

os.umask(0o077)  # uploads, maps, thresholds and the store's files are the owner's alone
st.set_page_config(page_title="AI Scorecard", page_icon="📊", layout="wide")

# (page, title, icon, capability); a role is offered only the pages its capabilities allow
PAGES = [
    ("views/scorecard.py", "Scorecard", ":material/dashboard:", "read"),
    ("views/trends.py", "Trends", ":material/show_chart:", "read"),
    ("views/questions.py", "Questions for leaders", ":material/checklist:", "read"),
    ("views/releases.py", "Releases", ":material/compare_arrows:", "read"),
    ("views/costs.py", "Cost attribution", ":material/payments:", "read"),
    ("views/thresholds.py", "Thresholds", ":material/tune:", "edit_thresholds"),
    ("views/upload.py", "Upload", ":material/upload_file:", "upload"),
    ("views/audit.py", "Audit", ":material/policy:", "audit"),
    ("views/evidence.py", "Evidence", ":material/verified:", "evidence"),
    ("views/digests.py", "Digests", ":material/forward_to_inbox:", "digests"),
]


COOKIE = "scorecard_session"  # holds only a random token; the session itself is in the store
NOT_A_MATCH = "That username and password do not match a sign-in."


def client_address() -> str:
    """The address the browser connects from ('local' on this machine)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"


def write_cookie(token: str, policy) -> None:
    """Give the browser the session token: SameSite Strict, Secure over HTTPS, gone when the
    session's lifetime ends. (Set from the page, so it cannot be HttpOnly; the server-side
    check is what makes a copied token useless once the session has ended.)"""
    expires = datetime.now(timezone.utc) + timedelta(days=policy.lifetime_days)
    cookies.write(COOKIE, token, expires, key="cookie_set")


def _wait_words(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} second{'s' if round(seconds) > 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def attempt_sign_in(username: str, password: str, directory: Directory, policy) -> None:
    """Check a sign-in, throttled per username and client; on success start a session."""
    name, client, ledger = username.strip().lower()[:64], client_address(), ui.security_ledger()
    entry, role = directory.usernames.get(name), directory.role(name)
    stored = (entry or {}).get("password") or dummy_password_hash()
    outcome = sessions.attempt(ledger, name, role, client, policy, lambda: bool(
        stauth.Hasher.check_pw(password, stored) and entry and role))
    if outcome.wait > 0:
        st.error(f"Too many failed sign-ins for this username or from this address; try again "
                 f"in {_wait_words(outcome.wait)}.")
        return
    if not outcome.matched:
        st.error(NOT_A_MATCH + (f" Sign-ins for this username are paused for "
                                f"{_wait_words(policy.lock_minutes * 60)}."
                                if outcome.locked else ""))
        return
    sessions.record_attempt(ledger, name, role, "sign_in", client)
    if ui.store().read_only:  # nowhere to keep a session: this tab only, no cookie
        st.session_state["_tab_user"] = (name, None)
    else:
        token = sessions.start_session(ui.store(), name, role, entry["password"], client, policy)
        st.session_state["_token"] = token
        st.session_state["_cookie_pending"] = token
    st.rerun()


def preload_page_code() -> None:
    """While the person types, let the browser fetch and compile the code of the elements the
    scorecard draws (about 2 MB of JavaScript, most of a second on a slow machine) by drawing
    one of each, hidden. They hold nothing from the store."""
    with st.container(key="preload"):
        st.html("<style>.st-key-preload { display: none; }</style>")
        st.dataframe(pd.DataFrame({"x": [[0.0, 1.0]]}),
                     column_config={"x": st.column_config.LineChartColumn()})
        st.date_input("preload day", key="preload_day", label_visibility="collapsed")
        st.selectbox("preload choice", ["-"], key="preload_choice",
                     label_visibility="collapsed")
        st.markdown("<span></span>", unsafe_allow_html=True)


def sign_in_page(directory: Directory, policy, url_path: str) -> None:
    st.title("AI systems scorecard")
    st.caption("Dependable, economical, resilient: the numbers to steer your AI systems by.")
    providers, sso_problem = company_sign_in.configured()
    if not directory.usernames and not providers:
        st.info("No sign-ins exist yet. An administrator adds one with "
                "`scorecard users add NAME --role admin` (the password is read from standard "
                "input), or sets up company sign-in (see the README's Security section).")
        if sso_problem:
            st.warning(sso_problem)
        return
    if st.session_state.pop("_cookie_delete", False):
        # in a run the browser sees, so a reload stays signed out
        cookies.delete(COOKIE, key="cookie_delete")
    ended = st.session_state.pop("_ended", None)
    if ended:
        st.info(f"You are signed out: {ended}. Sign in again to continue.")
    company_sign_in.refusal()
    company_sign_in.buttons(providers, sso_problem)
    if providers:
        company_sign_in.remember_return(url_path)
    if directory.usernames:
        with st.form("sign_in"):
            st.subheader("Sign in" if not providers else "Or sign in with a password")
            username = st.text_input("Username", key="signin_username")
            password = st.text_input("Password", type="password", key="signin_password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            attempt_sign_in(username, password, directory, policy)
    preload_page_code()
    ui.prefetch()


def signed_in_user(directory: Directory, policy) -> tuple[str | None, str | None]:
    """Who this run belongs to, checked on the server every run, and the role of a company
    sign-in (None for a password sign-in, whose role the directory gives): the session this tab
    opened, the one the browser's cookie names, or a fresh company sign-in. A session that has
    ended, or a cookie that opens none, signs the tab out (recorded in the audit log once)."""
    if st.session_state.get("_tab_user"):
        name, company_role = st.session_state["_tab_user"]
        return (name, company_role) if company_role or directory.role(name) else (None, None)
    token = st.session_state.get("_token") or cookies.read(COOKIE)
    if token and (not ui.store().read_only or ui.reading_the_copy()):
        result = sessions.check_session(ui.store(), token, directory, policy)
        if isinstance(result, sessions.Session):
            if "_token" not in st.session_state:
                st.session_state["_token"] = token
                sessions.record_attempt(ui.security_ledger(), result.username, result.role,
                                        "resumed", client_address())
            return result.username, result.role if result.company else None
        st.session_state.pop("_token", None)
        st.session_state["_cookie_delete"] = True
        if st.session_state.get("_refused_token") != token:
            st.session_state["_refused_token"] = token
            st.session_state["_ended"] = result.reason
            if result.reason != "signed out":
                sessions.record_attempt(ui.store(), "(unknown)", None, "refused",
                                        client_address(),
                                        detail=f"sign-in cookie refused: {result.reason}")
    arrived = company_sign_in.arrival(policy, client_address())
    if arrived is None:
        return None, None
    if arrived["token"]:
        st.session_state["_token"] = st.session_state["_cookie_pending"] = arrived["token"]
        st.session_state.pop("_cookie_delete", None)
        st.session_state.pop("_ended", None)
    else:  # a read-only store keeps no sessions: this tab only, no cookie
        st.session_state["_tab_user"] = (arrived["username"], arrived["role"])
    st.session_state["_return_to"] = company_sign_in.returned_page()
    return arrived["username"], arrived["role"]


def go_to(page) -> None:
    st.switch_page(page, query_params=st.query_params.to_dict())


def not_for_this_role(title: str, role: str, capability: str) -> None:
    st.title(title)
    st.info(f"The {title} page is not available to your role ({ROLE_TITLES[role]}): it is "
            f"for those who {ACTIONS[capability]}. An admin can give you that role.")


def sign_out(username: str, role: str, company: bool) -> None:
    """End this session; a company sign-in also signs out of the identity provider's account
    here (Streamlit's identity cookie), so the next person at this browser starts afresh."""
    if st.session_state.get("_token"):
        sessions.end_sessions(ui.store(), by=username, reason="signed out",
                              token=st.session_state["_token"])
    sessions.record_attempt(ui.security_ledger(), username, role, "sign_out", client_address())
    for key in ("_token", "_tab_user", "signed_in", "_cookie_pending", "signed_in_company"):
        st.session_state.pop(key, None)
    st.session_state["_cookie_delete"] = True
    st.session_state["_refused_token"] = cookies.read(COOKIE)  # not recorded as refused again
    if company:
        st.logout()
        st.stop()
    st.rerun()


def main() -> None:
    st.session_state.pop("signed_in_company", None)  # set again below, from the session
    directory, policy = ui.directory(), load_policy(config_dir())
    username, company_role = signed_in_user(directory, policy)
    if username and company_role:
        st.session_state["signed_in_company"] = {"username": username, "role": company_role}
        directory = directory.including(st.session_state["signed_in_company"])
    st.session_state["signed_in"] = username
    role = directory.role(username)  # from the directory or the server-side session
    if username is None or role is None:
        # every page's link leads to the sign-in form, and after signing in to that page
        st.navigation([st.Page(partial(sign_in_page, directory, policy, url_path),
                               title="Sign in", icon=":material/login:", url_path=url_path,
                               default=url_path == "sign-in")
                       for url_path in ["sign-in", *(Path(p).stem for p, *_ in PAGES)]],
                      position="hidden").run()
        st.stop()

    first = Path(PAGES[0][0]).stem
    pages = {Path(path).stem: st.Page(path, title=title, icon=icon, default=stem == first,
                                      url_path="home" if stem == first else None)
             for path, title, icon, capability in PAGES if can(role, capability)
             for stem in [Path(path).stem]}
    # the landing page is served at the root; a link to its name is taken there, not to
    # "Page not found", and a link to a page this role may not use says so
    alias = st.Page(partial(go_to, pages[first]), title=PAGES[0][1], url_path=first,
                    visibility="hidden")
    elsewhere = {Path(path).stem: st.Page(partial(not_for_this_role, title, role, capability),
                                          title=title, icon=icon, url_path=Path(path).stem,
                                          visibility="hidden")
                 for path, title, icon, capability in PAGES if not can(role, capability)}
    navigation = st.navigation([*pages.values(), alias, *elsewhere.values()])
    back_to, choices = st.session_state.pop("_return_to", ("", {}))
    linked = pages.get(back_to) or elsewhere.get(back_to)
    if linked:  # the page a link asked for before the company sign-in
        st.switch_page(linked, query_params=choices)
    pending = st.session_state.pop("_cookie_pending", None)
    if pending:
        # set the cookie in a run that lasts long enough for the browser to store it
        write_cookie(pending, policy)
    with st.sidebar:
        name = directory.usernames[username].get("name") or username
        # as HTML text, so an e-mail address (a company sign-in's name) is not made a link
        st.html(f"<p><b>{html.escape(name)}</b><br>{ROLE_TITLES[role]}</p>")
        if st.button("Sign out", icon=":material/logout:"):
            sign_out(username, role, company=bool(company_role))
    if ui.reading_the_copy():
        st.info("An upload is being loaded: the numbers are those from before it, and changes "
                "wait until it has finished. Reload in a moment for the new data.",
                icon=":material/hourglass_top:")
    navigation.run()


# The store is open only while a page runs, so other programs can write to it in between.
# Whatever goes wrong, the person sees one plain sentence, never a traceback or a server path.
try:
    with ui.store_for_this_run():
        main()
except StoreBusy:
    st.warning("The store is being updated by another program (a `scorecard ingest` is "
               "running). The scorecard is back as soon as it finishes; reload in a moment.")
except ScorecardError as exc:
    st.error(ui.plain(str(exc)))
except Exception:  # noqa: BLE001 - the last line of defence, logged with an id
    st.error(ui.unexpected_error())
