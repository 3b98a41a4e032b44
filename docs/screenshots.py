"""Regenerate the README's screenshots: `python docs/screenshots.py` (needs Chromium), or only
some of them: `python docs/screenshots.py board digest`."""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from scorecard.demo import DEMO_PASSWORD, ensure_demo_store  # noqa: E402
from scorecard.settings import DEFAULT_CONFIG_DIR  # noqa: E402
from served_app import CHROMIUM, CHROMIUM_ARGS, copy_config, served, sign_in  # noqa: E402


def board_and_digest() -> None:
    """The board report (printed to PDF, as a picture), a digest e-mail's HTML as a mail
    program shows it, and the Digests page with one subscription sent."""
    import subprocess

    from scorecard.digests.config import DigestsConfig, save
    from scorecard.digests.run import digest_for
    from scorecard.store.db import Store

    with tempfile.TemporaryDirectory() as tmp:
        db = ensure_demo_store(Path(tmp) / "demo.duckdb")
        cfg = copy_config(DEFAULT_CONFIG_DIR, Path(tmp) / "config")
        pdf = Path(tmp) / "board.pdf"
        subprocess.run([sys.executable, "-m", "scorecard.cli", "report", "--db", str(db),
                        "--config", str(cfg), "--out", str(pdf)], check=True)
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf),
                        str(ROOT / "docs" / "board-report")], check=True)
        config = DigestsConfig.model_validate({
            "app_url": "https://scorecard.example.com",
            "smtp": {"host": "smtp.example.com", "user": "scorecard@example.com",
                     "sender": "scorecard@example.com"},
            "subscriptions": [{"name": "monday-leadership", "role": "executive",
                               "email": ["cto@example.com", "cfo@example.com"],
                               "schedule": {"every": "week", "day": "monday", "hour": 8,
                                            "time_zone": "Europe/Berlin"}}]})
        save(cfg, config)
        with Store(db) as store:
            html = digest_for(store, cfg, config, config.subscriptions[0]).html
            from scorecard.digests import ledger

            token, _ = ledger.claim(store, "monday-leadership", "2026-11-23")
            ledger.finish(store, "monday-leadership", "2026-11-23", token, None)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.set_content(html)
            page.screenshot(path=ROOT / "docs" / "digest-email.png", full_page=True)
            with served(db, cfg) as server:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                sign_in(page, server.url, "admin", DEMO_PASSWORD)
                page.goto(f"{server.url}/digests")
                page.get_by_role("heading", name="Digests").first.wait_for()
                page.locator("[data-testid=stDataFrame]").first.wait_for()
                page.wait_for_timeout(2000)
                page.screenshot(path=ROOT / "docs" / "digests.png")
            browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = ensure_demo_store(Path(tmp) / "demo.duckdb")
        cfg = copy_config(DEFAULT_CONFIG_DIR, Path(tmp) / "config")
        with served(db, cfg) as server, sync_playwright() as p:
            url = server.url
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            sign_in(page, url, "pm", DEMO_PASSWORD)
            page.locator("[data-testid=stDataFrame]").first.wait_for()
            page.wait_for_timeout(1500)
            page.screenshot(path=ROOT / "docs" / "scorecard.png")
            for title, name in (("Trends", "trends"), ("Thresholds", "thresholds")):
                page.locator("[data-testid=stSidebarNav] a").filter(has_text=title).click()
                page.get_by_role("heading", name=title).wait_for()
                if name == "thresholds":
                    target = page.get_by_label("Target (%)")
                    target.fill("82")
                    target.press("Enter")
                    page.get_by_text("After the change").wait_for(state="attached")
                page.wait_for_timeout(2000)
                page.screenshot(path=ROOT / "docs" / f"{name}.png")
            page.locator("[data-testid=stSidebarNav] a").filter(has_text="Releases").click()
            page.get_by_role("heading", name="Regressed").wait_for()
            page.wait_for_timeout(2000)
            page.screenshot(path=ROOT / "docs" / "releases.png")
            page.locator("[data-testid=stSidebarNav] a").filter(
                has_text="Cost attribution").click()
            page.get_by_role("heading", name="Cost attribution").wait_for()
            page.get_by_role("combobox", name="System").click()
            page.get_by_role("option", name="support-assistant").click()
            page.get_by_text("customer-support spent the most").wait_for()
            page.locator("[data-testid=stRadio] label").filter(has_text="Customer").click()
            page.get_by_text("northwind spent the most").wait_for()
            page.wait_for_timeout(2000)
            page.screenshot(path=ROOT / "docs" / "costs.png")
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            sign_in(phone, url, "exec", DEMO_PASSWORD)
            phone.wait_for_timeout(1500)
            phone.screenshot(path=ROOT / "docs" / "scorecard-phone.png")
            browser.close()


if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    if not wanted or wanted & {"board", "digest"}:
        board_and_digest()
    if not wanted or "app" in wanted:
        main()
