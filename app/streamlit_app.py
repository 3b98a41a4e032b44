"""The scorecard web app: sign-in, then only the pages the user's role may use.

Sessions live on the server (scorecard.sessions): the browser's cookie holds a random token,
and every run checks it in the store, so an ended session is over wherever its cookie is.
streamlit-authenticator checks passwords against the users file's bcrypt hashes; its own JWT
cookie is not used, because nothing could end one before it expired."""

import importlib
import os
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import extra_streamlit_components as stx
import pandas as pd
import streamlit as st
import streamlit_authenticator as stauth

import ui
from scorecard import sessions
from scorecard.errors import ScorecardError, StoreBusy
from scorecard.sessions import load_policy
from scorecard.settings import config_dir
from scorecard.users import ROLE_TITLES, Directory, can, dummy_password_hash

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
_cookie_component = importlib.import_module(stx.CookieManager.__module__)._component_func
NOT_A_MATCH = "That username and password do not match a sign-in."


def client_address() -> str:
    """The address the browser connects from ('local' on this machine)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"


def cookie_token() -> str | None:
    """The session token in the browser's cookie, if it sent one."""
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) and value else None


def _over_https() -> bool:
    proto, url = st.context.headers.get("X-Forwarded-Proto"), st.context.url
    return (isinstance(proto, str) and proto.lower() == "https") or (
        isinstance(url, str) and url.startswith("https:"))


def _hide_cookie_frame() -> None:
    """The cookie component draws an empty frame; keep it from taking space on the page."""
    st.html('<style>.element-container:has(iframe[height="0"]) { display: none; }</style>')


def write_cookie(token: str, policy) -> None:
    """Give the browser the session token: SameSite Strict, Secure over HTTPS, gone when the
    session's lifetime ends. (Set from the page, so it cannot be HttpOnly; the server-side
    check is what makes a copied token useless once the session has ended.)"""
    expires = datetime.now(timezone.utc) + timedelta(days=policy.lifetime_days)
    _hide_cookie_frame()
    _cookie_component(method="set", cookie=COOKIE, value=token, key="cookie_set", default=False,
                      options={"path": "/", "expires": expires.isoformat(), "sameSite": "strict",
                               **({"secure": True} if _over_https() else {})})


def delete_cookie() -> None:
    _hide_cookie_frame()
    _cookie_component(method="delete", cookie=COOKIE, key="cookie_delete", default=False)


def _wait_words(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} second{'s' if round(seconds) > 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def attempt_sign_in(username: str, password: str, directory: Directory, policy) -> None:
    """Check a sign-in, throttled per username and client; on success start a session."""
    name, client, ledger = username.strip().lower()[:64], client_address(), ui.security_ledger()
    wait = sessions.wait_before_attempt(ledger, name, client, policy)
    if wait > 0:
        st.error(f"Too many failed sign-ins for this username or from this address; try again "
                 f"in {_wait_words(wait)}.")
        return
    entry = directory.usernames.get(name)
    stored = (entry or {}).get("password") or dummy_password_hash()
    matches = stauth.Hasher.check_pw(password, stored)
    role = directory.role(name)
    if not (entry and matches and role):
        locked = sessions.record_failure(ledger, name, role, client, policy)
        st.error(NOT_A_MATCH + (f" Sign-ins for this username or from this address are paused "
                                f"for {_wait_words(policy.lock_minutes * 60)}." if locked else ""))
        return
    sessions.record_attempt(ledger, name, role, "sign_in", client)
    if ui.store().read_only:  # nowhere to keep a session: this tab only, no cookie
        st.session_state["_tab_user"] = name
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


def sign_in_page(directory: Directory, policy) -> None:
    st.title("AI systems scorecard")
    st.caption("Dependable, economical, resilient: the numbers to steer your AI systems by.")
    if not directory.usernames:
        st.info("No sign-ins exist yet. An administrator adds one with "
                "`scorecard users add NAME --role admin` (the password is read from standard "
                "input).")
        return
    if st.session_state.pop("_cookie_delete", False):
        delete_cookie()  # in a run the browser sees, so a reload stays signed out
    ended = st.session_state.pop("_ended", None)
    if ended:
        st.info(f"You are signed out: {ended}. Sign in again to continue.")
    with st.form("sign_in"):
        st.subheader("Sign in")
        username = st.text_input("Username", key="signin_username")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        attempt_sign_in(username, password, directory, policy)
    preload_page_code()
    ui.prefetch()


def signed_in_user(directory: Directory, policy) -> str | None:
    """Who this run belongs to, checked on the server every run: the session this tab opened,
    or the one the browser's cookie names. A session that has ended, or a cookie that opens
    none, signs the tab out (recorded in the audit log once)."""
    if st.session_state.get("_tab_user"):
        name = st.session_state["_tab_user"]
        return name if directory.role(name) else None
    token = st.session_state.get("_token") or cookie_token()
    if not token or ui.store().read_only:
        return None
    result = sessions.check_session(ui.store(), token, directory, policy)
    if isinstance(result, sessions.Session):
        if "_token" not in st.session_state:
            st.session_state["_token"] = token
            sessions.record_attempt(ui.store(), result.username, result.role, "resumed",
                                    client_address())
        return result.username
    st.session_state.pop("_token", None)
    st.session_state["_cookie_delete"] = True
    if st.session_state.get("_refused_token") != token:
        st.session_state["_refused_token"] = token
        st.session_state["_ended"] = result.reason
        sessions.record_attempt(ui.store(), "(unknown)", None, "refused", client_address(),
                                detail=f"sign-in cookie refused: {result.reason}")
    return None


def sign_out(username: str, role: str) -> None:
    if st.session_state.get("_token"):
        sessions.end_sessions(ui.store(), by=username, reason="signed out",
                              token=st.session_state["_token"])
    if not ui.store().read_only:
        sessions.record_attempt(ui.store(), username, role, "sign_out", client_address())
    for key in ("_token", "_tab_user", "signed_in", "_cookie_pending"):
        st.session_state.pop(key, None)
    st.session_state["_cookie_delete"] = True
    st.session_state["_refused_token"] = cookie_token()  # not recorded as refused again
    st.rerun()


def main() -> None:
    directory, policy = ui.directory(), load_policy(config_dir())
    username = signed_in_user(directory, policy)
    st.session_state["signed_in"] = username
    role = directory.role(username)  # from the directory, never from the session
    if username is None or role is None:
        # every page's link leads to the sign-in form, and after signing in to that page
        st.navigation([st.Page(partial(sign_in_page, directory, policy), title="Sign in",
                               icon=":material/login:", url_path=url_path,
                               default=url_path == "sign-in")
                       for url_path in ["sign-in", *(Path(p).stem for p, *_ in PAGES)]],
                      position="hidden").run()
        st.stop()

    pending = st.session_state.pop("_cookie_pending", None)
    if pending:
        # set the cookie in a run that lasts long enough for the browser to store it
        write_cookie(pending, policy)
    with st.sidebar:
        name = directory.usernames[username].get("name") or username
        st.markdown(f"**{ui.as_text(name)}**  \n{ROLE_TITLES[role]}")
        if st.button("Sign out", icon=":material/logout:"):
            sign_out(username, role)

    pages = [st.Page(path, title=title, icon=icon, default=(path == PAGES[0][0]))
             for path, title, icon, capability in PAGES if can(role, capability)]
    st.navigation(pages).run()


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
