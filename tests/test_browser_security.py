"""An attacker's walk in a real browser against `scorecard serve`: copied cookies, password
guessing, tampered cookies, and Markdown hidden in names from the data.

Its own server, so that a lockout here cannot disturb the other browser tests. Lockouts come
after 3 failures (security.yaml) so that no test has to wait out a growing delay."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import duckdb
import pytest

from conftest import write_jsonl
from scorecard.demo import DEMO_PASSWORD, ensure_demo_store
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.users import add_user
from served_app import (copy_config, open_sign_in, own_signins, require_chromium,
                        resident_peak_mib, served, sign_in, streamlit_server, wait_for_scorecard,
                        wait_until_idle)

pytestmark = pytest.mark.browser

require_chromium()

PASSWORD = "a long enough password"
COPY_CASES = ("sign_out", "passwd", "remove")
HIDDEN_IMAGE = "![i](http://127.0.0.1:9/x.png)"
SHOWN_IMAGE = HIDDEN_IMAGE.replace("http", "http\u2060")  # an invisible joiner: never a link


def ingest_all(extract, db, rows: int) -> None:
    """Load an extract with `scorecard ingest`, as an analyst would, and check every row went in."""
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "ingest", str(extract),
                           "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert f'"inserted": {rows}' in done.stdout, done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacked")
    db = ensure_demo_store(root / "demo.duckdb")
    cfg = copy_config(DEFAULT_CONFIG_DIR, root / "config")
    own_signins(cfg)  # the tests load data of their own, which ends the demo sign-ins
    (cfg / "security.yaml").write_text("delay_after: 100\nlock_after: 3\nlock_minutes: 15\n")
    for case in COPY_CASES:
        add_user(cfg, f"copy-{case.replace('_', '-')}", "product_manager", PASSWORD)
    add_user(cfg, "dana", "product_manager", PASSWORD)
    with served(db, cfg) as running:
        yield running.url, db, cfg, running.pid


def new_page(browser, cookies=()):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    if cookies:
        context.add_cookies(list(cookies))
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


def users(cfg, db, *args, password=""):
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "users", *args, "--config",
                           str(cfg), "--db", str(db)], input=password + "\n",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def lands_signed_in(browser, url, cookies) -> bool:
    """Open the app in a fresh browser holding only these cookies: signed in, or the form?"""
    context, page = new_page(browser, cookies)
    try:
        page.goto(url)
        signed_in = page.get_by_role("button", name="Sign out")
        form = page.get_by_role("button", name="Sign in")
        signed_in.or_(form).first.wait_for()
        return signed_in.count() > 0
    finally:
        context.close()


def signed_out_notice(browser, url, cookies) -> str:
    context, page = new_page(browser, cookies)
    try:
        page.goto(url)
        page.get_by_role("button", name="Sign in").first.wait_for()
        notice = page.get_by_text("You are signed out:")
        notice.wait_for()
        assert page.locator("[data-testid=stSidebarNav]").count() == 0
        assert "Traceback" not in page.content()
        return notice.inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("case", COPY_CASES)
def test_a_copied_cookie_is_useless_after_sign_out_a_password_change_or_removal(server, browser,
                                                                               case):
    url, db, cfg, _ = server
    user = f"copy-{case.replace('_', '-')}"
    context, page = new_page(browser)
    sign_in(page, url, user, PASSWORD)
    copied = context.cookies()
    assert lands_signed_in(browser, url, copied), "before: the copy signs in elsewhere"
    if case == "sign_out":
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Sign in").first.wait_for()
        reason = "signed out"
    elif case == "passwd":
        assert "1 open session ended" in users(cfg, db, "passwd", user,
                                               password="a new long password")
        reason = "the password was changed"
    else:
        assert "1 open session ended" in users(cfg, db, "remove", user)
        reason = "the user was removed"
    context.close()
    assert not lands_signed_in(browser, url, copied), "after: the copy is refused"
    assert reason in signed_out_notice(browser, url, copied)


def test_guessing_locks_the_name_an_unknown_name_reads_the_same_and_unlock_lifts_it(server,
                                                                                   browser):
    url, db, cfg, _ = server
    context, page = new_page(browser)

    def attempt(username, password):
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").first.click()
        wait_until_idle(page)  # the answer to this attempt, not the last one's
        text = page.locator("[data-testid=stAlertContentError]").first.inner_text()
        page.get_by_label("Password", exact=True).fill("")
        return text

    open_sign_in(page, url)
    assert attempt("nobody-by-that-name", "guess") == attempt("dana", "guess 1"), \
        "an unknown name and a wrong password read the same"
    users(cfg, db, "unlock", "nobody-by-that-name")
    assert attempt("dana", "guess 2") == "That username and password do not match a sign-in."
    assert "paused for 15 minutes" in attempt("dana", "guess 3")
    refused = attempt("dana", PASSWORD)
    assert refused.startswith("Too many failed sign-ins") and "15 minutes" in refused, \
        "the right password waits out the lockout"
    assert users(cfg, db, "unlock", "dana") == "Sign-ins for dana are open again.\n"
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").first.click()
    wait_for_scorecard(page)
    context.close()


def _jwt(header: dict, payload: dict, signature: str = "") -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part(header)}.{part(payload)}.{signature}"


TAMPERED = {
    "alg none": _jwt({"alg": "none"}, {"username": "admin", "exp_date": 9999999999}),
    "unknown user": _jwt({"alg": "HS256"}, {"username": "ghost", "exp_date": 9999999999}, "x"),
    "no expiry": _jwt({"alg": "HS256"}, {"username": "admin"}, "abc"),
    "random": "A" * 43,
    "odd characters": "%3Cscript%3E%27%22%3B",
}


def test_every_tampered_cookie_lands_on_sign_in_and_is_recorded(server, browser):
    url, _, _, _ = server
    for value in TAMPERED.values():
        cookie = {"name": "scorecard_session", "value": value, "url": url}
        assert "that sign-in is not known here" in signed_out_notice(browser, url + "/trends",
                                                                     [cookie])
    context, page = new_page(browser)
    sign_in(page, url, "admin", DEMO_PASSWORD)
    page.goto(url + "/audit")
    page.get_by_role("tab", name="Sign-ins").click()
    wait_for_scorecard_free(page)
    frame = page.locator("[data-testid=stDataFrame]").filter(has_text="sign-in cookie refused")
    frame.first.wait_for()
    context.close()


def wait_for_scorecard_free(page) -> None:
    page.get_by_role("heading", name="Audit log").first.wait_for()


def test_markdown_in_a_system_name_is_shown_as_text_and_fetches_nothing(server, browser,
                                                                         tmp_path):
    url, db, _, _ = server
    extract = tmp_path / "hidden.csv"
    extract.write_text("event_id,timestamp,system,model,status,latency_ms\n" + "".join(
        f"h{i},2026-11-21T10:{i:02d}:00Z,\"{HIDDEN_IMAGE}\",m-1,error,9000\n" for i in range(40)))
    ingest_all(extract, db, 40)
    context, page = new_page(browser)
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if ":9/" in r.url else None)
    sign_in(page, url, "pm", DEMO_PASSWORD)
    page.locator(".st-key-grid_wide").get_by_text(SHOWN_IMAGE).first.wait_for()
    for path, heading in (("questions", "Questions for leaders"), ("trends", "Trends"),
                          ("thresholds", "Thresholds")):
        page.goto(f"{url}/{path}")
        page.get_by_role("heading", name=heading).first.wait_for()
        page.get_by_role("combobox", name="System").click()
        page.get_by_role("option", name=HIDDEN_IMAGE).click()
        wait_until_idle(page)
        assert "Traceback" not in page.content()
    page.get_by_text(f"for {SHOWN_IMAGE}; target").wait_for()  # the Thresholds sentence
    assert fetched == [], "nothing in a name made the browser fetch anything"
    context.close()


LINKED_NAMES = ["see https://evil.example/a or www.evil.example or ops@evil.example",
                '<a href="https://evil.example/b">pay</a>']


def test_addresses_and_anchors_in_system_names_are_never_links(server, browser, tmp_path):
    """#36 item 6: a web or mail address in a name stays text on the Scorecard, and an HTML
    anchor in a name is drawn as its characters in the Trends burn-down legend."""
    url, db, _, _ = server
    extract = tmp_path / "linked.jsonl"
    write_jsonl(extract, [{"event_id": f"l{k}-{i}", "timestamp": f"2026-11-21T11:{i:02d}:00Z",
                           "system": name, "model": "m-1", "status": "error" if i % 2 else "ok",
                           "latency_ms": 300, "outcome": "success"}
                          for k, name in enumerate(LINKED_NAMES) for i in range(40)])
    ingest_all(extract, db, 80)
    context, page = new_page(browser)
    try:
        sign_in(page, url, "pm", DEMO_PASSWORD)
        wait_for_scorecard(page)
        grid = page.locator(".st-key-grid_wide")
        grid.get_by_text("evil.example/a", exact=False).first.wait_for()
        wait_until_idle(page)
        links = page.locator('[data-testid=stMain] a[href*="evil.example"]')
        assert links.count() == 0, links.evaluate_all("els => els.map(e => e.outerHTML)")
        page.goto(f"{url}/trends?metric=failure_rate")
        page.get_by_role("heading", name="Error budget left").wait_for()
        legend = page.locator(".js-plotly-plot .legendtext").filter(has_text="<a href")
        legend.first.wait_for()
        assert legend.first.text_content() == LINKED_NAMES[1]
        wait_until_idle(page)
        assert page.locator('[data-testid=stMain] a[href*="evil.example"]').count() == 0
    finally:
        context.close()


def test_a_preview_of_huge_values_leaves_the_web_server_small(server, browser, tmp_path):
    """#36 item 2: a few kilobytes of Parquet holding 20 values of 25 MB each are previewed in
    the bounded child process, cut to a few hundred characters by the engine: the web server's
    own memory barely moves (read in the server, it grew by well over a gigabyte)."""
    url, _, _, pid = server
    huge = tmp_path / "huge.parquet"
    duckdb.sql("COPY (SELECT 'h' || i AS event_id, repeat('x', 25000000) AS system "
               f"FROM range(20) t(i)) TO '{huge}' (FORMAT parquet, COMPRESSION zstd)")
    assert huge.stat().st_size < 100_000
    web_server = streamlit_server(pid)
    context, page = new_page(browser)
    try:
        sign_in(page, url, "analyst", DEMO_PASSWORD)
        wait_for_scorecard(page)
        before = resident_peak_mib(web_server)
        page.goto(f"{url}/upload")
        page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(huge))
        page.get_by_text("a cell longer than 200 characters is shown cut").wait_for()
        wait_until_idle(page)
        grown = resident_peak_mib(web_server) - before
        assert grown < 150, f"the web server grew by {grown:.0f} MiB"
        assert "Traceback" not in page.content()
    finally:
        context.close()


def test_x_forwarded_for_is_believed_only_from_a_configured_proxy(server, browser, tmp_path):
    """A visitor who names another address in X-Forwarded-For is counted under their own;
    behind a proxy listed in trusted_proxies, the address it forwards is the client's."""
    url, db, cfg, _ = server

    def address_counted(url, db, name) -> list[tuple]:
        context = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
        page = context.new_page()
        open_sign_in(page, url)
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password", exact=True).fill("a wrong guess")
        page.get_by_role("button", name="Sign in").first.click()
        page.locator("[data-testid=stAlertContentError]").first.wait_for()
        wait_until_idle(page)
        context.close()
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("SELECT client FROM signins WHERE username = ?", [name]).fetchall()

    assert address_counted(url, db, "forged-probe") == [("local",)]
    proxied_cfg = copy_config(cfg, tmp_path / "config")
    (proxied_cfg / "security.yaml").write_text("trusted_proxies: [127.0.0.1, '::1']\n")
    own_signins(proxied_cfg)
    proxied_db = ensure_demo_store(tmp_path / "proxied.duckdb")
    with served(proxied_db, proxied_cfg) as behind_proxy:
        assert address_counted(behind_proxy.url, proxied_db, "proxied-probe") == [
            ("203.0.113.9",)]


