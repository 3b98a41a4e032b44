"""Presentation helpers shared by the pages: the store, the signed-in user, cached metric
results, status badges.

Results are cached on the store's data version and the thresholds file's modification time,
so an upload or a threshold change shows at once and nothing else recomputes.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import zipfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import streamlit as st

from scorecard import sessions
from scorecard.board import service as board_service
from scorecard.board.evidence import write_pack
from scorecard.errors import ScorecardError
from scorecard.metrics import attention, budgets, compare, drivers, slices, snapshot
from scorecard.metrics.compute import baseline_values as compute_baseline_values
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.formatting import status_label
from scorecard.metrics.registry import registry
from scorecard.metrics.thresholds import in_force, parse_thresholds, thresholds_for
from scorecard.metrics.trends import every_family_table
from scorecard.settings import (config_dir, engine_settings, parse_yaml, read_yaml,
                                store_address)
from scorecard.store import reading_copy, records
from scorecard.store.db import Store
from scorecard.store.engines import open_store, writable
from scorecard.store.retention import configured_days
from scorecard.users import ROLE_TITLES, Directory, NotAllowed, can



log = logging.getLogger("scorecard.app")
SERVER_PATH = re.compile(r"(?:/[\w.+@-]+){2,}/?")


def plain(message: str) -> str:
    """A message fit for the browser: server paths shortened to their file names, and shown
    as the characters it holds (a file or system name in it never becomes Markdown)."""
    return as_text(SERVER_PATH.sub(lambda m: Path(m.group(0)).name or "a folder", message))


# what can start a link (also a bare http:// or www. one), an image, a style or a block
MARKDOWN_PUNCTUATION = set("\\`*_{}[]()#|<>!~$:.")
# where Markdown's autolinks begin (http://, www., name@host): an invisible word joiner there
# keeps the address as text; escaping alone does not, as links are found after escapes
AUTOLINK = re.compile(r"(?i)(?:https?|ftp)(?=://)|www(?=\.)|(?=@)")


def as_text(value: object) -> str:
    """Data (a system, a file's column or value) placed in Markdown shown as the characters it
    is: each mark that Markdown reads escaped, line breaks flattened, so nothing in it becomes
    a link, image, style or heading."""
    text = " ".join(str(value).splitlines())
    text = AUTOLINK.sub(lambda m: m.group(0) + "\u2060", text)  # an address stays text
    return "".join("\\" + c if c in MARKDOWN_PUNCTUATION else c for c in text)


def unexpected_error() -> str:
    """Log the exception being handled with a short id and return the sentence to show."""
    error_id = secrets.token_hex(4)
    log.exception("Unexpected error %s", error_id)
    return (f"Something went wrong on our side (error {error_id}); it is logged on the server. "
            "Reload the page, or give the error id to your administrator.")


_open: dict[str, list] = {}  # store path -> [Store, script runs using it, copy read or None]
_open_lock = threading.Lock()
_this_run = threading.local()  # the entry of _open this thread's script run holds
OPEN_WAIT_SECONDS = 10


def read_only_store(path: str) -> bool:
    """Whether the app opens the store for reading only: when asked ($SCORECARD_READ_ONLY=1,
    e.g. for a copy of a production store) or when this process may not write it."""
    return os.environ.get("SCORECARD_READ_ONLY", "") not in ("", "0") or not writable(path)


def _open_entry(path: str) -> list:
    """The store opened for readers: while an upload writes it, the copy made before."""
    settings = engine_settings(config_dir())
    copy = reading_copy.copy_for(path)
    if copy is not None:
        try:
            reading = open_store(copy, read_only=True, settings=settings,
                                 wait_seconds=OPEN_WAIT_SECONDS)
            reading.read_only_because = "an upload is being loaded"
            return [reading, 0, copy]
        except ScorecardError:
            pass  # the store itself, as when there is no copy
    return [open_store(path, read_only=read_only_store(path), settings=settings,
                       wait_seconds=OPEN_WAIT_SECONDS), 0, None]


@contextmanager
def store_for_this_run():
    """Open the store for one script run; the last run using it closes it. Between page views
    the file is free, so `scorecard ingest` in another process can write to it."""
    path = store_address()
    previous = getattr(_this_run, "entry", None)
    _this_run.entry = _hold(path)
    try:
        yield store()
    finally:
        _let_go(path, _this_run.entry)
        _this_run.entry = previous


@contextmanager
def store_released():
    """Let go of this run's hold on the store while another process (an upload's child) writes
    to it, and take it again afterwards."""
    path = store_address()
    _let_go(path, getattr(_this_run, "entry", None))
    _this_run.entry = None
    try:
        yield
    finally:
        _this_run.entry = _hold(path)


def _hold(path: str) -> list:
    """The open store runs read now (a new one when a load began or ended), held once more."""
    with _open_lock:
        entry = _open.get(path)
        if entry is None or entry[2] != reading_copy.copy_for(path):
            entry = _open[path] = _open_entry(path)  # an older one closes with its last run
        entry[1] += 1
        return entry


def _let_go(path: str, entry: list | None) -> None:
    with _open_lock:
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                entry[0].close()
                if _open.get(path) is entry:
                    _open.pop(path, None)


def store() -> Store:
    """The store this run opened (cursors are per thread). A page run without the app's entry
    script (AppTest runs pages directly) opens it and keeps it open."""
    held = getattr(_this_run, "entry", None)
    if held is not None:
        return held[0]
    path = store_address()
    with _open_lock:
        if path not in _open:
            _open[path] = _open_entry(path)
            _open[path][1] = 1
        return _open[path][0]


def reading_the_copy() -> bool:
    """Whether this run reads the copy kept while an upload is being loaded."""
    held = getattr(_this_run, "entry", None)
    return held is not None and held[2] is not None


def thresholds_path():
    return config_dir() / "thresholds.yaml"


def cache_key() -> tuple[str, int, int]:
    """Results stay valid while the data version and the thresholds file in force stay."""
    th_file = in_force(thresholds_path())
    return store_address(), store().data_version(), th_file.stat().st_mtime_ns


def records_key() -> tuple:
    """The cache key of what also shows who signed off (the board report, the evidence pack):
    a sign-off changes no metric, so it does not move the data version."""
    return (*cache_key(), *records.signoff_mark(store()))


@st.cache_data(show_spinner="Preparing the scorecard...", max_entries=32)
def scorecard(key: tuple, window_days: int, as_of: str | None):
    """The scorecard for a window; the newest 7 days come from the store's snapshot while it
    is current (kept by `scorecard serve` at start)."""
    if window_days == 7 and as_of is None:
        kept = snapshot.kept(store(), thresholds())
        if kept is not None:
            return kept
    return compute_scorecard(store(), thresholds(), as_of=as_of, window_days=window_days)


@st.cache_data(show_spinner="Comparing with the baseline...", max_entries=32)
def baseline_values(key: tuple, window_days: int, as_of: str | None = None):
    return compute_baseline_values(store(), thresholds(), scorecard(key, window_days, as_of))


@st.cache_data(show_spinner=False, max_entries=32)
def freshness(key: tuple, window_days: int, as_of: str | None):
    """The newest event per system and whether it has gone quiet before the window's end."""
    return attention.freshness(store(), scorecard(key, window_days, as_of))


