"""The browser's cookies: read from the request, written from the page.

Written through extra-streamlit-components' cookie component, so they cannot be HttpOnly; they
hold only random tokens and page names, and the server checks every token it is given."""

from __future__ import annotations

import importlib
from datetime import datetime

import extra_streamlit_components as stx
import streamlit as st

_component = importlib.import_module(stx.CookieManager.__module__)._component_func


def read(name: str) -> str | None:
    """The cookie's value, if the browser sent one."""
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) and value else None


def over_https() -> bool:
    proto, url = st.context.headers.get("X-Forwarded-Proto"), st.context.url
    return (isinstance(proto, str) and proto.lower() == "https") or (
        isinstance(url, str) and url.startswith("https:"))


def _hide_frame() -> None:
    """The cookie component draws an empty frame; keep it from taking space on the page."""
    st.html('<style>.element-container:has(iframe[height="0"]) { display: none; }</style>')


def write(name: str, value: str, expires: datetime, key: str, same_site: str = "strict") -> None:
    """Set a cookie for the whole app: Secure over HTTPS, gone at `expires`."""
    _hide_frame()
    _component(method="set", cookie=name, value=value, key=key, default=False,
               options={"path": "/", "expires": expires.isoformat(), "sameSite": same_site,
                        **({"secure": True} if over_https() else {})})


def delete(name: str, key: str) -> None:
    _hide_frame()
    _component(method="delete", cookie=name, key=key, default=False)
