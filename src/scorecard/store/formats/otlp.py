"""OTLP/JSON traces as the OpenTelemetry collector's file exporter writes them (JSON Lines of
`{"resourceSpans": [...]}`), optionally with an OTLP/JSON logs file holding
`gen_ai.evaluation.result` events. SPEC section 5 gives the mapping; the GenAI semantic
conventions name the attributes, and the deprecated names still in the wild are read too.
Model calls are the spans with a `gen_ai.operation.name` other than an agent's, a workflow's, a
tool's or a retrieval's."""

from __future__ import annotations

import json
from pathlib import Path

from ...sql import literal, literal_list
from .. import lines
from . import langfuse, phoenix
from .decisions import EVALS_COLUMNS, SPANS_COLUMNS
from .options import ImportOptions

MAX_LINE_BYTES = 32 << 20  # one export request of many spans per line (8,192 spans: ~8 MB)
LOCATOR = "otlp-span:"  # a rejected span's raw value until its JSON is read back from the file
EVALUATION = "gen_ai.evaluation.result"
# GenAI operations that are not a model call: an agent's run and its tool calls are spans of
# the trace, counted in the trace unit, not events of their own. SPEC section 5 names the
# first three; opentelemetry-util-genai also writes a workflow's run and a retrieval step
NOT_CALLS = ("invoke_agent", "create_agent", "execute_tool", "invoke_workflow", "retrieval")

_VALUE = {"stringValue": "VARCHAR", "intValue": "VARCHAR", "doubleValue": "VARCHAR",
          "boolValue": "VARCHAR"}
_ATTRIBUTES = [{"key": "VARCHAR", "value": _VALUE}]
_EVENT = {"timeUnixNano": "VARCHAR", "name": "VARCHAR", "attributes": _ATTRIBUTES}
_SPAN = {"traceId": "VARCHAR", "spanId": "VARCHAR", "parentSpanId": "VARCHAR",
         "startTimeUnixNano": "VARCHAR", "endTimeUnixNano": "VARCHAR",
         "attributes": _ATTRIBUTES, "events": [_EVENT],
         "status": {"code": "VARCHAR", "message": "VARCHAR"}}
_RECORD = {"timeUnixNano": "VARCHAR", "observedTimeUnixNano": "VARCHAR",
           "eventName": "VARCHAR", "traceId": "VARCHAR", "spanId": "VARCHAR",
           "attributes": _ATTRIBUTES}


def _attr(attributes: str, keys: str, *names: str) -> str:
    """SQL for the first of `names` present among an OTLP attribute list, as text; `keys` is
    the list of its keys, computed once per span (a lookup is then a position, not a lambda)."""
    found = [f"{attributes}[list_position({keys}, {literal(n)})].value" for n in names]
    text = [f"coalesce({v}.stringValue, {v}.intValue, {v}.doubleValue, {v}.boolValue)"
            for v in found]
    return text[0] if len(text) == 1 else f"coalesce({', '.join(text)})"


LANGFUSE = "langfuse.observation."  # what the Langfuse SDK (v3) sends over OpenTelemetry
OPENINFERENCE_TOKENS = {"input": "llm.token_count.prompt",
                        "cache_read": "llm.token_count.prompt_details.cache_read",
                        "cache_write": "llm.token_count.prompt_details.cache_write",
                        "output": "llm.token_count.completion"}
