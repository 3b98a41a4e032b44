"""`scorecard serve` on a free port, and a headless Chromium to use it as a person would.

Shared by the browser tests and the first-paint benchmark (bench/run.py).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

CHROMIUM = Path(os.environ.get("SCORECARD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def require_chromium() -> None:
    """CI must have Chromium (.ci/run installs it); elsewhere the browser tests skip, saying
    why."""
    import pytest

    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must run the browser tests, but {CHROMIUM} is missing; "
                           ".ci/run installs Debian's chromium package.")
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); "
                "the browser tests run in CI.", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    url: str
    pid: int  # the `scorecard serve` process; the Streamlit server is its child


def streamlit_server(serve_pid: int) -> int:
    """The Streamlit server `scorecard serve` (this process id) started."""
    children = Path(f"/proc/{serve_pid}/task/{serve_pid}/children").read_text().split()
    return int(children[0])


def resident_peak_mib(pid: int) -> float:
    """The process's resident high-water mark (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


@contextmanager
def launched_chromium():
    """Debian's Chromium, headless, driven by Playwright; closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def served(db: Path, cfg: Path, timeout: float = 90, extra: tuple[str, ...] = (),
           port: int | None = None):
    """Run `scorecard serve` until the block ends; yields its URL and process id."""
    port = port or free_port()
    log = open(cfg / "serve.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorecard.cli", "serve", "--db", str(db), "--config", str(cfg),
         "--port", str(port), *extra], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scorecard serve did not start: {(cfg / 'serve.log').read_text()}")
            time.sleep(0.3)
        yield Served(url, proc.pid)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()


@functools.cache
def _own_signins_yaml() -> str:
    from scorecard.demo import DEMO_PASSWORD, DEMO_SIGNINS
    from scorecard.users import demo_signins

    return yaml.safe_dump({"credentials": {"usernames": json.loads(demo_signins(
        DEMO_SIGNINS, lambda _: DEMO_PASSWORD))}})


def own_signins(cfg: Path) -> Path:
    """The team's own sign-ins in the config, under the demo's names and password: a load into
    the demo store needs them, as it ends the demo sign-ins (whose password is public)."""
    path = cfg / "users.yaml"
    path.write_text(_own_signins_yaml(), encoding="utf-8")
    return path


def copy_config(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("users.yaml", "secrets.yaml",
                                                                  "maps"))
    return target


def signed_in_config(folder: Path) -> Path:
    """The shipped config copied into `folder`, with the demo's names and password as the
    team's own sign-ins (a store of loaded data has no demo sign-ins)."""
    from scorecard.settings import DEFAULT_CONFIG_DIR

    cfg = copy_config(DEFAULT_CONFIG_DIR, folder / "config")
    own_signins(cfg)
    return cfg


def wait_until_idle(page, quiet_seconds: float = 2.0, limit: float = 600) -> None:
    """Until the app has shown no "running" indicator for `quiet_seconds`."""
    quiet, deadline = 0.0, time.monotonic() + limit
    while quiet < quiet_seconds and time.monotonic() < deadline:
        running = page.get_by_test_id("stStatusWidget").count() > 0
        quiet = 0.0 if running else quiet + 0.25
        page.wait_for_timeout(250)


def open_sign_in(page, url: str) -> None:
    """Open the app; a person types and clicks as soon as the form shows, and so do the tests
    (bench/first_signin.py repeats that on fresh servers)."""
    page.goto(url)
    page.get_by_role("button", name="Sign in").first.wait_for()


def sign_in(page, url: str, username: str, password: str) -> None:
    """Open the app, sign in through the form, and wait until the landing page is drawn."""
    open_sign_in(page, url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").first.click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)
    wait_for_scorecard(page)
    wait_for_sign_in_cookie(page)


def wait_for_sign_in_cookie(page) -> None:
    """The browser holds the sign-in cookie (set just after the page is drawn), so that a new
    address or a reload keeps the person signed in."""
    page.wait_for_function("document.cookie.includes('scorecard_session=')")


def wait_for_scorecard(page) -> None:
    """The landing page is drawn: the systems grid and the metric table."""
    page.get_by_role("heading", name="Details").first.wait_for()
    page.locator("[data-testid=stDataFrame]").first.wait_for()
