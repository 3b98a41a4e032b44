"""From spans to decisions: the step every observability format shares.

Each format's reader fills two temp tables in one shape, whatever tool wrote the export:

- `_spans`: one row per span or observation, in file order (`seq`), with `trace_id`,
  `span_id`, `parent_id`, `is_call` (a model call), `system`, `model`, `started`, `ended`,
  `input_tokens` (cache buckets included), `cache_read_tokens`, `cache_write_tokens`,
  `output_tokens` (reasoning included), `cost`, `status` (ok, error or timeout), `release`,
  `team`, `feature` and `customer` (where the export says them), `raw` (the
  record as JSON text, or where to read it back from) and `broken` (why the record itself
  cannot be read, else NULL);
- `_evals`: one row per evaluation, score or annotation, with `trace_id`, `span_id` (NULL for
  a score on the whole trace), `name`, `label`, `score`, `evaluated_at`, and `kind` ('human' for a
  person's annotation, 'correction' for a person's correction, 'machine' for any other, NULL
  when the format does not say who evaluated).

`decisions_sql` turns them into the contract's columns: one event per model call, or one per
trace (its first span's start, its whole duration, the tokens and cost of its model calls;
kept, if rejected, as its root span).
`input_ref` is the trace id and `output_ref` the call's span (the root span of a trace): where
the tool that logged them keeps the input and output.
"""

from __future__ import annotations

from pathlib import Path

from ...sql import literal, literal_list
from .options import ImportOptions

SPANS_COLUMNS = ("seq BIGINT, trace_id VARCHAR, span_id VARCHAR, parent_id VARCHAR, "
                 "is_call BOOLEAN, system VARCHAR, model VARCHAR, started TIMESTAMP, "
                 "ended TIMESTAMP, input_tokens BIGINT, cache_read_tokens BIGINT, "
                 "cache_write_tokens BIGINT, output_tokens BIGINT, cost DOUBLE, "
                 "status VARCHAR, release VARCHAR, team VARCHAR, feature VARCHAR, "
                 "customer VARCHAR, raw VARCHAR, broken VARCHAR")
SLICED_BY = ("release", "team", "feature", "customer")  # carried from a span to its decision
EVALS_COLUMNS = ("trace_id VARCHAR, span_id VARCHAR, name VARCHAR, label VARCHAR, "
                 "score DOUBLE, evaluated_at TIMESTAMP, kind VARCHAR")
UNKNOWN_MODEL = "unknown"  # a failed call that names no model is kept, under this name
CACHE_READ = "__cache_read_tokens"  # staged beside the contract's columns, for pricing
CACHE_WRITE = "__cache_write_tokens"


