"""Langfuse observation exports: the public API's camelCase JSON (an array, JSON Lines, or an
API page's `data`) and the blob-storage export's snake_case JSON Lines, CSV or Parquet, with a
scores file in the same shapes. Generations (and embeddings) are the model calls."""

from __future__ import annotations

from pathlib import Path

from ...sql import literal
from .decisions import EVALS_COLUMNS, SPANS_COLUMNS, file_type_of
from .options import ImportOptions

REQUIRED = ({"id"}, {"traceId", "trace_id"}, {"startTime", "start_time"})
CALLS = ("GENERATION", "EMBEDDING")


def looks_like(names: list[str]) -> bool:
    """Whether a record's field names (or a CSV header) are a Langfuse observation's or
    score's: an id, a trace id, and a start time or a score name and value."""
    have = set(names)
    return "id" in have and bool(have & {"traceId", "trace_id"}) and (
        bool(have & {"startTime", "start_time"}) or {"name", "value"} <= have)


def _records(cur, path: Path, file_type: str, table: str) -> None:
    """Temp table `table` (seq, j): one JSON object per record, in file order; a JSON Lines
    line that is not an object is kept as its text with j NULL."""
    src = literal(str(path))
    if file_type == "csv":
        body = (f"SELECT to_json(t)::VARCHAR AS line FROM read_csv({src}, all_varchar=true, "
                "header=true) t")
    elif file_type == "parquet":  # the blob-storage export as Parquet
        body = f"SELECT to_json(t)::VARCHAR AS line FROM read_parquet({src}) t"
    else:
        body = (f"SELECT json::VARCHAR AS line FROM read_json_objects({src}, format='auto', "
                "maximum_object_size=1073741824)")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT line FROM ({body})")
    # an API page ({"data": [...], "meta": ...}) holds the records in its data
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
SELECT row_number() OVER (ORDER BY rowid, i) AS seq, line,
       CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT' THEN line::JSON END AS j
FROM (SELECT rowid, generate_subscripts(items, 1) AS i, unnest(items) AS line FROM (
  SELECT rowid, CASE WHEN json_valid(line) AND json_type(line, '$.data') = 'ARRAY'
         THEN CAST(json_extract(line, '$.data[*]') AS VARCHAR[]) ELSE [line] END AS items
  FROM {table}))""")


def _field(*names: str) -> str:
    """SQL for the first of `names` present in record `j`, as text."""
    return "coalesce(" + ", ".join(f"j->>{literal('$.' + n)}" for n in names) + ")"


def _object(*names: str) -> str:
    """SQL for the first of `names` in `j` that is an object, or a JSON object as text (CSV)."""
    parts = [f"CASE json_type(j, {literal('$.' + n)}) WHEN 'OBJECT' THEN j->{literal('$.' + n)} "
             f"WHEN 'VARCHAR' THEN TRY_CAST(j->>{literal('$.' + n)} AS JSON) END" for n in names]
    return "coalesce(" + ", ".join(parts) + ")"


def _tagged(name: str) -> str:
    """SQL for a business dimension (team, feature) from the record's metadata, or from a tag
    written `name:value` (CSV exports hold the metadata as JSON text)."""
    metadata = _object("metadata")
    pattern = literal('"' + name + ':([^"]+)"')
    tag = f"regexp_extract(CAST({_field('tags')} AS VARCHAR), {pattern}, 1)"
    return f"coalesce({metadata}->>{literal('$.' + name)}, NULLIF({tag}, ''))"


def _number(obj: str, *keys: str) -> str:
    """SQL for the first of `keys` in the JSON object `obj` that is a number."""
    return "coalesce(" + ", ".join(
        f"TRY_CAST({obj}->>{literal('$.' + k)} AS DOUBLE)" for k in keys) + ")"


# Usage details: Langfuse keeps each kind of token under its own key, apart from `input` and
# `output`: a cache write split by its time to live comes instead of the flat key, and
# reasoning apart from `output` (a usage object in the older API's words counts it in
# completion). `u` is SQL for the details as a JSON object.

def cache_read_tokens(u: str) -> str:
    return _number(u, "input_cached_tokens", "cache_read_input_tokens", "input_cache_read",
                   "cached_tokens")


def cache_write_tokens(u: str) -> str:
    ttl = ("input_cache_creation_5m", "input_cache_creation_1h")
    split = " OR ".join(f"json_exists({u}, {literal('$.' + k)})" for k in ttl)
    by_ttl = " + ".join(f"coalesce({_number(u, k)}, 0)" for k in ttl)
    flat = _number(u, "cache_creation_input_tokens", "input_cache_creation")
    return f"coalesce({flat}, CASE WHEN {split} THEN {by_ttl} END)"


def input_tokens(u: str, cache_read: str | None = None, cache_write: str | None = None) -> str:
    """Input tokens with the cache's reads and writes (SQL for them, if already computed)."""
    read, write = cache_read or cache_read_tokens(u), cache_write or cache_write_tokens(u)
    return (f"{_number(u, 'input', 'promptTokens', 'prompt_tokens', 'input_tokens')} "
            f"+ coalesce({read}, 0) + coalesce({write}, 0)")


