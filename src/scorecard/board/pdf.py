"""HTML to PDF on this machine: the page printed by a local headless Chromium (Debian's
`chromium`, or the one `SCORECARD_CHROMIUM` names). No service outside the machine is used."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ScorecardError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    named = os.environ.get("SCORECARD_CHROMIUM")
    found = named if named and Path(named).exists() else next(
        (path for name in BROWSERS if (path := shutil.which(name))), None)
    if not found:
        raise ScorecardError("A PDF is printed by Chromium, which this machine lacks; install "
                             "it (apt-get install chromium) or write the report as .html.")
    return found


def html_to_pdf(html: str, out: Path, timeout: float = 120) -> None:
    """Print the page to `out` (A4 landscape, as its CSS says), replacing it only when done."""
    chromium = find_chromium()
    with tempfile.TemporaryDirectory() as tmp:
        page, printed = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--no-pdf-header-footer", f"--user-data-dir={Path(tmp) / 'profile'}",
               f"--print-to-pdf={printed}", page.as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ScorecardError(f"Chromium did not print the report within {timeout:g} "
                                 "seconds.") from None
        if not printed.exists() or printed.stat().st_size == 0:
            raise ScorecardError("Chromium could not print the report to PDF.")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(printed), out)


def page_count(pdf: Path) -> int:
    """How many pages a PDF holds (its page objects)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))
