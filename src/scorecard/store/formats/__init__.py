"""Exports of observability tools (SPEC section 5), read as they come: each format's reader
normalises its spans and evaluations (decisions.py), and the ingest then checks the decisions
against the contract like any other file."""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ...errors import BadInput
from ...sql import literal
from . import langfuse, otlp, phoenix
from .decisions import decisions_sql, evaluation_names
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
        if phoenix.looks_like(names):
            return "phoenix"
        return "langfuse" if langfuse.looks_like(names) else "contract"
    if file_type == "csv":
        with _open_text(path) as fh:
            header = [h.strip().strip('"') for h in fh.readline().split(",")]
        return "langfuse" if langfuse.looks_like(header) else "contract"
    with _open_text(path) as fh:
        head = fh.read(4096).lstrip()
    if re.match(r'\{\s*"resourceSpans"\s*:', head):  # a line may be megabytes: its first key
        return "otlp"
    first = _first_object(path)
    if first is None:
        return "contract"
    if otlp.looks_like(first):
        return "otlp"
    return "langfuse" if langfuse.looks_like(list(first)) else "contract"


def _open_text(path: Path):
    """A text file, or a gzipped one (by its extension), for reading its start."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _first_object(path: Path) -> dict | None:
    """The first JSON object of a JSON Lines file, of a JSON array, or of an API page's
    `data`; None when the start of the file is none of these."""
    with _open_text(path) as fh:
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


def raw_until_rejected(fmt: str) -> str | None:
    """SQL over the staged decisions for the raw value of a record the reader left without
    one (OTLP: where to find the span), or None when every record has its raw value."""
    return otlp.locator("input_ref", "output_ref") if fmt == "otlp" else None


def fill_raw(cur, fmt: str, path: Path, ingest_id: str) -> None:
    """Give this ingest's rejected records their raw JSON where the reader kept only where to
    find it (OTLP: a span is read back from the file only when it is rejected)."""
    if fmt == "otlp":
        otlp.fill_raw(cur, path, ingest_id)


@dataclass(frozen=True)
class Summary:
    """What an export holds, said before it is loaded."""

    fmt: str
    spans: int
    calls: int
    systems: list[str]
    traces: int
    evaluated: int  # model calls with at least one evaluation on them
    evaluations: list[tuple[str, int]]  # (name, how many), most used first
    unreadable: int  # lines or records that are not spans

    def sentence(self) -> str:
        noun = "span" if self.fmt in ("otlp", "phoenix") else "observation"
        parts = [f"{self.spans:,} {noun}{'s' * (self.spans != 1)}",
                 f"{self.calls:,} model call{'s' * (self.calls != 1)}"
                 + (f" in {len(self.systems)} service{'s' * (len(self.systems) != 1)}"
                    if self.systems else ""),
                 f"{self.evaluated:,} with an evaluation"]
        text = ", ".join(parts)
        return text + (f"; {self.unreadable:,} unreadable" if self.unreadable else "")


WHAT_IS_A_CALL = {
    "otlp": "a model call is a span with gen_ai.operation.name (OpenTelemetry's GenAI "
            "conventions), of OpenInference's kind LLM, a Langfuse generation, or one with "
            "gen_ai.system and a model (the conventions' older names)",
    "langfuse": "a model call is a GENERATION observation",
    "phoenix": "a model call is a span of kind LLM",
}


NO_MODEL_HINT = {  # where an export without models comes from
    "langfuse": ": Langfuse's observations API leaves models and usage out unless asked; "
                "fetch them with fields=core,basic,model,usage",
}


def account(cur, fmt: str, options: ImportOptions, name: str) -> str:
    """One sentence on what an import read and what the load will use, from `_spans`,
    `_evals` and the staged decisions `_export`. BadInput (nothing is stored) when nothing is
    usable: no model call, or evaluations asked for (`--scores`, `--outcome-from`,
    `--pass-at`) of which none gives a decision its outcome."""
    spans, calls, unreadable, named, answered = cur.execute(
        "SELECT count(*) FILTER (WHERE broken IS NULL), count(*) FILTER (WHERE is_call AND "
        "broken IS NULL), count(broken), count(model) FILTER (WHERE is_call AND broken IS "
        "NULL), count(*) FILTER (WHERE is_call AND broken IS NULL AND status = 'ok') "
        "FROM _spans").fetchone()
    noun = "span" if fmt in ("otlp", "phoenix") else "observation"
    text = f"{name}: {spans:,} {noun}{'s' * (spans != 1)}"
    if unreadable:
        text += f" ({unreadable:,} unreadable)"
    if not calls:
        raise BadInput(f"{text}, none of them a model call: {WHAT_IS_A_CALL[fmt]}; nothing "
                       "was stored.")
    decisions, outcomes = cur.execute(
        "SELECT count(*) FILTER (WHERE __json_error IS NULL), count(outcome) FROM _export"
    ).fetchone()
    text += f", {calls:,} model call{'s' * (calls != 1)}"
    if answered and not named:  # (a failed call is kept without one: decisions.UNKNOWN_MODEL)
        raise BadInput(f"{text}, none of them naming its model{NO_MODEL_HINT.get(fmt, '')}; "
                       "nothing was stored.")
    if options.unit == "trace":
        text += f" in {decisions:,} trace{'s' * (decisions != 1)}"
    evaluations = cur.execute("SELECT count(*) FROM _evals").fetchone()[0]
    asked = (options.scores is not None or options.outcome_from is not None
             or options.pass_at is not None)
    if evaluations or asked:
        text += (f"; {evaluations:,} evaluation{'s' * (evaluations != 1)} read, "
                 f"{outcomes:,} decision{'s' * (outcomes != 1)} given an outcome")
        if not outcomes:
            text += _why_no_outcome(cur, options, evaluations)
            if asked:
                raise BadInput(text + "; nothing was stored.")
    return text + "."


def _why_no_outcome(cur, options: ImportOptions, evaluations: int) -> str:
    """Why the export's `evaluations` gave no decision an outcome, as the rest of a
    sentence."""
    if not evaluations:
        return ": the export holds no evaluations"
    names = [n for n, _ in evaluation_names(cur)]
    found = f" (names found: {', '.join(names)})" if names else ""
    labelled, scored, on_traces = cur.execute(
        "SELECT count(label), count(score), count(*) FILTER (WHERE span_id IS NULL) "
        "FROM _evals").fetchone()
    if options.outcome_from is not None and options.outcome_from not in names:
        return f": none is named '{options.outcome_from}'{found}"
    if options.outcome_from is None and len(names) > 1:
        return f": name the one that decides with --outcome-from{found}"
    if options.unit == "call" and on_traces == evaluations:
        return ": they score whole traces; load with --unit trace"
    if scored and not labelled and options.pass_at is None:
        return ": their scores are numbers without a label; say which pass with --pass-at"
    return (f": none has a label read as a pass or a fail, or matches a model call{found}")


def summarize(path: Path, fmt: str, file_type: str, options: ImportOptions,
              memory_limit: str = "1GB") -> Summary:
    """Read an export as the load would, in a database of its own, and count what it holds."""
    with tempfile.TemporaryDirectory() as spill, duckdb.connect(config={
            "memory_limit": memory_limit, "temp_directory": spill}) as cur:
        cur.execute("SET TimeZone = 'UTC'")
        stage(cur, path, fmt, file_type, options)
        spans, calls, traces, unreadable = cur.execute(
            "SELECT count(*) FILTER (WHERE broken IS NULL), count(*) FILTER (WHERE is_call), "
            "count(DISTINCT trace_id) FILTER (WHERE is_call), count(broken) FROM _spans"
        ).fetchone()
        systems = [r[0] for r in cur.execute(
            "SELECT DISTINCT system FROM _spans WHERE is_call AND system IS NOT NULL "
            "ORDER BY 1").fetchall()]
        evaluated = cur.execute(
            "SELECT count(*) FROM _spans s WHERE is_call AND EXISTS (SELECT 1 FROM _evals e "
            "WHERE e.span_id = s.span_id)").fetchone()[0]
        return Summary(fmt, spans, calls, systems, traces, evaluated, evaluation_names(cur),
                       unreadable)


__all__ = ["FORMATS", "NAMES", "READERS", "ImportOptions", "Summary", "account", "detect",
           "fill_raw", "raw_until_rejected", "stage", "summarize"]
