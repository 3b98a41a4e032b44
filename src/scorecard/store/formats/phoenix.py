"""Arize Phoenix's spans dataframe saved as Parquet (OpenInference columns, flattened with
dots), with its span annotations or evaluations beside it. LLM spans are the model calls."""

from __future__ import annotations

from pathlib import Path

from ...sql import identifier, literal
from .decisions import EVALS_COLUMNS, SPANS_COLUMNS, file_type_of
from .options import ImportOptions

SPAN_ID = "context.span_id"


def looks_like(names: list[str]) -> bool:
    """Whether a Parquet file's columns are a Phoenix spans dataframe's."""
    return SPAN_ID in names and "start_time" in names


def _columns(cur, relation: str) -> dict[str, str]:
    """name -> type of the relation's columns."""
    return {r[0]: r[1] for r in cur.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _first(have: dict[str, str], *names: str, cast: str = "VARCHAR") -> str:
    """SQL for the first of `names` the file has, cast; NULL when it has none."""
    present = [f"TRY_CAST({identifier(n)} AS {cast})" for n in names if n in have]
    return ("coalesce(" + ", ".join(present) + ")") if present else f"NULL::{cast}"


def _time(have: dict[str, str], name: str) -> str:
    """A time column as UTC, whether it holds a zone or not (a time without one is UTC)."""
    if name not in have:
        return "NULL::TIMESTAMP"
    column = identifier(name)
    if have[name] == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {column})"
    return f"timezone('UTC', TRY_CAST({column} AS TIMESTAMPTZ))"


def requested_model(parameters: str) -> str:
    """SQL for the model an OpenInference call asked for, from SQL for its
    `llm.invocation_parameters` (`{"model": ...}` as JSON text): a failed call carries only
    these."""
    asked = f"TRY_CAST({parameters} AS JSON)"
    return f"coalesce({asked}->>'$.model', {asked}->>'$.model_name')"


def _model(have: dict[str, str]) -> str:
    """The model the span names, else the one its call asked for."""
    named = _first(have, "attributes.llm.model_name")
    if "attributes.llm.invocation_parameters" not in have:
        return named
    parameters = f"TRY_CAST({identifier('attributes.llm.invocation_parameters')} AS VARCHAR)"
    return f"coalesce({named}, {requested_model(parameters)})"


def stage(cur, path: Path, file_type: str, options: ImportOptions) -> None:
    """Fill `_spans` and `_evals` (see decisions.py) from the spans and the annotations."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _spans ({SPANS_COLUMNS})")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _evals ({EVALS_COLUMNS})")
    source = f"read_parquet({literal(str(path))}, file_row_number=true)"
    have = _columns(cur, source)
    kind = _first(have, "span_kind", "attributes.openinference.span.kind")
    cache_read = _first(have, "attributes.llm.token_count.prompt_details.cache_read",
                        cast="BIGINT")
    cache_write = _first(have, "attributes.llm.token_count.prompt_details.cache_write",
                         cast="BIGINT")
    status = f"upper({_first(have, 'status_code')})"
    message = f"lower({_first(have, 'status_message')})"
    cur.execute(f"""INSERT INTO _spans
SELECT file_row_number + 1, {_first(have, 'context.trace_id')}, {_first(have, SPAN_ID)},
  NULLIF({_first(have, 'parent_id')}, ''), upper({kind}) = 'LLM',
  {_first(have, 'attributes.openinference.project.name', 'project_name')},
  {_model(have)},
  {_time(have, 'start_time')}, {_time(have, 'end_time')},
  {_first(have, 'attributes.llm.token_count.prompt', cast='BIGINT')},
  {cache_read}, {cache_write},
  {_first(have, 'attributes.llm.token_count.completion', cast='BIGINT')},
  {_first(have, 'attributes.llm.cost.total', cast='DOUBLE')},
  CASE WHEN {status} = 'ERROR' AND {message} SIMILAR TO '.*(timeout|timed out).*'
       THEN 'timeout' WHEN {status} = 'ERROR' THEN 'error' ELSE 'ok' END,
  NULL, NULL, NULL, {_first(have, 'attributes.user.id')},
  to_json(t)::VARCHAR, NULL
FROM {source} t""")
    if options.scores:
        _annotations(cur, options.scores)


def _annotations(cur, path: Path) -> None:
    """Span annotations (`result.label`, `result.score`, `annotator_kind`) or span
    evaluations (`label`, `score`), keyed by span id; a HUMAN annotation is a person's review."""
    file_type = file_type_of(path)
    src = literal(str(path))
    source = (f"read_parquet({src})" if file_type == "parquet" else
              f"read_csv({src}, header=true)" if file_type == "csv" else f"read_json({src})")
    have = _columns(cur, source)
    annotator = _first(have, "annotator_kind")
    # an evaluations file without a name column is named by its file (correctness.parquet)
    names = ("annotation_name", "name", "eval_name")  # Phoenix's client, older exports
    name = _first(have, *names) if set(names) & set(have) \
        else literal(path.name.split(".")[0])
    at = _time(have, "updated_at") if "updated_at" in have else _time(have, "created_at")
    cur.execute(f"""INSERT INTO _evals
SELECT NULL, {_first(have, 'span_id', SPAN_ID)}, {name},
       {_first(have, 'result.label', 'label')},
       {_first(have, 'result.score', 'score', cast='DOUBLE')}, {at},
       CASE WHEN upper({annotator}) = 'HUMAN' THEN 'human'
            WHEN {annotator} IS NOT NULL THEN 'machine' END
FROM {source}""")
