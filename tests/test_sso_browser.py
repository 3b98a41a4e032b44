"""Company sign-in in the browser: a real `scorecard serve` signing in through a real OpenID
Connect provider on loopback (tests/oidc_provider.py), in headless Chromium."""

from __future__ import annotations

import pytest
import yaml

import oidc_provider
from scorecard.demo import ensure_demo_store
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.db import Store
from served_app import (copy_config, free_port, require_chromium, served,
                        wait_for_sign_in_cookie, wait_until_idle)

pytestmark = pytest.mark.browser

require_chromium()

PEOPLE = {"pat": {"email": "pat@example.com", "name": "Pat", "groups": ["staff", "ai-pm"]},
          "alice": {"email": "alice@example.com", "name": "Alice", "groups": ["ai-execs"]},
          "olly": {"email": "olly@example.com", "name": "Olly", "groups": ["staff"]}}
GROUPS = {"ai-pm": "product_manager", "ai-execs": "executive"}
READERS = ["Scorecard", "Trends", "Questions for leaders", "Releases", "Cost attribution"]


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """The demo store served with company sign-in through the test provider."""
    root = tmp_path_factory.mktemp("sso")
    db = ensure_demo_store(root / "demo.duckdb")
    cfg = copy_config(DEFAULT_CONFIG_DIR, root / "config")
    security = yaml.safe_load((cfg / "security.yaml").read_text())
    (cfg / "security.yaml").write_text(yaml.safe_dump({**security, "groups": GROUPS},
                                                      sort_keys=False))
    with oidc_provider.running(PEOPLE) as idp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        (cfg / "secrets.toml").write_text(oidc_provider.auth_section(idp.url, url))
        with served(db, cfg, port=port):
            yield {"url": url, "idp": idp, "db": db}


def through_provider(page, url: str, person: str) -> None:
    """Open `url`, press the company sign-in button and choose `person` at the provider."""
    page.goto(url)
    page.get_by_role("button", name="Sign in with Company").wait_for()
    page.wait_for_function("document.cookie.includes('scorecard_return=')")
    wait_until_idle(page, 1.0)
    page.get_by_role("button", name="Sign in with Company").click()
    page.get_by_role("link", name=f"Continue as {person}").click()


def nav(page) -> list[str]:
    page.locator("[data-testid=stSidebarNav]").wait_for()
    return [t.split("\n")[-1].strip()
            for t in page.locator("[data-testid=stSidebarNav] a").all_inner_texts()]


def sign_in_events(db) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.query("SELECT username, role, event, detail FROM signins "
                           "ORDER BY recorded_at")


def test_two_roles_sign_in_through_the_company_provider_and_keep_their_deep_link(company,
                                                                                 browser):
    url = company["url"]
    pm = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    pm.set_default_timeout(30_000)
    through_provider(pm, f"{url}/trends?metric=confidence_psi&system=credit-precheck", "pat")
    pm.get_by_role("heading", name="Trends").first.wait_for()  # the link's page, not the landing
    assert pm.get_by_role("combobox", name="System").input_value() == "credit-precheck"
    assert nav(pm) == [*READERS, "Thresholds", "Evidence"]
    sidebar = pm.get_by_test_id("stSidebar").inner_text()
    assert "pat@example.com" in sidebar and "Product manager" in sidebar
    wait_for_sign_in_cookie(pm)
    pm.reload()  # the scorecard's own session, as for a password sign-in
    pm.get_by_role("heading", name="Trends").first.wait_for()
    assert "Thresholds" in nav(pm)

    executive = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    executive.set_default_timeout(30_000)
    through_provider(executive, url, "alice")
    executive.get_by_role("heading", name="Details").first.wait_for()
    assert nav(executive) == READERS

    pm.get_by_role("button", name="Sign out").click()  # out of the scorecard and the provider
    pm.get_by_role("button", name="Sign in with Company").wait_for()
    pm.goto(f"{url}/thresholds")
    pm.get_by_role("button", name="Sign in with Company").wait_for()
    assert pm.get_by_role("heading", name="Thresholds").count() == 0
    events = sign_in_events(company["db"])
    assert ("pat@example.com", "product_manager", "sign_in", "company sign-in (company)") in events
    assert ("alice@example.com", "executive", "sign_in", "company sign-in (company)") in events
    assert ("pat@example.com", "product_manager", "sign_out", None) in events
    pm.context.close()
    executive.context.close()


def test_a_person_in_no_mapped_group_is_refused_with_a_sentence(company, page):
    through_provider(page, company["url"], "olly")
    page.get_by_text("olly@example.com is in no group that has a role here").wait_for()
    assert "their groups: staff" in page.get_by_test_id("stAlert").first.inner_text()
    assert page.get_by_role("button", name="Sign out", exact=True).count() == 0
    assert page.locator("[data-testid=stSidebarNav]").count() == 0
    assert ("olly@example.com", None, "refused",
            "company sign-in: no group maps to a role (groups: staff)") \
        in sign_in_events(company["db"])
    wait_until_idle(page)
    page.get_by_role("button", name="Sign out of the company account").click()
    page.get_by_text("is in no group").wait_for(state="detached")  # a new page, signed out
    page.get_by_role("button", name="Sign in with Company").wait_for()


FAULTS = {"wrong audience": ({"audience": "another-app"}, "did not complete, so nobody"),
          "expired": ({"lifetime": -600, "age": 900}, "did not complete, so nobody"),
          "issued long ago": ({"age": 3600}, "was refused: the identity provider's answer was "
                                                     "issued too long ago")}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_token_the_app_must_not_trust_signs_nobody_in(company, page, fault):
    idp = company["idp"]
    issue, sentence = FAULTS[fault]
    idp.issue.update(issue)
    try:
        before = idp.token_requests
        through_provider(page, company["url"], "pat")
        page.get_by_text(f"Signing in with Company {sentence}").wait_for()
        assert idp.token_requests == before + 1  # the provider answered; the app refused it
        assert page.get_by_role("button", name="Sign out", exact=True).count() == 0
        assert "Traceback" not in page.content()
    finally:
        idp.issue.update(oidc_provider.ISSUE)


def test_a_forged_state_signs_nobody_in(company, page):
    page.goto(f"{company['url']}/oauth2callback?code=made-up&state=forged")
    page.get_by_role("button", name="Sign in with Company").wait_for()
    assert page.get_by_role("button", name="Sign out", exact=True).count() == 0
    assert "Traceback" not in page.content()
