"""Company sign-in's decisions: the [auth] section read, the role from groups, the session an ID
token opens (once, while fresh) and how it ends; the provider is a real one on loopback."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

import oidc_provider
from scorecard import sso
from scorecard.errors import BadInput
from scorecard.sessions import (Ended, SecurityPolicy, Session, check_session, load_policy,
                                start_company_session, utc_now)
from scorecard.users import Directory

AUTH = {"redirect_uri": "https://scorecard.example.com/oauth2callback", "cookie_secret": "c" * 32,
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}


def test_an_auth_section_names_its_providers():
    assert sso.providers(None) == []
    assert sso.providers(AUTH) == [sso.Provider("default", AUTH["server_metadata_url"])]
    named = {k: v for k, v in AUTH.items() if k in ("redirect_uri", "cookie_secret")}
    named["okta"] = {k: AUTH[k] for k in sso.PROVIDER_KEYS} | {"client_kwargs": {"prompt": "login"}}
    assert [(p.name, p.label) for p in sso.providers(named)] == [("okta", "Okta")]


@pytest.mark.parametrize("change, sentence", [
    ({"cookie_secret": None}, "has no cookie_secret; company sign-in is off until it has one."),
    ({"redirect_uri": "http://localhost:8501/"}, "it must be this app's own address ending in "
                                                 "/oauth2callback."),
    ({"client_id": None, "client_secret": None, "server_metadata_url": None},
     "names no identity provider"),
    ({"client_secret": ""}, "is missing client_secret for the provider default."),
    ({"server_metadata_url": "file:///etc/passwd"}, "it must be an https:// address"),
    ({"my_idp": {"client_id": "x"}}, "use a name without underscores"),
])
def test_a_malformed_auth_section_is_one_sentence(change, sentence):
    auth = {k: v for k, v in {**AUTH, **change}.items() if v is not None}
    with pytest.raises(BadInput, match="^The \\[auth\\] section of secrets.toml") as caught:
        sso.providers(auth)
    assert sentence in str(caught.value) and "\n" not in str(caught.value)


def test_the_first_listed_group_a_person_is_in_gives_the_role():
    groups = {"ai-admins": "admin", "ai-pm": "product_manager", "ai-execs": "executive"}
    claims = ["groups", "roles"]
    assert sso.role_for({"groups": ["ai-execs", "ai-pm"]}, groups, claims) == "product_manager"
    assert sso.role_for({"groups": ["/AI-Admins"]}, groups, claims) == "admin"  # Keycloak path
    assert sso.role_for({"roles": "ai-execs"}, groups, claims) == "executive"
    assert sso.role_for({"groups": ["staff"], "roles": []}, groups, claims) is None
    assert sso.role_for({}, groups, claims) is None
    assert sso.role_for({"groups": [True, {"x": 1}]}, {"True": "admin"}, claims) is None
    assert sso.role_for({"email": "Ann@Example.com"}, {"ann@example.com": "admin"},
                        ["email"]) == "admin"  # Google: map addresses (or hd) instead


def test_a_company_name_never_collides_with_a_password_username():
    assert sso.username_for({"email": "Pat@Example.com"}) == "pat@example.com"
    assert sso.username_for({"preferred_username": "pat", "provider": "okta"}) == "pat@okta"
    assert sso.username_for({"sub": "123"}) == "123@sso"


def test_an_id_token_must_be_fresh_and_opens_one_session(store):
    now = time.time()
    assert sso.freshness_problem({"iat": now - 30}, now) is None
    assert sso.freshness_problem({"iat": now - sso.FRESH_SECONDS - 1}, now)
    assert sso.freshness_problem({"iat": now + 3600}, now)  # from the future: a wrong clock
    assert sso.freshness_problem({}, now)
    claims = {"iss": "https://idp", "sub": "1", "iat": int(now), "nonce": "n", "provider": "okta"}
    mark = sso.credential_for(claims)
    assert mark.startswith("sso:") and mark != sso.credential_for({**claims, "nonce": "m"})
    policy = SecurityPolicy()
    token = start_company_session(store, "pat@example.com", "product_manager", mark, "test",
                                  policy)
    assert token and start_company_session(store, "pat@example.com", "product_manager", mark,
                                           "test", policy) is None


def test_a_company_session_keeps_its_role_and_ends_by_its_time_limits(store):
    policy = SecurityPolicy(idle_hours=1, lifetime_days=1)
    nobody = Directory({})  # not in the users file: the role is the session's
    start = utc_now()
    token = start_company_session(store, "pat@example.com", "product_manager", "sso:1", "test",
                                  policy, now=start)
    session = check_session(store, token, nobody, policy, now=start + timedelta(minutes=30))
    assert isinstance(session, Session) and session.company
    assert session.role == "product_manager"
    assert check_session(store, token, nobody, policy, now=start + timedelta(hours=2)) == \
        Ended("it was idle too long")
    token = start_company_session(store, "pat@example.com", "product_manager", "sso:2", "test",
                                  policy, now=start)
    for half_hours in range(1, 49):  # seen every half hour, until its lifetime ends
        result = check_session(store, token, nobody, policy,
                               now=start + timedelta(minutes=30 * half_hours))
    assert result == Ended("it reached its time limit")


def test_a_malformed_group_mapping_is_one_sentence(tmp_path):
    (tmp_path / "security.yaml").write_text("groups:\n  ai-execs: boss\n")
    with pytest.raises(BadInput, match=r"invalid at groups\.ai-execs: Input should be "
                                       r"'executive', 'product_manager', 'analyst' or 'admin'"):
        load_policy(tmp_path)
    (tmp_path / "security.yaml").write_text("group_claims: []\n")
    with pytest.raises(BadInput, match="invalid at group_claims"):
        load_policy(tmp_path)


def test_a_provider_is_checked_before_anyone_is_sent_to_it():
    with oidc_provider.running({"pat": {}}) as idp:
        provider = sso.Provider("company", f"{idp.url}/.well-known/openid-configuration")
        assert sso.unreachable(provider) is None
        assert sso.unreachable(sso.Provider("x", f"{idp.url}/nothing")) == \
            "it answered 404 Not Found"
    assert sso.unreachable(provider) == "it refused the connection"  # stopped
