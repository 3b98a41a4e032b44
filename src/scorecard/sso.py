"""Company sign-in (OpenID Connect): the providers configured, and the role an ID token gives.

Streamlit's `st.login` runs the exchange with the identity provider itself (the `[auth]` section
of secrets.toml, Authlib underneath); this module only reads that section and decides:

- a person's role comes from a claim of their ID token (`groups`, then `roles`, by default)
  through the `groups` mapping of security.yaml, the first listed group they belong to
  winning; a person with no mapped group gets no role at all;
- an ID token opens a scorecard session once, and only while it is fresh (issued within
  FRESH_SECONDS), so Streamlit's own month-long identity cookie never reopens a session that
  was signed out, went idle or reached its lifetime.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from .errors import BadInput
from .web_trouble import trouble

FRESH_SECONDS = 600
CREDENTIAL_PREFIX = "sso:"  # a session's credential mark when it began with a company sign-in
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
WHERE = "The [auth] section of secrets.toml"


@dataclass(frozen=True)
class Provider:
    name: str  # the [auth.NAME] key; "default" for the settings written in [auth] itself
    metadata_url: str

    @property
    def label(self) -> str:
        return "your company account" if self.name == "default" else self.name.title()


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def providers(auth: Mapping | None) -> list[Provider]:
    """The identity providers an `[auth]` section configures (none without one); BadInput with
    one sentence when the section cannot work."""
    if not auth:
        return []
    if not isinstance(auth, Mapping):
        raise BadInput(f"{WHERE} must be a table of settings.")
    for key in ("redirect_uri", "cookie_secret"):
        if not _text(auth.get(key)):
            raise BadInput(f"{WHERE} has no {key}; company sign-in is off until it has one.")
    redirect = urlparse(auth["redirect_uri"])
    if redirect.scheme not in ("http", "https") or not redirect.netloc \
            or not redirect.path.endswith("/oauth2callback"):
        raise BadInput(f"{WHERE} has redirect_uri {auth['redirect_uri']!r}; it must be this "
                       "app's own address ending in /oauth2callback.")
    sections = {str(name): value for name, value in auth.items()
                if isinstance(value, Mapping) and any(k in value for k in PROVIDER_KEYS)}
    if any(key in auth for key in PROVIDER_KEYS):
        sections = {"default": auth, **sections}
    if not sections:
        raise BadInput(f"{WHERE} names no identity provider: give it client_id, client_secret "
                       "and server_metadata_url, or an [auth.NAME] table with them.")
    found = []
    for name, section in sections.items():
        if "_" in name or not name:
            raise BadInput(f"{WHERE} names the provider {name!r}; use a name without "
                           "underscores, such as [auth.okta].")
        missing = [key for key in PROVIDER_KEYS if not _text(section.get(key))]
        if missing:
            raise BadInput(f"{WHERE} is missing {' and '.join(missing)} for the provider "
                           f"{name}.")
        url = section["server_metadata_url"]
        if urlparse(url).scheme not in ("http", "https"):
            raise BadInput(f"{WHERE} has server_metadata_url {url!r} for the provider {name}; "
                           "it must be an https:// address ending in "
                           "/.well-known/openid-configuration.")
        found.append(Provider(name, url))
    return found


def unreachable(provider: Provider, timeout: float = 5.0) -> str | None:
    """Why the provider's sign-in cannot start now (its discovery document does not answer as
    one should), or None when it can."""
    try:
        with urllib.request.urlopen(provider.metadata_url, timeout=timeout) as answer:
            document = json.loads(answer.read(1_000_000))
    except OSError as exc:  # HTTPError and URLError included
        return f"it {trouble(exc)}"
    except ValueError:
        return "its discovery document is not JSON"
    if not isinstance(document, dict) or not all(
            _text(document.get(k)) for k in ("issuer", "authorization_endpoint",
                                             "token_endpoint", "jwks_uri")):
        return "its discovery document lacks the issuer, authorization, token or key addresses"
    return None


def claim_values(claims: Mapping, claim_names: list[str]) -> list[str]:
    """The values of the named claims: a list claim's items, a text claim as one value."""
    values: list[str] = []
    for name in claim_names:
        value = claims.get(name)
        items = value if isinstance(value, list) else [value]
        values += [str(item) for item in items if isinstance(item, (str, int))
                   and not isinstance(item, bool)]
    return values


def _comparable(group: str) -> str:
    return group.strip().lstrip("/").casefold()  # Keycloak's full paths begin with "/"


def role_for(claims: Mapping, groups: Mapping[str, str], claim_names: list[str]) -> str | None:
    """The role of the first group in `groups` (the mapping's order) the person belongs to."""
    theirs = {_comparable(value) for value in claim_values(claims, claim_names)}
    return next((role for group, role in groups.items() if _comparable(group) in theirs), None)


def username_for(claims: Mapping) -> str:
    """The name a company sign-in goes by: its e-mail address, or name@provider; it always holds
    an @, which no password sign-in's username can, so the two never collide."""
    email = claims.get("email")
    if _text(email) and "@" in email:
        return email.strip().lower()[:64]
    who = claims.get("preferred_username") or claims.get("sub") or "unknown"
    return f"{str(who).strip().lower()}@{claims.get('provider') or 'sso'}"[:64]


def freshness_problem(claims: Mapping, now: float | None = None) -> str | None:
    """Why this ID token may not open a session now (too old, or without an issue time)."""
    issued = claims.get("iat")
    if not isinstance(issued, (int, float)) or isinstance(issued, bool):
        return "the identity provider's answer carries no issue time"
    age = (now if now is not None else time.time()) - issued
    if age > FRESH_SECONDS or age < -120:
        return "the company sign-in is no longer fresh"
    return None


def credential_for(claims: Mapping) -> str:
    """The credential mark of the session an ID token opens: unique to that token."""
    key = json.dumps([claims.get(k) for k in ("iss", "sub", "iat", "nonce", "provider")],
                     default=str)
    return CREDENTIAL_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:24]
