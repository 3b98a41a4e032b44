"""OTLP/JSON traces as the OpenTelemetry collector's file exporter writes them (JSON Lines of
`{"resourceSpans": [...]}`), optionally with an OTLP/JSON logs file holding
`gen_ai.evaluation.result` events. SPEC section 5 gives the mapping; the GenAI semantic
conventions name the attributes, and the deprecated names still in the wild are read too.
Model calls are the spans with a `gen_ai.operation.name` other than an agent's or a tool's."""

from __future__ import annotations

import json
from pathlib import Path

from ...sql import literal, literal_list
from .decisions import EVALS_COLUMNS, SPANS_COLUMNS
from .options import ImportOptions

MAX_LINE_BYTES = 1 << 30  # the collector writes one export request, of many spans, per line
EVALUATION = "gen_ai.evaluation.result"
# GenAI operations that are not a model call: an agent's run and its tool calls are spans of
# the trace, counted in the trace unit, not events of their own
NOT_CALLS = ("invoke_agent", "create_agent", "execute_tool")

_VALUE = {"stringValue": "VARCHAR", "intValue": "VARCHAR", "doubleValue": "VARCHAR",
          "boolValue": "VARCHAR"}
_ATTRIBUTES = [{"key": "VARCHAR", "value": _VALUE}]
_EVENT = {"timeUnixNano": "VARCHAR", "name": "VARCHAR", "attributes": _ATTRIBUTES}
_SPAN = {"traceId": "VARCHAR", "spanId": "VARCHAR", "parentSpanId": "VARCHAR",
         "startTimeUnixNano": "VARCHAR", "endTimeUnixNano": "VARCHAR",
         "attributes": _ATTRIBUTES, "events": [_EVENT],
         "status": {"code": "VARCHAR"}}
TRACES = {"resourceSpans": [{"resource": {"attributes": _ATTRIBUTES},
                             "scopeSpans": [{"spans": [_SPAN]}]}]}
_RECORD = {"timeUnixNano": "VARCHAR", "observedTimeUnixNano": "VARCHAR",
           "eventName": "VARCHAR", "traceId": "VARCHAR", "spanId": "VARCHAR",
           "attributes": _ATTRIBUTES}
LOGS = {"resourceLogs": [{"scopeLogs": [{"logRecords": [_RECORD]}]}]}


def _attr(attributes: str, *keys: str) -> str:
    """SQL for the first of `keys` present among an OTLP attribute list, as text."""
    found = [f"list_transform(list_filter({attributes}, lambda a: a.key = {literal(k)}), "
             "lambda a: coalesce(a.value.stringValue, a.value.intValue, a.value.doubleValue, "
             "a.value.boolValue))[1]" for k in keys]
    return found[0] if len(found) == 1 else f"coalesce({', '.join(found)})"


def _nanos(text: str) -> str:
    """SQL for a UTC time from nanoseconds since the epoch, as text or a number."""
    nanos = f"coalesce(TRY_CAST({text} AS BIGINT), TRY_CAST(TRY_CAST({text} AS DOUBLE) AS BIGINT))"
    return f"make_timestamp({nanos} // 1000)"


def _read_lines(cur, path: Path, table: str) -> None:
    """Temp table `table` (line_no, line) of a JSON Lines file's non-blank lines, as text."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT line FROM read_csv("
                f"{literal(str(path))}, columns={{'line': 'VARCHAR'}}, delim='\x1f', quote='', "
                "escape='', header=false, auto_detect=false, strict_mode=false, "
                f"max_line_size={MAX_LINE_BYTES})")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT rowid - (SELECT min(rowid) "
                f"FROM {table}) + 1 AS line_no, line FROM {table} WHERE trim(line) <> ''")


def _integer(text: str) -> str:
    return f"TRY_CAST(TRY_CAST({text} AS DOUBLE) AS BIGINT)"


def stage(cur, path: Path, file_type: str, options: ImportOptions) -> None:
    """Fill `_spans` and `_evals` (see decisions.py) from the traces, and the logs file."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _spans ({SPANS_COLUMNS})")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _evals ({EVALS_COLUMNS})")
    traces = literal(json.dumps(TRACES))
    _read_lines(cur, path, "_otlp_lines")
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE _otlp AS
SELECT line_no, line, CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT'
  AND json_exists(line, '$.resourceSpans') THEN json_transform(line, {traces}) END AS doc
