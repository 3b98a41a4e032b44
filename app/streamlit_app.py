"""The scorecard web app: sign-in, then only the pages the user's role may use."""

import importlib
import os
from functools import partial
from pathlib import Path

import extra_streamlit_components as stx
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.models import cookie_model

import ui
from scorecard.errors import ScorecardError, StoreBusy
from scorecard.settings import config_dir
from scorecard.users import (COOKIE_NAME, ROLE_TITLES, Directory, can, cookie_key,
                             record_signin)

os.umask(0o077)  # uploads, maps, thresholds and the store's files are the owner's alone
st.set_page_config(page_title="AI Scorecard", page_icon="📊", layout="wide")

# (page, title, icon, capability); a role is offered only the pages its capabilities allow
PAGES = [
    ("views/scorecard.py", "Scorecard", ":material/dashboard:", "read"),
    ("views/trends.py", "Trends", ":material/show_chart:", "read"),
    ("views/questions.py", "Questions for leaders", ":material/checklist:", "read"),
    ("views/thresholds.py", "Thresholds", ":material/tune:", "edit_thresholds"),
    ("views/upload.py", "Upload", ":material/upload_file:", "upload"),
    ("views/audit.py", "Audit", ":material/policy:", "audit"),
]


class CookieWriter(stx.CookieManager):
    """The sign-in library's cookie manager without its read-back component. That component
    answers its first render with a rerun, and a Sign in click made while that rerun is pending
    was lost (a click in the first second after a server start, one time in two). The library
    reads the cookie from the request (`st.context.cookies`), so only writing is needed."""

    def __init__(self, key: str = "init") -> None:  # noqa: ARG002 - the library's signature
        self.cookie_manager = importlib.import_module(stx.CookieManager.__module__)._component_func
        self.cookies = {}

    def delete(self, cookie: str, key: str = "delete") -> None:
        self.cookie_manager(method="delete", cookie=cookie, key=key, default=False)


cookie_model.stx = type("CookieComponents", (), {"CookieManager": CookieWriter})


def failed_attempts(credentials: dict) -> dict[str, int]:
    return {u: e.get("failed_login_attempts", 0) for u, e in credentials["usernames"].items()}


def sign_in(authenticator: stauth.Authenticate, credentials: dict,
            directory: Directory) -> None:
    st.title("AI systems scorecard")
    st.caption("Dependable, economical, resilient: the numbers to steer your AI systems by.")
    if not directory.usernames:
        st.info("No sign-ins exist yet. An administrator adds one with "
                "`scorecard users add NAME --role admin` (the password is read from standard "
                "input).")
        return
    if st.session_state.pop("_cookie_delete", False):
        # remove the sign-in cookie in a run the browser sees, so a reload stays signed out
        authenticator.cookie_controller.delete_cookie()
    before = failed_attempts(credentials)
    by_form = []
    authenticator.login(location="main", key="sign_in",
                        fields={"Form name": "Sign in", "Username": "Username",
                                "Password": "Password", "Login": "Sign in"},
                        callback=lambda info: by_form.append(info["username"]))
    username = st.session_state.get("username")
    if st.session_state.get("authentication_status"):
        # by the form, or by a valid sign-in cookie from an earlier visit
        record_signin(ui.store(), username, directory.role(username),
                      "sign_in" if by_form else "resumed")
        st.session_state["_cookie_pending"] = True
        st.rerun()
    if st.session_state.get("authentication_status") is False:
        for name, count in failed_attempts(credentials).items():  # known usernames only
            if count > before.get(name, 0):
                record_signin(ui.store(), name, directory.role(name), "failed")
        st.error("That username and password do not match a sign-in.")
    ui.prefetch()


def main() -> None:
    directory = ui.directory()
    # The credentials dict lives in the session so the library's failed-attempt counts persist.
    credentials = st.session_state.setdefault("_credentials", directory.credentials())
    authenticator = stauth.Authenticate(credentials, COOKIE_NAME, cookie_key(config_dir()), 30,
                                        auto_hash=False, login_sleep_time=0)

    role = directory.role(ui.username())  # from the directory, never from the session
    if not st.session_state.get("authentication_status") or role is None:
        if st.session_state.get("authentication_status"):  # no longer in the directory
            authenticator.logout(location="unrendered")
        # every page's link leads to the sign-in form, and after signing in to that page
        st.navigation([st.Page(partial(sign_in, authenticator, credentials, directory),
                               title="Sign in", icon=":material/login:", url_path=url_path,
                               default=url_path == "sign-in")
                       for url_path in ["sign-in", *(Path(p).stem for p, *_ in PAGES)]],
                      position="hidden").run()
        st.stop()

    if st.session_state.pop("_cookie_pending", False):
        # set the sign-in cookie in a run that lasts long enough for the browser to store it
        authenticator.cookie_controller.set_cookie()
    with st.sidebar:
        st.markdown(f"**{st.session_state.get('name') or ui.username()}**  \n{ROLE_TITLES[role]}")
        if st.button("Sign out", icon=":material/logout:"):
            record_signin(ui.store(), ui.username(), role, "sign_out")
            authenticator.logout(location="unrendered")
            st.session_state.pop("_credentials", None)
            st.session_state["_cookie_delete"] = True
            st.rerun()

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
