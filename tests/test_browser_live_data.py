"""A newcomer's store in a real browser: logs up to this hour, not the demo's fixed dates.
A row stamped ahead of the clock, a system too small to judge, a budget overspent, and an
extract whose column names differ from the contract's only in case and spacing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from conftest import write_csv
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.users import add_user
from served_app import copy_config, require_chromium, served, sign_in, wait_for_scorecard

pytestmark = pytest.mark.browser

require_chromium()

PASSWORD = "a long enough password"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ahead_of_the_clock(now: datetime) -> datetime:
    """A moment tomorrow (UTC) yet inside the 1-day future tolerance: 20 hours ahead, or just
    after midnight when 20 hours ahead is still today."""
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(now + timedelta(hours=20), tomorrow + timedelta(seconds=1))


def live_rows(now: datetime) -> list[dict]:
    """payments-bot: an event an hour for ten days up to now, one in four failing, and one
    stamped tomorrow; tiny-pilot: six events yesterday."""
    rows = [{"event_id": f"pay-{h}", "timestamp": stamp(now - timedelta(hours=h, minutes=10)),
             "system": "payments-bot", "model": "pb-1", "status": "error" if h % 4 == 0 else "ok",
             "latency_ms": 300, "outcome": "failure" if h % 4 == 0 else "success"}
            for h in range(240)]
    rows.append({"event_id": "pay-ahead", "timestamp": stamp(ahead_of_the_clock(now)),
                 "system": "payments-bot", "model": "pb-1", "status": "ok", "latency_ms": 300,
                 "outcome": "success"})
    rows += [{"event_id": f"tiny-{i}", "timestamp": stamp(now - timedelta(days=1, minutes=i)),
              "system": "tiny-pilot", "model": "tp-1", "status": "ok", "latency_ms": 200,
              "outcome": "success"} for i in range(6)]
    return rows


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    now = datetime.now(UTC)
    extract = write_csv(root / "live.csv", live_rows(now),
                        ["event_id", "timestamp", "system", "model", "status", "latency_ms",
                         "outcome"])
    db = root / "live.duckdb"
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "ingest", str(extract),
                           "--db", str(db)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"inserted": 247' in done.stdout, done.stdout  # the row ahead is kept too
    cfg = copy_config(DEFAULT_CONFIG_DIR, root / "config")
    add_user(cfg, "erin", "executive", PASSWORD)
    add_user(cfg, "ana", "analyst", PASSWORD)
    with served(db, cfg) as server:
        yield server.url, now


def test_a_row_stamped_ahead_moves_no_window_and_warns_of_no_quiet_system(live, page):
    """#35 item 1: the window ends today (UTC), not on the day of the row ahead, and no system
    is said to have gone quiet."""
    url, now = live
    sign_in(page, url, "erin", PASSWORD)
    wait_for_scorecard(page)
    window = page.get_by_text("Window: ", exact=False).first.inner_text()
    assert window.split("(UTC")[0].rstrip().endswith(f"{now:%a %d %b %Y}"), window
    tomorrow = now.date() + timedelta(days=1)
    assert f"{tomorrow:%d %b %Y}" not in window
    shown = [int(page.get_by_role("spinbutton", name=f"{part}, As of (UTC day)")
                 .get_attribute("aria-valuenow")) for part in ("year", "month", "day")]
    assert shown == [now.year, now.month, now.day]
    assert page.get_by_text("has logged nothing").count() == 0
    # the budgets are judged as of the clock, not as of the row ahead
    page.get_by_role("heading", name="Error budgets").wait_for()
    caption = page.get_by_text("Each system's allowance for failures").inner_text()
    assert f"{tomorrow:%d %b}" not in caption, caption


def budget_row(page, system: str) -> list[str]:
    row = page.locator("[data-testid=stMarkdownContainer] table tr").filter(has_text=system)
    return [c.strip() for c in row.first.locator("td").all_inner_texts()]


def test_a_spent_budget_is_red_and_a_tiny_system_is_too_few_to_judge(live, page):
    """#35 item 3: the overspent failure budget shows red with plain words, the six-event
    system says too few events instead of a percentage, and its burn-down draws no line."""
    url, _ = live
    sign_in(page, url, "erin", PASSWORD)
    page.get_by_role("heading", name="Error budgets").wait_for()
    header = [c.strip() for c in page.locator(
        "[data-testid=stMarkdownContainer] table th").all_inner_texts()]
    failure = header.index("Failure rate")
    payments, tiny = budget_row(page, "payments-bot"), budget_row(page, "tiny-pilot")
    assert payments[failure].startswith("🔴"), payments
    assert "overspent" in payments[failure] and "x the allowed rate" in payments[failure]
    assert "act now" in payments[failure] or "act this week" in payments[failure]
    assert tiny[failure] == "◌ too few events to judge (6 in 30 days)", tiny
    assert not any("%" in cell for cell in tiny[1:]), tiny
    # the Trends burn-down: a line for payments-bot, none for tiny-pilot
    page.goto(f"{url}/trends?metric=failure_rate")
    page.get_by_role("heading", name="Error budget left").wait_for()
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .some(p => (p.data || []).some(t => t.name === 'payments-bot'))""")
    drawn = page.evaluate("""() => {
        const plot = [...document.querySelectorAll('.js-plotly-plot')]
            .find(p => (p.data || []).some(t => t.name === 'payments-bot'));
        return Object.fromEntries(plot._fullData.map(t => [t.name,
            Array.from(t.y || []).filter(y => y !== null && !Number.isNaN(y)).length]));
    }""")
    assert drawn["payments-bot"] > 0
    assert drawn.get("tiny-pilot", 0) == 0, drawn


def test_an_extract_with_the_contracts_columns_written_another_way_maps_itself(live, page,
                                                                              tmp_path):
    """#35 item 6: Event_ID, TimeStamp, System, Latency-MS differ from the contract's names only
    in case and spacing, so the page asks for no mapping and loads every row with its latency."""
    url, now = live
    extract = tmp_path / "export.csv"
    extract.write_text("Event_ID,TimeStamp,System,Model,Status,Latency-MS\n" + "".join(
        f"exp-{i},{stamp(now - timedelta(hours=2, minutes=i))},export-bot,eb-1,ok,{100 + i}\n"
        for i in range(12)))
    sign_in(page, url, "ana", PASSWORD)
    page.locator("[data-testid=stSidebarNav] a").filter(has_text="Upload").first.click()
    page.get_by_role("heading", name="Upload a log extract").first.wait_for()
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(extract))
    page.get_by_role("heading", name="Preview").first.wait_for()
    assert page.get_by_text("This file needs mapping", exact=False).count() == 0
    load = page.get_by_role("button", name="Load into the store")
    assert load.is_enabled()
    load.click()
    page.get_by_role("heading", name="Result for export.csv").first.wait_for()
    inserted = page.locator("[data-testid=stMetric]").filter(has_text="Inserted").first
    assert inserted.locator("[data-testid=stMetricValue]").inner_text().strip() == "12"
