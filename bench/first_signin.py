"""The first sign-in after a server start, as an impatient person makes it: start `scorecard
serve` fresh, open the page, and press Sign in the moment the form shows. Repeated on a fresh
server each time; prints how many sign-ins went through and how long each took.

    python bench/first_signin.py [--runs 20] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from served_app import CHROMIUM, CHROMIUM_ARGS, copy_config, served  # noqa: E402

from scorecard.demo import DEMO_PASSWORD, ensure_demo_store  # noqa: E402
from scorecard.settings import DEFAULT_CONFIG_DIR  # noqa: E402


def one_fresh_sign_in(browser, db: Path, root: Path, run: int) -> tuple[bool, float]:
    """Sign in on a server started for this attempt alone; (went through, seconds)."""
    cfg = copy_config(DEFAULT_CONFIG_DIR, root / f"config-{run}")
    with served(db, cfg) as server:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        try:
            page.goto(server.url)
            page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
            started = time.monotonic()
            page.get_by_label("Username").fill("exec")
            page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            try:
                page.get_by_role("button", name="Sign out").wait_for(timeout=20_000)
                return True, time.monotonic() - started
            except Exception:  # the click was lost: the form is still there, filled in
                return False, time.monotonic() - started
        finally:
            context.close()


def measure(runs: int) -> list[dict]:
    """`runs` first sign-ins, each on a freshly started server over the demo store."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        root = Path(tmp)
        db = ensure_demo_store(root / "demo.duckdb")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        results = []
        for run in range(runs):
            ok, seconds = one_fresh_sign_in(browser, db, root, run)
            results.append({"run": run + 1, "signed_in": ok, "seconds": round(seconds, 2)})
            print(f"run {run + 1}: {'signed in' if ok else 'LOST'} after {seconds:.2f} s",
                  flush=True)
        browser.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", help="write the result as JSON here")
    args = parser.parse_args()
    results = measure(args.runs)
    signed = sum(r["signed_in"] for r in results)
    print(f"{signed} of {len(results)} first sign-ins went through")
    if args.out:
        Path(args.out).write_text(json.dumps({"runs": results, "signed_in": signed}, indent=1))
    return 0 if signed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