@st.cache_data(show_spinner=False, max_entries=32)
def attention_drivers(key: tuple, window_days: int, as_of: str | None) -> dict:
    """system -> the sentence naming the slice that drives its red metric, where one does."""
    found = None
    if window_days == 7 and as_of is None:
        found = snapshot.kept_drivers(store(), thresholds())
    if found is None:
        found = drivers.attention_drivers(store(), thresholds(), scorecard(key, window_days, as_of))
    return {system: driver.sentence() for system, driver in found.items()}


@st.cache_data(show_spinner="Computing the slices...", max_entries=32)
def slice_card(key: tuple, dimension: str, window_days: int, as_of: str | None):
    return slices.compute_slices(store(), thresholds(), dimension, as_of=as_of,
                                 window_days=window_days)


@st.cache_data(show_spinner="Computing one line per slice...", max_entries=32)
def slice_trends(key: tuple, metric_id: str, dimension: str, period: str,
                 system: str | None):
    return slices.slice_trends(store(), thresholds(), metric_id, dimension, period, system)


@st.cache_data(show_spinner=False, max_entries=64)
def slice_values_in_order(key: tuple, dimension: str, system: str, start, end):
    return slices.values_in_order(store(), dimension, system, start, end)


@st.cache_data(show_spinner="Comparing the two...", max_entries=32)
def comparison(key: tuple, system: str, dimension: str, a: str, b: str, since: str | None,
               until: str | None):
    return compare.compare(store(), thresholds(), system, dimension, a, b, since=since,
                           until=until)