def file_type_of(path: Path) -> str:
    """csv, parquet or jsonl, from the extension of a file given beside an export."""
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    return {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(last, "jsonl")


def evaluation_names(cur) -> list[tuple[str, int]]:
    """(name, evaluations) of every evaluation or score in the export, most used first."""
    return cur.execute("SELECT name, count(*) FROM _evals WHERE name IS NOT NULL "
                       "GROUP BY name ORDER BY count(*) DESC, name").fetchall()


def _outcome(options: ImportOptions) -> str:
    """SQL over an evaluation `e` giving success, failure or NULL (not known)."""
    label = "lower(trim(e.label))"
    by_score = ""
    if options.pass_at is not None:
        by_score = (f" WHEN e.score IS NOT NULL THEN CASE WHEN e.score >= "
                    f"{float(options.pass_at)!r} THEN 'success' ELSE 'failure' END")
    return (f"CASE WHEN {label} IN {literal_list(options.pass_labels)} THEN 'success' "
            f"WHEN {label} IN {literal_list(options.fail_labels)} THEN 'failure'{by_score} END")


def decisions_sql(cur, options: ImportOptions) -> str:
    """SELECT of the staged rows (`__row`: the record's place in the file, the contract's
    columns, the cache buckets, and `__json_error` / `__line` for the rejects): decisions, and
    the records that could not be read. The outcome comes from the configured evaluation, or,
    when none is configured, from each system's evaluation if its decisions have just one."""
    trace = options.unit == "trace"
    if trace:
        events = f"""
SELECT min(seq) AS seq, trace_id AS event_id, trace_id,
       arg_min(span_id, started) FILTER (WHERE parent_id IS NULL) AS span_id,
       arg_min(system, started) AS system, arg_min(model, started) FILTER (WHERE is_call)
         AS model, min(started) AS started, max(ended) AS ended,
       sum(input_tokens) FILTER (WHERE is_call) AS input_tokens,
       sum(cache_read_tokens) FILTER (WHERE is_call) AS cache_read_tokens,
       sum(cache_write_tokens) FILTER (WHERE is_call) AS cache_write_tokens,
       sum(output_tokens) FILTER (WHERE is_call) AS output_tokens,
       CASE WHEN count(cost) FILTER (WHERE is_call) = count(*) FILTER (WHERE is_call)
            THEN sum(cost) FILTER (WHERE is_call) END AS cost,
       CASE WHEN bool_or(status = 'timeout') FILTER (WHERE parent_id IS NULL) THEN 'timeout'
            WHEN bool_or(status = 'error') FILTER (WHERE parent_id IS NULL) THEN 'error'
            ELSE 'ok' END AS status,
       coalesce(arg_min(raw, started) FILTER (WHERE parent_id IS NULL), arg_min(raw, seq))
         AS raw,
       {", ".join(f"arg_min({c}, started) AS {c}" for c in SLICED_BY)}
FROM _spans WHERE broken IS NULL AND trace_id IS NOT NULL GROUP BY trace_id
HAVING bool_or(is_call)"""
        # a score on the whole trace, or on any of its spans
        evaluated = """SELECT d.event_id AS decision, d.system, e.* FROM d JOIN (
  SELECT e.*, coalesce(e.trace_id, s.trace_id) AS of_trace FROM _evals e
  LEFT JOIN _spans s ON s.span_id = e.span_id) e ON e.of_trace = d.trace_id"""
    else:
        events = """
SELECT seq, span_id AS event_id, trace_id, span_id, system, model, started, ended,
       input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost, status, raw,
       release, team, feature, customer
FROM _spans WHERE broken IS NULL AND is_call"""
        evaluated = ("SELECT d.event_id AS decision, d.system, e.* FROM d JOIN _evals e "
                     "ON e.span_id = d.span_id AND (e.trace_id IS NULL OR e.trace_id = d.trace_id)")
    name = (literal(options.outcome_from) if options.outcome_from else
            "(SELECT name FROM sole WHERE sole.system IS NOT DISTINCT FROM e.system)")
    # who evaluated is known when the export says so for any evaluation; a decision no one
    # evaluated was then neither reviewed nor overridden
    knows = cur.execute("SELECT count(kind) FROM _evals").fetchone()[0] > 0
    marked = "coalesce({}, false)" if knows else "NULL::BOOLEAN"
    return f"""
WITH d AS ({events}),
ev AS ({evaluated}),
sole AS (SELECT system, min(name) AS name FROM ev WHERE kind IS DISTINCT FROM 'correction'
         GROUP BY system HAVING count(DISTINCT name) = 1),
o AS (SELECT decision, {_outcome(options)} AS outcome, evaluated_at FROM ev e
      WHERE e.name = {name}
      QUALIFY row_number() OVER (PARTITION BY decision
                                 ORDER BY evaluated_at DESC NULLS LAST, score DESC) = 1),
p AS (SELECT decision, bool_or(kind IN ('human', 'correction')) AS reviewed,
             bool_or(kind = 'correction') AS overridden FROM ev GROUP BY decision)
SELECT seq AS __row, * EXCLUDE (seq) FROM (
  SELECT d.seq, NULL::VARCHAR AS __json_error, d.raw AS __line, d.event_id, d.system,
         coalesce(d.model, CASE WHEN d.status <> 'ok' THEN {literal(UNKNOWN_MODEL)} END)
           AS model,
         d.status, d.started AS timestamp,
         date_diff('microsecond', d.started, d.ended) / 1000.0 AS latency_ms,
         d.cost AS cost_usd, d.input_tokens, d.output_tokens,
         d.cache_read_tokens AS {CACHE_READ}, d.cache_write_tokens AS {CACHE_WRITE},
         o.outcome, CASE WHEN o.outcome IS NOT NULL THEN o.evaluated_at END AS outcome_at,
         {marked.format('p.reviewed')} AS human_reviewed,
         {marked.format('p.overridden')} AS human_overridden,
         d.trace_id AS input_ref, d.span_id AS output_ref,
         d.release, d.team, d.feature, d.customer
  FROM d LEFT JOIN o ON o.decision = d.event_id LEFT JOIN p ON p.decision = d.event_id
  UNION ALL BY NAME
  SELECT seq, broken AS __json_error, raw AS __line FROM _spans WHERE broken IS NOT NULL)"""