def test_no_table_offers_its_raw_cells_as_csv(server, browser, tmp_path):
    """#36 item 5: a table's own "Download as CSV" would hand a spreadsheet a formula typed
    into the data (`=HYPERLINK(...)` as a system name); it is off, and the app's own downloads
    neutralise formulas (tests/test_security.py)."""
    url, db, _, _ = server
    extract = tmp_path / "formula.csv"
    extract.write_text("event_id,timestamp,system,model,status,latency_ms\n" + "".join(
        f"f{i},2026-11-21T12:{i:02d}:00Z,\"\r=HYPERLINK(\"\"http://127.0.0.1:9\"\")\",m-1,ok,200\n"
        for i in range(30)))
    ingest_all(extract, db, 30)
    context, page = new_page(browser)
    try:
        sign_in(page, url, "pm", DEMO_PASSWORD)
        page.goto(f"{url}/costs")
        page.get_by_role("heading", name="Cost attribution").first.wait_for()
        wait_until_idle(page)
        table = page.get_by_test_id("stDataFrame").first
        table.hover()
        toolbar = page.get_by_test_id("stElementToolbar").first
        toolbar.get_by_role("button", name="Search").wait_for()  # the toolbar is there
        assert toolbar.get_by_role("button", name="Download as CSV").count() == 0
    finally:
        context.close()
