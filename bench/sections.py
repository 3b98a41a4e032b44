"""The parts of bench/RESULTS.md that a benchmark other than bench/run.py writes: each between
its own markers, replaced by that benchmark and kept when bench/run.py writes the rest."""

from __future__ import annotations

import re
from pathlib import Path

OWN_SECTIONS = ("clickhouse", "slices", "formats")  # bench/<name>.py writes each


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}: written by bench/{name}.py -->", f"<!-- /{name} -->"


def write_section(name: str, body: str, results_file: Path) -> None:
    """Put `body` between the markers of `name` in the results file (replacing what was
    there, or at the end)."""
    start, end = markers(name)
    section = f"{start}\n{body.strip()}\n{end}"
    text = results_file.read_text(encoding="utf-8") if results_file.exists() else ""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else \
        text.rstrip("\n") + "\n\n" + section
    results_file.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def kept_sections(results_file: Path) -> str:
    """The sections the other benchmarks wrote, as they stand in the results file."""
    text = results_file.read_text(encoding="utf-8") if results_file.exists() else ""
    kept = []
    for name in OWN_SECTIONS:
        start, end = markers(name)
        first, last = text.find(start), text.find(end)
        if 0 <= first < last:
            kept.append(text[first:last + len(end)])
    return "\n\n".join(kept)
