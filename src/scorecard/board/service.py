"""Writing the board report: the content, rendered as HTML, printed to PDF when asked."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from ..metrics.compute import parse_day
from ..metrics.thresholds import Thresholds
from ..settings import write_private
from ..store import records
from ..store.db import Store
from . import html, pdf
from .content import BoardReport, board_report


SCALES = (1.0, 0.9, 0.8, 0.7, 0.6)  # tried in turn until the report fits one page


def content(store: Store, thresholds: Thresholds, as_of=None, system: str | None = None,
            among: list[str] | None = None):
    """The report's content; BadInput for an empty store or an unknown system."""
    if not records.event_count(store):
        raise BadInput("The store holds no inference events yet, so there is nothing to "
                       "report; load an extract first (scorecard ingest).")
    for name in [system] if system else among or []:
        if not store.scalar("SELECT count(*) > 0 FROM inference_events WHERE system = $s",
                            {"s": name}):
            raise BadInput(f"The store has no system named '{name}'.")
    return board_report(store, thresholds, parse_day(as_of), system, among)


def print_pdf(report: BoardReport, out: Path) -> None:
    """The report printed to one PDF page, shrunk as far as it must be (many systems)."""
    for scale in SCALES:
        pdf.html_to_pdf(html.render(report, scale), out)
        if pdf.page_count(out) == 1:
            return


def report_html(store: Store, thresholds: Thresholds, as_of=None, system: str | None = None
                ) -> str:
    """The report as one self-contained HTML page."""
    return html.render(content(store, thresholds, as_of, system))


def report_pdf(store: Store, thresholds: Thresholds, out: Path, as_of=None,
               system: str | None = None) -> None:
    """The report printed to one PDF page."""
    print_pdf(content(store, thresholds, as_of, system), out)


def write_report(store: Store, thresholds: Thresholds, out: Path, as_of=None,
                 system: str | None = None) -> Path:
    """Write FILE.html or FILE.pdf; says where."""
    kind = out.suffix.lower()
    if kind not in (".html", ".pdf"):
        raise BadInput(f"{out.name}: the report is written as .pdf or .html.")
    if kind == ".html":
        write_private(out, report_html(store, thresholds, as_of, system))
    else:
        report_pdf(store, thresholds, out, as_of, system)
    return out
