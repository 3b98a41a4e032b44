"""The bench's events as the OpenTelemetry collector's file exporter would write them: OTLP/JSON
traces, one export request of up to 10,000 model-call spans per line, each span with its
GenAI attributes and, when its outcome is known, a `gen_ai.evaluation.result` event. Written
by DuckDB from the generated Parquet file, so it takes seconds, not minutes."""

from __future__ import annotations

from pathlib import Path

import duckdb

SPANS_PER_LINE = 10_000


def write_otlp(source: Path, target: Path) -> Path:
    """`target` holds the events of `source` as OTLP/JSON traces."""
    value = ("json_object('{kind}', {expr})")  # an OTLP AnyValue
    attribute = "{{'key': '{key}', 'value': " + value + "}}"

    def attr(key: str, kind: str, expr: str) -> str:
        return attribute.format(key=key, kind=kind, expr=expr)

    attributes = ", ".join([
        attr("gen_ai.operation.name", "stringValue", "'chat'"),
        attr("gen_ai.request.model", "stringValue", "model"),
        attr("gen_ai.response.model", "stringValue", "model")])
    optional = [  # attributes a span has only when its value is known
        ("input_tokens IS NOT NULL",
         attr("gen_ai.usage.input_tokens", "intValue", "CAST(input_tokens AS VARCHAR)")),
        ("output_tokens IS NOT NULL",
         attr("gen_ai.usage.output_tokens", "intValue", "CAST(output_tokens AS VARCHAR)")),
        ("isfinite(cost_usd)", attr("gen_ai.usage.cost", "doubleValue", "cost_usd")),
        ("status = 'timeout'", attr("error.type", "stringValue", "'timeout'"))]
    extra = " || ".join(f"CASE WHEN {cond} THEN [{a}] ELSE [] END" for cond, a in optional)
    duration = ("CAST(coalesce(CASE WHEN isfinite(latency_ms) THEN latency_ms END, 0) * 1e6 "
                "AS BIGINT)")
    evaluation = (  # judged an hour after the call
        "CASE WHEN outcome IS NOT NULL THEN [{'timeUnixNano': CAST(epoch_ns(timestamp) + "
        + duration + " + 3600000000000 AS VARCHAR), 'name': 'gen_ai.evaluation.result', "
        "'attributes': [" + attr("gen_ai.evaluation.name", "stringValue", "'correctness'")
        + ", " + attr("gen_ai.evaluation.score.label", "stringValue",
                      "CASE WHEN outcome = 'success' THEN 'pass' ELSE 'fail' END")
        + "]}] ELSE [] END")
    span = f"""{{'traceId': lower(lpad(to_hex(hash(event_id, 'trace')), 32, '0')),
      'spanId': lower(lpad(to_hex(hash(event_id)), 16, '0')), 'parentSpanId': '',
      'name': 'chat ' || model, 'kind': 3,
      'startTimeUnixNano': CAST(epoch_ns(timestamp) AS VARCHAR),
      'endTimeUnixNano': CAST(epoch_ns(timestamp) + {duration} AS VARCHAR),
      'attributes': [{attributes}] || {extra},
      'events': {evaluation},
      'status': {{'code': CASE WHEN status IN ('error', 'timeout') THEN 2 ELSE 0 END}}}}"""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"""COPY (
SELECT [{{'resource': {{'attributes': [{attr('service.name', 'stringValue', 'system')}]}},
         'scopeSpans': [{{'scope': {{'name': 'bench'}}, 'spans': list(span ORDER BY n)}}]}}]
       AS resourceSpans
FROM (SELECT system, n // {SPANS_PER_LINE} AS line, n, {span} AS span
      FROM (SELECT *, row_number() OVER () AS n FROM read_parquet('{source}')))
GROUP BY system, line ORDER BY min(n)) TO '{target}' (FORMAT json)""")
    return target