GENAI_TOKENS = {"input": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
                "cache_read": ("gen_ai.usage.cache_read.input_tokens",),
                "cache_write": ("gen_ai.usage.cache_creation.input_tokens",),
                "output": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")}


class _Vocabularies:
    """SQL reading a span's model call in each vocabulary tools write over OpenTelemetry: the
    GenAI conventions (with their names from before `gen_ai.operation.name`, as OpenLLMetry
    still writes them), OpenInference's `llm.*` (Phoenix, Arize) and the Langfuse SDK's
    `langfuse.observation.*`. The GenAI conventions come first wherever a span has both."""

    def __init__(self, attributes: str, keys: str) -> None:
        self.a, self.k = attributes, keys

    def _attr(self, *names: str) -> str:
        return _attr(self.a, self.k, *names)

    def _json(self, name: str) -> str:
        """An attribute holding a JSON object as text (Langfuse's usage and cost details)."""
        return f"TRY_CAST({self._attr(name)} AS JSON)"

    def is_call(self) -> str:
        operation = self._attr("gen_ai.operation.name")
        kind = self._attr("openinference.span.kind")
        observation = self._attr(LANGFUSE + "type")
        model = self._attr("gen_ai.request.model", "gen_ai.response.model")
        older = self._attr("gen_ai.system", "llm.request.type")
        # the first vocabulary the span has decides (each is looked up only if none before)
        return (f"coalesce({operation} NOT IN {literal_list(NOT_CALLS)}, "
                f"upper({kind}) = 'LLM', lower({observation}) IN ('generation', 'embedding'), "
                f"{older} IS NOT NULL AND {model} IS NOT NULL)")

    def model(self) -> str:
        asked = phoenix.requested_model(self._attr("llm.invocation_parameters"))
        return (f"coalesce({self._attr('gen_ai.response.model', 'gen_ai.request.model')}, "
                f"{self._attr('llm.model_name', LANGFUSE + 'model.name')}, {asked})")

    def tokens(self, which: str) -> str:
        """Input (cache included), cache reads, cache writes or output (reasoning included)."""
        usage = self._json(LANGFUSE + "usage_details")
        from_langfuse = {"input": langfuse.input_tokens, "cache_read": langfuse.cache_read_tokens,
                         "cache_write": langfuse.cache_write_tokens,
                         "output": langfuse.output_tokens}[which](usage)
        named = self._attr(*GENAI_TOKENS[which], OPENINFERENCE_TOKENS[which])
        return f"coalesce({_integer(named)}, TRY_CAST({from_langfuse} AS BIGINT))"

    def cost(self) -> str:
        details = self._json(LANGFUSE + "cost_details")
        return (f"coalesce(TRY_CAST({self._attr('gen_ai.usage.cost', 'llm.cost.total')} AS "
                f"DOUBLE), TRY_CAST({details}->>'$.total' AS DOUBLE))")


def _nanos(text: str) -> str:
    """SQL for a UTC time from nanoseconds since the epoch, as text or a number."""
    nanos = f"coalesce(TRY_CAST({text} AS BIGINT), TRY_CAST(TRY_CAST({text} AS DOUBLE) AS BIGINT))"
    return f"make_timestamp({nanos} // 1000)"


def _lines(path: Path, numbered: bool = False) -> str:
    """SQL for a JSON Lines file's lines as text, in file order; numbered (`line_no`) if asked,
    which reads on one thread, so only the few lines that need a number are. A read buffer is
    as large as the longest line allowed: DuckDB parses a buffer's lines together, and a
    batch of whole export requests (megabytes each) would otherwise take gigabytes."""
    read = lines.read_sql(path, MAX_LINE_BYTES, buffer=True)
    return (f"SELECT row_number() OVER () AS line_no, line FROM {read}" if numbered
            else f"SELECT line FROM {read}")


def _holds(key: str) -> str:
    """SQL: whether `line` is a JSON object with the member `key`."""
    return f"coalesce(try(json_type(line, {literal('$.' + key)})) = 'ARRAY', false)"


def _integer(text: str) -> str:
    return f"TRY_CAST(TRY_CAST({text} AS DOUBLE) AS BIGINT)"


def _spans_of(path: Path, shape: dict, records: str = "resourceSpans.scopeSpans.spans") -> str:
    """SQL streaming one row per span, in file order: its JSON as written (`span`), typed by
    `shape` (`s`) with the keys of its attributes (`keys`), and its resource's `service.name`
    (`service`). Each line is parsed down to its spans' JSON first and each span then on its
    own: typing whole spans as part of the line costs more than twice as much. (A line that
    is not a traces object unnests to nothing; filtering the parsed lines cost 1.5 s a
    million spans.)"""
    top, middle, leaf = records.split(".")
    outer = {top: [{"resource": {"attributes": _ATTRIBUTES}, middle: [{leaf: ["JSON"]}]}]}
    resource = ("t.resource.attributes",
                "list_transform(t.resource.attributes, lambda a: a.key)")
    service, version = _attr(*resource, "service.name"), _attr(*resource, "service.version")
    return f"""SELECT span, s, list_transform(s.attributes, lambda a: a.key) AS keys, service,
       version
FROM (
  SELECT span, json_transform(span, {literal(json.dumps(shape))}) AS s, service, version FROM (
    SELECT unnest(m.{leaf}) AS span, service, version FROM (
      SELECT unnest(t.{middle}) AS m, {service} AS service, {version} AS version FROM (
        SELECT unnest(doc.{top}) AS t FROM (
          SELECT try(json_transform(line, {literal(json.dumps(outer))})) AS doc
          FROM ({_lines(path)}))))))"""


def locator(trace: str, span: str) -> str:
    """SQL for a span's raw value until it is rejected: where `fill_raw` finds it."""
    return f"{literal(LOCATOR)} || {trace} || ':' || {span}"


def _evaluations(events: str, trace: str, span: str) -> str:
    """SQL for `_evals` rows from a list of evaluation events (or log records)."""
    e, k = "v.attributes", "v_keys"
    return f"""SELECT lower({trace}), lower({span}), {_attr(e, k, "gen_ai.evaluation.name")},
       {_attr(e, k, "gen_ai.evaluation.score.label")},
       TRY_CAST({_attr(e, k, "gen_ai.evaluation.score.value")} AS DOUBLE),
       {_nanos("v.timeUnixNano")}, NULL
FROM (SELECT *, list_transform(v.attributes, lambda a: a.key) AS v_keys FROM {events})"""


def stage(cur, path: Path, file_type: str, options: ImportOptions) -> None:
    """Fill `_spans` and `_evals` (see decisions.py) from the traces, and the logs file. Each
    line is parsed once; a span has no raw value until it is rejected (`locator`, then
    `fill_raw`), and its evaluation events ride along until they are in `_evals`."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _spans ({SPANS_COLUMNS}, evaluations "
                f"{_sql_type([_EVENT])}, response_id VARCHAR)")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _evals ({EVALS_COLUMNS})")
    a, k = "s.attributes", "keys"
    error_type = _attr(a, k, "error.type")
    said = _Vocabularies(a, k)
    cur.execute(f"""INSERT INTO _spans
SELECT NULL, lower(s.traceId), lower(s.spanId), NULLIF(lower(s.parentSpanId), ''),
  {said.is_call()}, service, {said.model()},
  {_nanos("s.startTimeUnixNano")}, {_nanos("s.endTimeUnixNano")},
  {said.tokens("input")}, {said.tokens("cache_read")}, {said.tokens("cache_write")},
  {said.tokens("output")}, {said.cost()},
  CASE WHEN lower({error_type}) LIKE '%timeout%' OR lower({error_type}) LIKE '%timed out%'
       THEN 'timeout'
       WHEN s.status.code IN ('2', 'STATUS_CODE_ERROR')
         OR upper({_attr(a, k, LANGFUSE + "level")}) = 'ERROR'
       THEN CASE WHEN lower(coalesce(s.status.message, {_attr(a, k, LANGFUSE + "status_message")}))
                      SIMILAR TO '.*(timeout|timed out).*' THEN 'timeout' ELSE 'error' END
       ELSE 'ok' END,
  coalesce({_attr(a, k, "gen_ai.agent.version", "langfuse.release")}, version), NULL, NULL,
  NULL, NULL, NULL,
  CASE WHEN len(s.events) > 0
       THEN list_filter(s.events, lambda v: v.name = {literal(EVALUATION)}) END,
  {_attr(a, k, "gen_ai.response.id")}
FROM ({_spans_of(path, _SPAN)})""")
    # a line that is not an OTLP traces object is kept, as it was, with the reason
    broken = f"NOT {_holds('resourceSpans')} AND NOT regexp_full_match(line, '\\s*')"
    if cur.execute(f"SELECT count(*) FROM ({_lines(path)}) WHERE {broken}").fetchone()[0]:
        cur.execute(f"""INSERT INTO _spans (seq, raw, broken)
SELECT NULL, line, 'line ' || line_no || ' is not an OTLP/JSON traces object'
FROM ({_lines(path, numbered=True)}) WHERE {broken} ORDER BY line_no""")
    # a record's place in the file, counted from 1: inserts keep the order they read in
    cur.execute("UPDATE _spans SET seq = rowid - (SELECT min(rowid) FROM _spans) + 1")
    cur.execute("INSERT INTO _evals " + _evaluations(
        "(SELECT trace_id, span_id, unnest(evaluations) AS v FROM _spans "
        "WHERE len(evaluations) > 0)", "trace_id", "span_id"))
    if options.scores:
        _logs(cur, options.scores)


def _sql_type(shape) -> str:
    """The SQL type json_transform gives a shape."""
    if isinstance(shape, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {_sql_type(v)}' for k, v in shape.items()) + ")"
    if isinstance(shape, list):
        return _sql_type(shape[0]) + "[]"
    return shape


def fill_raw(cur, path: Path, ingest_id: str) -> None:
    """Rejected spans of this ingest get their JSON as written, read back from the file (their
    raw value was its `locator`)."""
    wanted = (f"SELECT raw FROM rejected_rows WHERE ingest_id = $id AND "
              f"starts_with(raw, {literal(LOCATOR)})")
    if not cur.execute(f"SELECT count(*) FROM ({wanted})", {"id": ingest_id}).fetchone()[0]:
        return
    found = (f"SELECT {locator('lower(s.traceId)', 'lower(s.spanId)')} AS raw, "
             f"any_value(span)::VARCHAR AS span FROM ({_spans_of(path, _SPAN)}) "
             f"WHERE {locator('lower(s.traceId)', 'lower(s.spanId)')} IN ({wanted}) "
             "GROUP BY ALL")
    cur.execute(f"UPDATE rejected_rows r SET raw = f.span FROM ({found}) f "
                "WHERE r.ingest_id = $id AND r.raw = f.raw", {"id": ingest_id})


def _logs(cur, path: Path) -> None:
    """Evaluation events from an OTLP/JSON logs file, matched to spans by trace and span id,
    or, for an event that carries neither, by the `gen_ai.response.id` of the call."""
    records = _spans_of(path, _RECORD, "resourceLogs.scopeLogs.logRecords")
    a, k = "s.attributes", "keys"
    named = f"coalesce(s.eventName, {_attr(a, k, 'event.name')})"
    events = (f"SELECT s.traceId, s.spanId, struct_pack(timeUnixNano := coalesce(NULLIF("
              "s.timeUnixNano, '0'), s.observedTimeUnixNano), attributes := s.attributes) AS v, "
              f"{_attr(a, k, 'gen_ai.response.id')} AS response_id "
              f"FROM ({records}) WHERE {named} = {literal(EVALUATION)}")
    calls = ("SELECT response_id, any_value(trace_id) AS trace_id, any_value(span_id) AS "
             "span_id FROM _spans WHERE is_call AND response_id IS NOT NULL GROUP BY ALL")
    matched = (f"(SELECT coalesce(NULLIF(e.traceId, ''), c.trace_id) AS traceId, "
               f"coalesce(NULLIF(e.spanId, ''), c.span_id) AS spanId, e.v FROM ({events}) e "
               f"LEFT JOIN ({calls}) c ON NULLIF(e.spanId, '') IS NULL "
               "AND c.response_id = e.response_id)")
    cur.execute("INSERT INTO _evals " + _evaluations(matched, "traceId", "spanId"))


def looks_like(first: dict) -> bool:
    """Whether a file's first JSON object is an OTLP traces export."""
    return "resourceSpans" in first
