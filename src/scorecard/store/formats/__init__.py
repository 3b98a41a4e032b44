"""Exports of observability tools (SPEC section 5), read as they come: each format's reader
normalises its spans and evaluations (decisions.py), and the ingest then checks the decisions
against the contract like any other file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ...errors import BadInput
from ...sql import literal
from . import langfuse, otlp, phoenix
from .decisions import decisions_sql
from .options import ImportOptions

READERS = {"otlp": otlp, "langfuse": langfuse, "phoenix": phoenix}
NAMES = {"otlp": "OpenTelemetry (OTLP/JSON)", "langfuse": "Langfuse", "phoenix": "Phoenix",
         "contract": "the contract's columns"}
FORMATS = ("auto", "contract", *READERS)


def detect(path: Path, file_type: str) -> str:
    """The format of a file whose type (csv, parquet, jsonl) its extension gave: one of
    READERS when its content is such an export, else `contract`."""
    if file_type == "parquet":
        try:
            names = [r[0] for r in duckdb.sql(
                f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})").fetchall()]
        except duckdb.Error:  # not Parquet after all: the contract's reader says why
            return "contract"
        return "phoenix" if phoenix.looks_like(names) else "contract"
    if file_type == "csv":
        with path.open(encoding="utf-8", errors="replace") as fh:
            header = [h.strip().strip('"') for h in fh.readline().split(",")]
        return "langfuse" if langfuse.looks_like(header) else "contract"
    first = _first_object(path)
    if first is None:
        return "contract"
    if otlp.looks_like(first):
        return "otlp"
    return "langfuse" if langfuse.looks_like(list(first)) else "contract"


def _first_object(path: Path) -> dict | None:
    """The first JSON object of a JSON Lines file, of a JSON array, or of an API page's
    `data`; None when the start of the file is none of these."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        head = fh.read(1 << 20)
    text = head.lstrip()
    line = text.split("\n", 1)[0]
    for candidate in (line, text):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            value = value["data"]
        if isinstance(value, list):
            value = value[0] if value else None
        return value if isinstance(value, dict) else None
    if text.startswith("["):  # an array longer than the part read: its first element
        try:
            value, _ = json.JSONDecoder().raw_decode(text[1:].lstrip())
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


def stage(cur, path: Path, fmt: str, file_type: str, options: ImportOptions) -> str:
    """Read an export into `_spans` and `_evals`; return the SELECT of its decisions in the
    contract's columns."""
    try:
        READERS[fmt].stage(cur, path, file_type, options)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInput(f"{path.name} could not be read as an export of {NAMES[fmt]} "
                       f"({first.rstrip('.')}).") from None
    return decisions_sql(cur, options)


__all__ = ["FORMATS", "READERS", "ImportOptions", "detect", "stage"]