FROM _otlp_lines""")
    cur.execute("DROP TABLE _otlp_lines")
    a = "s.attributes"
    model = _attr(a, "gen_ai.response.model", "gen_ai.request.model")
    error_type = _attr(a, "error.type")
    cur.execute(f"""INSERT INTO _spans
SELECT row_number() OVER (ORDER BY line_no, r, k, i) AS seq, lower(s.traceId), lower(s.spanId),
  NULLIF(lower(s.parentSpanId), ''),
  coalesce({_attr(a, "gen_ai.operation.name")} NOT IN {literal_list(NOT_CALLS)}, false),
  {_attr("res", "service.name")}, {model},
  {_nanos("s.startTimeUnixNano")}, {_nanos("s.endTimeUnixNano")},
  {_integer(_attr(a, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"))},
  {_integer(_attr(a, "gen_ai.usage.cache_read.input_tokens"))},
  {_integer(_attr(a, "gen_ai.usage.cache_creation.input_tokens"))},
  {_integer(_attr(a, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"))},
  TRY_CAST({_attr(a, "gen_ai.usage.cost")} AS DOUBLE),
  CASE WHEN lower({error_type}) LIKE '%timeout%' OR lower({error_type}) LIKE '%timed out%'
       THEN 'timeout'
       WHEN s.status.code IN ('2', 'STATUS_CODE_ERROR') THEN 'error' ELSE 'ok' END,
  to_json(s)::VARCHAR, NULL
FROM (SELECT line_no, r, k, generate_subscripts(ss.spans, 1) AS i, unnest(ss.spans) AS s, res
      FROM (SELECT line_no, r, generate_subscripts(rs.scopeSpans, 1) AS k,
                   unnest(rs.scopeSpans) AS ss, rs.resource.attributes AS res
            FROM (SELECT line_no, generate_subscripts(doc.resourceSpans, 1) AS r,
                         unnest(doc.resourceSpans) AS rs FROM _otlp WHERE doc IS NOT NULL)))""")
    # a line that is not an OTLP traces object is kept, as it was, with the reason
    cur.execute("""INSERT INTO _spans (seq, raw, broken)
SELECT (SELECT count(*) FROM _spans) + row_number() OVER (ORDER BY line_no), line,
       'line ' || line_no || ' is not an OTLP/JSON traces object' FROM _otlp
WHERE doc IS NULL""")
    e = "v.attributes"
    cur.execute(f"""INSERT INTO _evals
SELECT lower(s.traceId), lower(s.spanId), {_attr(e, "gen_ai.evaluation.name")},
       {_attr(e, "gen_ai.evaluation.score.label")},
       TRY_CAST({_attr(e, "gen_ai.evaluation.score.value")} AS DOUBLE),
       {_nanos("v.timeUnixNano")}, NULL
FROM (SELECT s, unnest(s.events) AS v FROM (SELECT unnest(ss.spans) AS s FROM (
  SELECT unnest(rs.scopeSpans) AS ss FROM (
  SELECT unnest(doc.resourceSpans) AS rs FROM _otlp WHERE doc IS NOT NULL))))
WHERE v.name = {literal(EVALUATION)}""")
    cur.execute("DROP TABLE _otlp")
    if options.scores:
        _logs(cur, options.scores)


def _logs(cur, path: Path) -> None:
    """Evaluation events from an OTLP/JSON logs file, matched to spans by trace and span id."""
    logs = literal(json.dumps(LOGS))
    e = "v.attributes"
    _read_lines(cur, path, "_otlp_logs")
    cur.execute(f"""INSERT INTO _evals
SELECT lower(v.traceId), lower(v.spanId), {_attr(e, "gen_ai.evaluation.name")},
       {_attr(e, "gen_ai.evaluation.score.label")},
       TRY_CAST({_attr(e, "gen_ai.evaluation.score.value")} AS DOUBLE),
       {_nanos("coalesce(NULLIF(v.timeUnixNano, '0'), v.observedTimeUnixNano)")}, NULL
FROM (SELECT unnest(sl.logRecords) AS v FROM (SELECT unnest(rl.scopeLogs) AS sl FROM (
  SELECT unnest(doc.resourceLogs) AS rl FROM (
  SELECT json_transform(line, {logs}) AS doc FROM _otlp_logs
  WHERE json_valid(line) AND json_exists(line, '$.resourceLogs')))))
WHERE coalesce(v.eventName, {_attr(e, "event.name")}) = {literal(EVALUATION)}""")
    cur.execute("DROP TABLE _otlp_logs")


def looks_like(first: dict) -> bool:
    """Whether a file's first JSON object is an OTLP traces export."""
    return "resourceSpans" in first
