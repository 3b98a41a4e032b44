"""How long a person waits for numbers, in a real browser against `scorecard serve` on the
demo store: from the Sign in click to the scorecard's grid and table (on a server just started,
and on one already warm), and from the Scorecard click right after an analyst's upload to the
same (every upload changes the data, so nothing cached before it may be shown).

    python bench/first_numbers.py [--runs 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from served_app import (CHROMIUM, CHROMIUM_ARGS, copy_config, served,  # noqa: E402
                        wait_for_scorecard)

from scorecard.demo import DEMO_PASSWORD, ensure_demo_store  # noqa: E402
from scorecard.settings import DEFAULT_CONFIG_DIR  # noqa: E402


def numbers_then_whole_page(page, started: float) -> tuple[float, float]:
    """Seconds to the grid and table, and to the page's last part (the board report's box)."""
    wait_for_scorecard(page)
    numbers = time.monotonic() - started
    page.get_by_text("Board report").first.wait_for()
    return numbers, time.monotonic() - started


def sign_in_to_numbers(browser, url: str, user: str) -> tuple[tuple[float, float], object]:
    """Seconds from the Sign in click to the numbers and to the whole page; the page."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for()
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    started = time.monotonic()
    page.get_by_role("button", name="Sign in").click()
    return numbers_then_whole_page(page, started), page


def upload_then_numbers(page, extract: Path) -> tuple[float, float]:
    """Upload on the Upload page, then seconds from the Scorecard click to the numbers."""
    nav = page.locator("[data-testid=stSidebarNav] a")
    nav.filter(has_text="Upload").first.click()
    page.get_by_role("heading", name="Upload a log extract").first.wait_for()
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(extract))
    page.get_by_role("heading", name="Preview").first.wait_for()
    page.get_by_role("button", name="Load into the store").click()
    page.get_by_role("heading", name=f"Result for {extract.name}").first.wait_for()
    started = time.monotonic()
    nav.filter(has_text="Scorecard").first.click()
    page.get_by_role("heading", name="AI systems scorecard").first.wait_for()
    return numbers_then_whole_page(page, started)


def extract(folder: Path, run: int) -> Path:
    """Thirty new decisions of a demo system on the demo's last day."""
    path = folder / f"extract-{run}.csv"
    path.write_text("event_id,timestamp,system,model,status,latency_ms,outcome\n" + "".join(
        f"bench-{run}-{i},2026-11-22T10:{i:02d}:00Z,support-assistant,gpt-4o-mini,ok,"
        f"{400 + i},success\n" for i in range(30)))
    return path


def measure(runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    found = {f"{step} ({part})": [] for step in ("cold_sign_in", "warm_sign_in", "after_upload")
             for part in ("numbers", "whole page")}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        root = Path(tmp)
        demo = ensure_demo_store(root / "demo.duckdb")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for run in range(runs):
            db = root / f"run-{run}.duckdb"  # each run's uploads on a copy of its own
            db.write_bytes(demo.read_bytes())
            with served(db, copy_config(DEFAULT_CONFIG_DIR, root / f"config-{run}")) as server:
                cold, page = sign_in_to_numbers(browser, server.url, "analyst")
                warm, other = sign_in_to_numbers(browser, server.url, "exec")
                other.context.close()
                after = upload_then_numbers(page, extract(root, run))
                page.context.close()
            for step, (numbers, whole) in (("cold_sign_in", cold), ("warm_sign_in", warm),
                                           ("after_upload", after)):
                found[f"{step} (numbers)"].append(round(numbers, 2))
                found[f"{step} (whole page)"].append(round(whole, 2))
            print(f"run {run + 1}: sign-in to numbers {cold[0]:.2f} s on a fresh server, "
                  f"{warm[0]:.2f} s warm; first scorecard after an upload {after[0]:.2f} s "
                  f"(whole page {cold[1]:.2f}, {warm[1]:.2f}, {after[1]:.2f} s)", flush=True)
        browser.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    found = measure(args.runs)
    for name, seconds in found.items():
        print(f"{name}: median {statistics.median(seconds):.2f} s, "
              f"range {min(seconds):.2f}-{max(seconds):.2f} s")
    if args.out:
        Path(args.out).write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