def asked_in_link(page: str, name: str) -> str | None:
    """A choice the page's link asks for (a bookmark, a link from another page, a reload),
    or None when the link holds only what this page itself last wrote there: a choice the
    reader then makes on the page is not taken back by the link of the run before."""
    asked = st.query_params.get(name)
    written = st.session_state.get(f"_link_{page}", {})
    return asked if asked is not None and asked != written.get(name) else None


def write_link(page: str, params: dict[str, str]) -> None:
    """Put the page's choices in its link, so a reload or a bookmark comes back to them."""
    st.query_params.from_dict(params)
    st.session_state[f"_link_{page}"] = dict(params)


def pinned_day(text: str | None):
    """A day pinned in the page's link (?as_of=YYYY-MM-DD), or None."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@st.cache_data(show_spinner="Computing the effect of the change...", max_entries=16)
def scorecard_with(key: tuple, thresholds_yaml: str, window_days: int = 7):
    """The scorecard as it would be under other thresholds (for the Thresholds preview)."""
    th = parse_thresholds(parse_yaml(thresholds_yaml))
    return compute_scorecard(store(), th, window_days=window_days)


@st.cache_data(show_spinner="Computing trends...", max_entries=32)
def weekly_table(key: tuple, period: str = "week"):
    """Every metric family's trend table; weekly from the store's snapshot while current."""
    if period == "week":
        kept = snapshot.kept_weekly(store(), thresholds())
        if kept is not None:
            return kept
    return every_family_table(store(), thresholds(), period)


@st.cache_data(show_spinner=False, max_entries=8)
def budget_report(key: tuple):
    """The error budgets as of the newest event; from the store's snapshot while current."""
    return snapshot.kept_budgets(store(), thresholds()) or budgets.evaluate(store(), thresholds())


@st.cache_data(show_spinner="Computing the budget's burn-down...", max_entries=16)
def burn_down(key: tuple, budget_id: str):
    budget = next(b for b in registry().budgets if b.id == budget_id)
    return budgets.burn_down(store(), thresholds(), budget)


@st.cache_data(show_spinner="Writing the board report...", max_entries=8)
def board_report_html(key: tuple, system: str | None = None, as_of: str | None = None) -> str:
    return board_service.report_html(store(), thresholds(), as_of, system)


