"""Company sign-in on the sign-in page: a button per identity provider (Streamlit's `st.login`),
the page a link asked for kept across the round trip to the provider, and the scorecard session
a fresh ID token opens when one of its groups maps to a role (scorecard.sso decides)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

import streamlit as st

import cookies
import ui
from scorecard import sessions, sso
from scorecard.errors import BadInput

RETURN_COOKIE = "scorecard_return"  # a random browser mark and the page a link asked for
PENDING_SECONDS = 900
_pending: dict[str, tuple[float, str]] = {}  # browser mark -> (when its sign-in began, provider)
_pending_lock = threading.Lock()


def configured() -> tuple[list[sso.Provider], str | None]:
    """The identity providers of secrets.toml's [auth] section, or why there are none."""
    try:
        if not st.secrets.load_if_toml_exists():
            return [], None
        auth = st.secrets.get("auth")
        return sso.providers(auth.to_dict() if hasattr(auth, "to_dict") else auth), None
    except BadInput as exc:
        return [], str(exc)
    except Exception:  # noqa: BLE001 - a secrets file Streamlit cannot parse
        return [], "The secrets.toml file cannot be read as TOML; company sign-in is off."


# -- the page a link asked for ------------------------------------------------------------------

def _read_return() -> dict:
    raw = cookies.read(RETURN_COOKIE) or ""
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==").decode())
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def remember_return(url_path: str) -> None:
    """Keep, in a cookie the browser brings back from the identity provider, the page (and its
    choices) this sign-in page stands in for, with a random mark for this browser."""
    mark = st.session_state.setdefault("_browser_mark",
                                       _read_return().get("mark") or secrets.token_urlsafe(12))
    value = json.dumps({"mark": mark, "page": url_path,
                        "query": {k: st.query_params[k] for k in list(st.query_params)[:20]}})
    encoded = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
    if len(encoded) < 2000:
        cookies.write(RETURN_COOKIE, encoded, datetime.now(timezone.utc) + timedelta(days=1),
                      key="return_set", same_site="lax")


def returned_page() -> tuple[str, dict]:
    """The page and choices the link asked for before the company sign-in."""
    value = _read_return()
    page, query = value.get("page"), value.get("query")
    return (page if isinstance(page, str) else "",
            {str(k): str(v) for k, v in query.items()} if isinstance(query, dict) else {})


def _began(provider: str) -> None:
    with _pending_lock:
        _pending[st.session_state.get("_browser_mark", "")] = (time.time(), provider)


def _unfinished() -> str | None:
    """The provider this browser started a sign-in with that did not come back signed in."""
    with _pending_lock:
        began, provider = _pending.pop(_read_return().get("mark") or "-", (0.0, ""))
    return provider if time.time() - began < PENDING_SECONDS else None


# -- the sign-in page ---------------------------------------------------------------------------

def buttons(providers: list[sso.Provider], problem: str | None) -> None:
    """A button per identity provider, or the one sentence saying why company sign-in is off."""
    if problem:
        st.warning(problem)
    for provider in providers:
        if st.button(f"Sign in with {provider.label}", key=f"sso_{provider.name}",
                     icon=":material/badge:"):
            trouble = sso.unreachable(provider)
            if trouble:
                st.error(f"Signing in with {provider.label} cannot start: {trouble}; try again "
                         "in a while, or sign in with a password.")
            else:
                _began(provider.name)
                st.login(provider.name)


def arrival(policy, client: str) -> dict | None:
    """After the round trip to the identity provider: the person a fresh ID token names, with a
    new session ({"username", "role", "token"}), or None, saying on the page why not."""
    providers, _problem = configured()
    if not providers:
        return None
    user, began = st.user.to_dict(), _unfinished()
    label = next((p.label for p in providers if p.name == began), began)
    if not user.get("is_logged_in"):
        if began:
            st.session_state["_sso_message"] = (
                f"Signing in with {label} did not complete, so nobody is signed in; try again, "
                "and if it fails again an administrator finds why in the server's log.")
        return None
    if sso.freshness_problem(user):
        if began:  # just back from the provider with an old token: a clock is wrong
            st.session_state["_sso_message"] = (
                f"Signing in with {label} was refused: the identity provider's answer was "
                "issued too long ago (is a clock wrong?), so nobody is signed in.")
        return None  # else an old identity cookie: the buttons start a new sign-in
    username, credential = sso.username_for(user), sso.credential_for(user)
    role = sso.role_for(user, policy.groups, policy.group_claims)
    if role is None:
        groups = sso.claim_values(user, policy.group_claims)
        if st.session_state.get("_sso_refused") != credential:
            st.session_state["_sso_refused"] = credential
            sessions.record_attempt(ui.security_ledger(), username, None, "refused", client,
                                    detail="company sign-in: no group maps to a role "
                                           f"(groups: {', '.join(groups) or 'none'})"[:500])
        st.session_state["_sso_message"] = (
            f"{username} is in no group that has a role here (their groups: "
            f"{', '.join(groups) or 'none'}), so they are not signed in; an administrator "
            "maps groups to roles under groups: in the security settings.")
        return None
    if ui.store().read_only:
        token = None  # nowhere to keep a session: this tab only
    else:
        token = sessions.start_company_session(ui.store(), username, role, credential, client,
                                               policy)
        if token is None:
            return None  # this ID token already opened a session
    sessions.record_attempt(ui.security_ledger(), username, role, "sign_in", client,
                            detail=f"company sign-in ({user.get('provider', 'sso')})")
    return {"username": username, "role": role, "token": token}


def refusal() -> None:
    """What the last arrival said, with a way out of the provider's account when it refused."""
    message = st.session_state.pop("_sso_message", None)
    if message:
        st.error(message)
        if st.user.to_dict().get("is_logged_in") and st.button(
                "Sign out of the company account", key="sso_out"):
            st.logout()
