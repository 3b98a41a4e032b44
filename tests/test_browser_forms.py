"""Forms after a save or a revert show what is now in force, and a phone's first screen carries
the verdict: walked in a real headless Chromium against a freshly served demo store."""

from __future__ import annotations

import pytest

from scorecard.demo import DEMO_PASSWORD, ensure_demo_store
from scorecard.settings import DEFAULT_CONFIG_DIR
from served_app import copy_config, require_chromium, served, sign_in, wait_until_idle

pytestmark = pytest.mark.browser

require_chromium()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("forms")
    db = ensure_demo_store(root / "demo.duckdb")
    with served(db, copy_config(DEFAULT_CONFIG_DIR, root / "config")) as server:
        yield server.url


def test_on_a_phone_the_first_screen_names_the_first_red_system_before_the_controls(
        app_url, browser, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in(page, app_url, "exec", DEMO_PASSWORD)
        wait_until_idle(page, 2.0)  # measured once the page has finished drawing
        page.evaluate("window.scrollTo(0, 0)")
        first_red = page.locator(".st-key-verdict [data-testid=stPageLink]").first
        first_red.wait_for()
        page.screenshot(path=tmp_path / "phone-first-screen.png")
        box = first_red.bounding_box()
        assert box["y"] + box["height"] <= 844, f"the first red sentence is below the fold: {box}"
        assert "; limit " in first_red.inner_text(), "a sentence that says why"
        window = page.get_by_role("combobox", name="Window").bounding_box()
        assert box["y"] < window["y"], "the verdict comes before the window's controls"
        title = page.get_by_role("heading", name="AI systems scorecard").bounding_box()
        assert title["y"] < box["y"] and title["height"] < 60, f"one line of title: {title}"
    finally:
        context.close()


def test_on_a_desktop_the_controls_stay_above_the_verdict(app_url, page):
    sign_in(page, app_url, "exec", DEMO_PASSWORD)
    wait_until_idle(page, 1.0)  # mid-rerun the old and the new control are both on the page
    window = page.get_by_role("combobox", name="Window").bounding_box()
    first_red = page.locator(".st-key-verdict [data-testid=stPageLink]").first.bounding_box()
    assert window["y"] < first_red["y"]


def pick(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page, 1.0)


def set_number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_until_idle(page, 1.0)


def save(page, reason: str, said: str) -> None:
    page.get_by_label("Reason (kept in the history)").fill(reason)
    page.get_by_role("button", name="Save threshold").click()
    page.get_by_text(said).first.wait_for()
    wait_until_idle(page, 1.0)


def revert_box(page) -> str:
    """The change the revert box has selected, as it shows it."""
    return page.get_by_role("combobox", name="Revert a change (newest first)").input_value()


def test_after_saves_and_reverts_the_form_preview_and_revert_box_show_what_is_in_force(
        app_url, page):
    sign_in(page, app_url, "pm", DEMO_PASSWORD)
    page.locator("[data-testid=stSidebarNav] a").filter(has_text="Thresholds").click()
    page.get_by_role("heading", name="Thresholds").first.wait_for()
    wait_until_idle(page, 1.0)

    # 1. all systems, success rate: 80% / 70%
    set_number(page, "Target (%)", "80")
    set_number(page, "Limit (%)", "70")
    save(page, "Agreed with the board", "Saved: Success rate for all systems.")
    # credit-precheck, input drift: 0.50 / 1.50
    pick(page, "System", "credit-precheck")
    page.get_by_role("combobox", name="Metric").fill("Input drift")
    page.get_by_role("option", name="Performance Degradation · Input drift (confidence PSI)"
                     ).click()
    wait_until_idle(page, 1.0)
    set_number(page, "Limit", "1.5")
    set_number(page, "Target", "0.5")
    save(page, "Expected after the launch", "Saved: Input drift (confidence PSI) for "
                                            "credit-precheck.")
    # revert the success-rate change
    page.get_by_role("combobox", name="Revert a change (newest first)").click()
    page.get_by_role("option").filter(has_text="Success rate (all systems)").click()
    page.get_by_text("Reverting sets Success rate for all systems back to 90.0% / 80.0%."
                     ).wait_for()
    page.get_by_role("button", name="Revert", exact=True).click()
    page.get_by_text("Reverted; the revert is in the history too.").wait_for()
    wait_until_idle(page, 1.0)
    # support-assistant, 95th percentile latency: 3500 / 6000 ms
    pick(page, "System", "support-assistant")
    page.get_by_role("combobox", name="Metric").fill("95th percentile")
    page.get_by_role("option", name="Latency Impact · 95th percentile latency").click()
    wait_until_idle(page, 1.0)
    set_number(page, "Limit (ms)", "6000")
    set_number(page, "Target (ms)", "3500")
    save(page, "Slower is fine for long answers",
         "Saved: 95th percentile latency for support-assistant. 1 status changed.")

    # the revert box selects the change just saved, and says what reverting it restores
    assert "95th percentile latency (support-assistant)" in revert_box(page)
    page.get_by_text("Reverting sets 95th percentile latency for support-assistant back to "
                     "2.00 s / 4.00 s, inherited from all systems.").wait_for()
    assert page.get_by_label("Target (ms)", exact=True).input_value() == "3500"

    # 2. revert it: the status line, the inputs and the preview agree on what is in force
    page.get_by_role("button", name="Revert", exact=True).click()
    page.get_by_text("Reverted; the revert is in the history too.").wait_for()
    wait_until_idle(page, 1.0)
    page.get_by_text("target 2.00 s, limit 4.00 s (inherited from all systems)").wait_for()
    assert page.get_by_label("Target (ms)", exact=True).input_value() == "2000"
    assert page.get_by_label("Limit (ms)", exact=True).input_value() == "4000"
    page.get_by_text("No status on the current 7-day window would change.").wait_for()
    assert "95th percentile latency (support-assistant)" in revert_box(page), "the newest"
    page.get_by_text("Reverting sets 95th percentile latency for support-assistant back to "
                     "3.50 s / 6.00 s.").wait_for()
    # the preview compares what is typed with what is in force
    set_number(page, "Limit (ms)", "6000")
    set_number(page, "Target (ms)", "3500")
    preview = page.locator("[data-testid=stDataFrame]").first
    preview.get_by_text("support-assistant").first.wait_for(state="attached")
    cells = preview.locator("td").all_text_contents()  # the grid draws on a canvas
    assert cells[:2] == ["support-assistant", "95th percentile latency"], cells
    assert "🟠 Watch" in cells and "🟢 On target" in cells, cells


def test_the_evidence_pack_includes_a_sign_off_made_after_it_was_first_packed(app_url, page,
                                                                            tmp_path):
    import io
    import zipfile

    def pack_signoffs() -> str:
        page.locator("[data-testid=stSidebarNav] a").filter(has_text="Evidence").click()
        page.get_by_role("heading", name="Governance evidence").first.wait_for()
        page.get_by_role("button", name="Prepare the evidence pack").click()
        button = page.get_by_role("button", name="Download the pack (zip)")
        button.wait_for(timeout=120_000)
        wait_until_idle(page, 1.0)
        with page.expect_download() as download:
            button.click()
        data = download.value.path().read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as pack:
            return pack.read("evidence/signoffs.csv").decode()

    sign_in(page, app_url, "pm", DEMO_PASSWORD)
    assert "Reviewed at the Monday meeting" not in pack_signoffs()
    page.locator("[data-testid=stSidebarNav] a").filter(has_text="Questions for leaders").click()
    page.get_by_role("heading", name="Questions for leaders").first.wait_for()
    page.get_by_label("Note").first.fill("Reviewed at the Monday meeting")
    page.get_by_role("button", name="Sign off as pm").first.click()
    page.get_by_text("Signed off.").wait_for()
    assert "Reviewed at the Monday meeting" in pack_signoffs(), "the pack is not a stale copy"