@st.cache_data(show_spinner="Printing the board report to PDF...", max_entries=4)
def board_report_pdf(key: tuple, system: str | None = None, as_of: str | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.pdf"
        board_service.report_pdf(store(), thresholds(), out, as_of, system)
        return out.read_bytes()


@st.cache_data(show_spinner="Packing the evidence...", max_entries=4)
def evidence_zip(key: tuple) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "evidence"
        write_pack(store(), thresholds(), folder, retention_days())
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as pack:
            for file in sorted(folder.iterdir()):
                pack.write(file, f"evidence/{file.name}")
        return buffer.getvalue()


def thresholds():
    return thresholds_for(store(), thresholds_path())


def retention_days() -> int:
    """The retention in force: `retention_days` of store.yaml."""
    return configured_days(read_yaml(config_dir() / "store.yaml", "store settings file"))


def file_size(size: int) -> str:
    """Bytes as people read them: "820 bytes", "14 KB", "3.2 MB"."""
    if size < 1000:
        return f"{size:,} byte{'s' if size != 1 else ''}"
    return f"{size / 1e3:,.0f} KB" if size < 1e6 else f"{size / 1e6:,.1f} MB"


def count_of(n: int, noun: str) -> str:
    """'1 row', '2,000 rows'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def scroll_to(anchor: str) -> None:
    """Bring the element with this id to the top of the screen, once, after this run draws."""
    st.session_state["_scrolls"] = st.session_state.get("_scrolls", 0) + 1  # a new element
    st.html(f"<script>/* {st.session_state['_scrolls']} */ setTimeout(() => document"
            f".getElementById({json.dumps(anchor)})?.scrollIntoView({{behavior: 'smooth', "
            "block: 'start'}), 200)</script>", unsafe_allow_javascript=True)


def commit_on_enter(key: str) -> None:
    """Enter in the date field with this key commits what was typed, as leaving it does
    (Streamlit's date field commits when focus moves out of it; a blur alone does not)."""
    st.html("<script>if (!window.__commitOnEnter) { window.__commitOnEnter = true; "
            "document.addEventListener('keydown', e => { if (e.key !== 'Enter' || "
            f"!e.target.closest?.({json.dumps('.st-key-' + key)})) return; "
            "const main = document.querySelector('[data-testid=stMain]'); "
            "main.setAttribute('tabindex', '-1'); main.focus({preventScroll: true}); }, true); }"
            "</script>", unsafe_allow_javascript=True)


def prefetch() -> None:
    """Compute the landing page's numbers while someone is still typing their password; the
    run that shows the scorecard then finds them cached."""
    try:
        if has_events():
            scorecard(cache_key(), 7, None)
    except ScorecardError:
        pass  # e.g. a malformed thresholds file: the page after sign-in says so


def directory() -> Directory:
    """Who may sign in, read afresh on every run so a changed role counts at once, with the
    person the entry script found signed in through the company's identity provider."""
    return Directory.load(config_dir(), store()).including(
        st.session_state.get("signed_in_company"))


def username() -> str | None:
    """The signed-in user, as the entry script checked it on the server in this run."""
    return st.session_state.get("signed_in")


def security_ledger() -> Store:
    """Where sign-in attempts are counted: the store, or, when this process may not write it,
    a ledger in memory (lost on restart), out of reach of Streamlit's cache clearing."""
    return sessions.memory_ledger() if store().read_only else store()


def role() -> str | None:
    """The signed-in user's role, from the directory (never from the browser session)."""
    return directory().role(username())


def role_title() -> str:
    return ROLE_TITLES.get(role() or "", "no role")


def require(capability: str) -> None:
    """Stop the page with a plain sentence unless the signed-in user's role permits it."""
    if not can(role(), capability):
        st.error(str(NotAllowed(f"Your role ({role_title()}) does not include this page.")))
        st.stop()


def metric_label(metric_id: str) -> str:
    metric = registry().get(metric_id)
    return metric.title if metric.row == "-" else f"{metric.row} · {metric.title}"


def badge(status: str, insufficient: bool = False) -> str:
    """A status as icon and word (never by colour alone); 'insufficient' means too few events."""
    return status_label(status, insufficient)


SHORT = {"green": "🟢 OK", "amber": "🟠 Watch", "red": "🔴 Act", "unknown": "⚪ None",
         "insufficient": "◌ Few"}


def short_badge(status: str) -> str:
    """A status short enough for a grid cell, still as icon and word."""
    return SHORT[status]


def responsive_grid_css() -> None:
    """The systems grid as a table on wide screens and as cards on a phone."""
    st.html("""<style>
      @media (max-width: 760px) { .st-key-grid_wide { display: none; } }
      @media (min-width: 761px) { .st-key-grid_cards { display: none; } }
      .st-key-grid_wide button { padding: 0.15rem 0.1rem; min-height: 2.1rem; }
      .st-key-grid_wide button p { font-size: 0.72rem; white-space: nowrap; }
      [data-testid="stPageLink"] p { white-space: normal; }
      .st-key-grid_wide small { font-size: 0.7rem; hyphens: auto; overflow-wrap: anywhere;
                                line-height: 1.1; display: block; }
    </style>""")


def system_picker(systems: list[str], key: str = "system") -> str | None:
    choice = st.selectbox("System", ["All systems", *systems], key=key)
    return None if choice == "All systems" else choice


def has_events() -> bool:
    return bool(records.event_count(store()))


def read_only_notice() -> bool:
    """Say so, and return True, when the store cannot take changes in this app."""
    if not store().read_only:
        return False
    if reading_the_copy():
        return True  # the page's banner says an upload is being loaded
    st.info("The store is open for reading only here (it is read-only for this server, or "
            "$SCORECARD_READ_ONLY is set), so nothing can be loaded or changed from the app.")
    return True


def empty_store_notice() -> bool:
    if has_events():
        return False
    st.info("The store holds no inference events yet. An analyst loads a log extract on the "
            "Upload page or with `scorecard ingest FILE --db PATH`; `make run` starts with the "
            "demo data.")
    return True