def output_tokens(u: str) -> str:
    reasoning = _number(u, "output_reasoning_tokens", "output_reasoning")
    return (f"coalesce({_number(u, 'output')} + coalesce({reasoning}, 0), "
            f"{_number(u, 'completionTokens', 'completion_tokens', 'output_tokens')})")


def _time(text: str) -> str:
    return f"timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ))"


def stage(cur, path: Path, file_type: str, options: ImportOptions) -> None:
    """Fill `_spans` and `_evals` (see decisions.py) from the observations and the scores."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _spans ({SPANS_COLUMNS})")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _evals ({EVALS_COLUMNS})")
    _records(cur, path, file_type, "_langfuse")
    usage = _object("usageDetails", "usage_details", "usage")
    cost = _object("costDetails", "cost_details")
    level = f"upper({_field('level')})"
    cur.execute(f"""INSERT INTO _spans
SELECT seq, {_field('traceId', 'trace_id')}, {_field('id')},
  NULLIF({_field('parentObservationId', 'parent_observation_id')}, ''),
  upper({_field('type')}) IN ('GENERATION', 'EMBEDDING')
    OR {_field('type')} IS NULL AND {_field('model', 'providedModelName',
                                              'provided_model_name')} IS NOT NULL,
  {_field('traceName', 'trace_name')},
  {_field('providedModelName', 'provided_model_name', 'model')},
  {_time(_field('startTime', 'start_time'))}, {_time(_field('endTime', 'end_time'))},
  CAST({input_tokens('u', 'cache_read', 'cache_write')} AS BIGINT),
  CAST(cache_read AS BIGINT), CAST(cache_write AS BIGINT),
  CAST({output_tokens('u')} AS BIGINT),
  coalesce({_number('c', 'total')}, TRY_CAST({_field('totalCost', 'total_cost',
                                                     'calculatedTotalCost')} AS DOUBLE)),
  CASE WHEN {level} = 'ERROR' AND lower({_field('statusMessage', 'status_message')})
            SIMILAR TO '.*(timeout|timed out).*' THEN 'timeout'
       WHEN {level} = 'ERROR' THEN 'error' ELSE 'ok' END,
  {_field('release', 'version')}, {_tagged('team')}, {_tagged('feature')},
  {_field('userId', 'user_id')},
  line, CASE WHEN j IS NULL THEN 'record ' || seq || ' is not a JSON object' END
FROM (SELECT *, {cache_read_tokens('u')} AS cache_read,
             {cache_write_tokens('u')} AS cache_write FROM (
  SELECT *, {usage} AS u, {cost} AS c FROM _langfuse))""")
    cur.execute("DROP TABLE _langfuse")
    if options.scores:
        _scores(cur, options.scores)


def _scores(cur, path: Path) -> None:
    """Scores from their own export, in either spelling: ANNOTATION scores are a person's
    review, CORRECTION scores (as source or data type) a person's correction."""
    _records(cur, path, file_type_of(path), "_scores")
    source = f"upper({_field('source')})"
    kind = (f"CASE WHEN {source} = 'CORRECTION' OR upper({_field('dataType', 'data_type')}) = "
            f"'CORRECTION' THEN 'correction' WHEN {source} = 'ANNOTATION' THEN 'human' "
            "ELSE 'machine' END")
    cur.execute(f"""INSERT INTO _evals
SELECT {_field('traceId', 'trace_id')}, NULLIF({_field('observationId', 'observation_id')}, ''),
       {_field('name')}, {_field('stringValue', 'string_value')},
       TRY_CAST({_field('value')} AS DOUBLE),
       {_time(_field('timestamp', 'createdAt', 'created_at'))}, {kind}
FROM _scores WHERE j IS NOT NULL""")
    cur.execute("DROP TABLE _scores")
