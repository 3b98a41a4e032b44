"""Small exports of the observability tools the scorecard imports, made by their own libraries
where they have one: OTLP/JSON traces from spans recorded by the OpenTelemetry Python SDK (a
fake chat client instrumented per the GenAI conventions, encoded by the SDK's OTLP encoder and
written as the collector's file exporter writes them), the spans the Langfuse SDK and
opentelemetry-util-genai's handler send over OpenTelemetry (recorded offline), spans in
OpenInference's names (from its semantic-conventions
package), OTLP/JSON evaluation logs from OpenTelemetry's protobuf classes, and Langfuse and
Phoenix exports in their documented shapes.

Run `python tests/exports.py DIR` to write them; the tests call `write_all`.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, use_span

START = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1e9)


class FakeChatClient:
    """A chat client that answers from a script, traced as the GenAI conventions say: one
    CLIENT span per call named `chat MODEL`, with the operation, models and token usage."""

    def __init__(self, tracer, provider: str = "openai"):
        self.tracer, self.provider = tracer, provider

    def chat(self, model: str, at: datetime, seconds: float, tokens: tuple[int, int],
             *, cached: int = 0, error: str | None = None, deprecated: bool = False,
             evaluation: tuple[str, str | None, float | None] | None = None):
        span = self.tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT,
                                      start_time=_ns(at))
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", self.provider)
        span.set_attribute("gen_ai.request.model", model)
        if error:
            span.set_attribute("error.type", error)
            span.set_status(Status(StatusCode.ERROR, error))
        else:
            span.set_attribute("gen_ai.response.model", f"{model}-2026-08-06")
            names = (("gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens")
                     if deprecated else
                     ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"))
            span.set_attribute(names[0], tokens[0])
            span.set_attribute(names[1], tokens[1])
            if cached:
                span.set_attribute("gen_ai.usage.cache_read.input_tokens", cached)
        if evaluation:
            name, label, score = evaluation
            attributes = {"gen_ai.evaluation.name": name}
            if label is not None:
                attributes["gen_ai.evaluation.score.label"] = label
            if score is not None:
                attributes["gen_ai.evaluation.score.value"] = score
            span.add_event("gen_ai.evaluation.result", attributes,
                           timestamp=_ns(at + timedelta(seconds=seconds + 60)))
        span.end(end_time=_ns(at + timedelta(seconds=seconds)))
        return span


def _hex_ids(value):
    """OTLP/JSON writes trace and span ids in hex, where protobuf's JSON mapping gives base64."""
    if isinstance(value, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId")
                    and isinstance(v, str) else _hex_ids(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_hex_ids(v) for v in value]
    return value


def _recorded(service: str, record, version: str | None = None) -> list:
    """The finished spans of one service (of `version`, when given), recorded by the SDK while
    `record(tracer)` runs."""
    exporter = InMemorySpanExporter()
    resource = {"service.name": service, **({"service.version": version} if version else {})}
    provider = TracerProvider(resource=Resource.create(resource))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    record(provider.get_tracer("scorecard.tests"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def support_bot(tracer) -> None:
    """Six model calls: evaluated pass and fail, one by score only, one error, one timeout,
    one with the deprecated token names and cached input."""
    client = FakeChatClient(tracer)
    t = START
    client.chat("gpt-4o", t, 1.2, (100, 20), evaluation=("correctness", "pass", 0.9))
    client.chat("gpt-4o", t + timedelta(minutes=1), 2.5, (300, 50),
                evaluation=("correctness", "fail", 0.2))
    client.chat("gpt-4o", t + timedelta(minutes=2), 0.8, (80, 10),
                evaluation=("correctness", None, 0.75))
    client.chat("gpt-4o", t + timedelta(minutes=3), 0.3, (0, 0), error="RateLimitError")
    client.chat("gpt-4o", t + timedelta(minutes=4), 30.0, (0, 0), error="timeout")
    client.chat("gpt-4o-mini", t + timedelta(minutes=5), 0.5, (1000, 40), cached=800,
                deprecated=True)


def trip_planner(tracer) -> None:
    """Two agent runs: a root `invoke_agent` span, a tool span and two model calls each."""
    client = FakeChatClient(tracer, provider="anthropic")
    for run, at in enumerate((START + timedelta(hours=1), START + timedelta(hours=2))):
        root = tracer.start_span("invoke_agent researcher", start_time=_ns(at))
        root.set_attribute("gen_ai.operation.name", "invoke_agent")  # not a model call
        root.set_attribute("gen_ai.agent.name", "researcher")
        root.set_attribute("gen_ai.agent.version", "0.4.1")
        with use_span(root, end_on_exit=False):
            client.chat("claude-sonnet-4", at + timedelta(seconds=1), 3.0, (2000, 300))
            tool = tracer.start_span("execute_tool search", start_time=_ns(at + timedelta(
                seconds=4)))
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.end(end_time=_ns(at + timedelta(seconds=5)))
            client.chat("claude-sonnet-4", at + timedelta(seconds=6), 2.0, (2500, 400),
                        evaluation=("task_success", "pass" if run == 0 else "fail", None))
        if run == 1:
            root.set_status(Status(StatusCode.ERROR, "gave up"))
        root.end(end_time=_ns(at + timedelta(seconds=9)))


def write_otlp(out: Path) -> Path:
    """Two services' spans as the collector's file exporter writes them: one export request
    per line (the second with enum names, as some exporters write them)."""
    lines = []
    for service, record, integers, version in (("support-bot", support_bot, True, "2.3.0"),
                                               ("trip-planner", trip_planner, False, None)):
        request = encode_spans(_recorded(service, record, version))
        lines.append(json.dumps(_hex_ids(MessageToDict(request,
                                                       use_integers_for_enums=integers))))
    path = out / "traces.otlp.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_otlp_logs(out: Path, traces: Path) -> Path:
    """An evaluation as an OTLP/JSON log event, for the third support-bot call (which has a
    score on its span too): the later evaluation, here a fail label, is the one that counts."""
    spans = [s for line in traces.read_text().splitlines()
             for r in json.loads(line)["resourceSpans"] for sc in r["scopeSpans"]
             for s in sc["spans"]]
    third = [s for s in spans if s["name"] == "chat gpt-4o"][2]
    record = LogRecord(
        time_unix_nano=int(third["endTimeUnixNano"]) + int(3600e9), event_name=(
            "gen_ai.evaluation.result"),
        trace_id=bytes.fromhex(third["traceId"]), span_id=bytes.fromhex(third["spanId"]),
        attributes=[KeyValue(key="gen_ai.evaluation.name",
                             value=AnyValue(string_value="correctness")),
                    KeyValue(key="gen_ai.evaluation.score.label",
                             value=AnyValue(string_value="fail"))])
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(
        log_records=[record])])])
    path = out / "evaluations.otlp.jsonl"
    path.write_text(json.dumps(_hex_ids(MessageToDict(request))) + "\n")
    return path


def _when(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


LANGFUSE = [  # (id, trace, parent, type, minute, seconds, model, usage, cost, level)
    ("obs-1", "tr-1", None, "GENERATION", 0, 1.5, "gpt-4o", (120, 30, 0), 0.0006, "DEFAULT"),
    ("obs-2", "tr-2", None, "GENERATION", 5, 2.0, "gpt-4o", (200, 60, 50), None, "DEFAULT"),
    ("obs-3", "tr-3", None, "GENERATION", 9, 30.0, "gpt-4o", (0, 0, 0), None, "ERROR"),
    ("obs-4", "tr-3", None, "SPAN", 9, 31.0, None, None, None, "DEFAULT"),
]
SCORES = [  # (trace, observation, name, value, string value, data type, source)
    ("tr-1", "obs-1", "helpfulness", 1, "True", "BOOLEAN", "ANNOTATION"),
    ("tr-2", "obs-2", "helpfulness", 0, "False", "BOOLEAN", "EVAL"),
    ("tr-2", "obs-2", "rewrite", 1, "corrected", "CATEGORICAL", "CORRECTION"),
]


def write_langfuse(out: Path) -> tuple[Path, Path, Path, Path]:
    """The observations and scores twice: as the public API returns them (camelCase JSON, a
    page's data) and as the blob-storage export writes them (snake_case CSV, JSON in cells)."""
    api, blob = [], []
    for oid, trace, parent, kind, minute, seconds, model, usage, cost, level in LANGFUSE:
        start, end = _when(minute), _when(minute) + timedelta(seconds=seconds)
        details = ({"input": usage[0], "output": usage[1], "input_cached_tokens": usage[2],
                    "total": sum(usage)} if usage else {})
        api.append({"id": oid, "traceId": trace, "type": kind, "name": "chat",
                    "startTime": start.isoformat().replace("+00:00", "Z"),
                    "endTime": end.isoformat().replace("+00:00", "Z"),
                    "model": model, "providedModelName": model, "usageDetails": details,
                    "costDetails": {"total": cost} if cost is not None else {},
                    "totalCost": cost, "level": level,
                    "statusMessage": "Request timed out" if level == "ERROR" else None,
                    "parentObservationId": parent, "traceName": "support-bot",
                    "release": "bot-2026.11.3", "userId": f"customer-{trace}",
                    "metadata": {"team": "growth"}, "tags": ["feature:chat", "beta"]})
        blob.append({"id": oid, "trace_id": trace, "type": kind, "name": "chat",
                     "start_time": start.strftime("%Y-%m-%d %H:%M:%S.%f"),
                     "end_time": end.strftime("%Y-%m-%d %H:%M:%S.%f"),
                     "provided_model_name": model or "", "usage_details": json.dumps(details),
                     "cost_details": json.dumps({"total": cost} if cost is not None else {}),
                     "total_cost": "" if cost is None else cost, "level": level,
                     "status_message": "Request timed out" if level == "ERROR" else "",
                     "parent_observation_id": parent or "", "trace_name": "support-bot",
                     "release": "bot-2026.11.3", "user_id": f"customer-{trace}",
                     "metadata": json.dumps({"team": "growth"}),
                     "tags": json.dumps(["feature:chat", "beta"])})
    api_scores = [{"id": f"s{i}", "traceId": t, "observationId": o, "name": n, "value": v,
                   "stringValue": sv, "dataType": dt, "source": src,
                   "timestamp": _when(30 + i).isoformat().replace("+00:00", "Z")}
                  for i, (t, o, n, v, sv, dt, src) in enumerate(SCORES)]
    blob_scores = [{"id": f"s{i}", "trace_id": t, "observation_id": o, "name": n, "value": v,
                    "string_value": sv, "data_type": dt, "source": src,
                    "timestamp": _when(30 + i).strftime("%Y-%m-%d %H:%M:%S.%f")}
                   for i, (t, o, n, v, sv, dt, src) in enumerate(SCORES)]
    paths = (out / "langfuse-observations.json", out / "langfuse-scores.json",
             out / "langfuse-observations.csv", out / "langfuse-scores.csv")
    paths[0].write_text(json.dumps({"data": api, "meta": {"page": 1, "totalItems": len(api)}}))
    paths[1].write_text("\n".join(json.dumps(s) for s in api_scores) + "\n")
    pd.DataFrame(blob).to_csv(paths[2], index=False)
    pd.DataFrame(blob_scores).to_csv(paths[3], index=False)
    return paths


def write_phoenix(out: Path) -> tuple[Path, Path]:
    """A spans dataframe (`px.Client().get_spans_dataframe()`) and span annotations saved as
    Parquet: an LLM call judged correct by a person, one judged incorrect by an LLM, an
    errored call and its chain span."""
    rows = []
    for i, (kind, status, label) in enumerate((("LLM", "OK", "correct"),
                                               ("LLM", "OK", "incorrect"),
                                               ("LLM", "ERROR", None), ("CHAIN", "OK", None))):
        start = pd.Timestamp(_when(10 * i))
        rows.append({"name": "ChatCompletion" if kind == "LLM" else "pipeline",
                     "span_kind": kind, "parent_id": None if kind == "CHAIN" else "c3",
                     "start_time": start, "end_time": start + pd.Timedelta(seconds=1 + i),
                     "status_code": status, "status_message": "",
                     "context.span_id": f"s{i}", "context.trace_id": f"t{i}",
                     "attributes.llm.model_name": "gpt-4o-mini" if kind == "LLM" else None,
                     "attributes.llm.token_count.prompt": 50 * (i + 1) if kind == "LLM" else None,
                     "attributes.llm.token_count.completion": 10 * (i + 1)
                     if kind == "LLM" else None,
                     "attributes.llm.cost.total": 0.001 * (i + 1) if i == 0 else None,
                     "attributes.openinference.span.kind": kind,
                     "attributes.user.id": f"user-{i}"})
    spans = pd.DataFrame(rows)
    annotations = pd.DataFrame([
        {"span_id": "s0", "name": "correctness", "annotator_kind": "HUMAN",
         "result.label": "correct", "result.score": 1.0, "created_at": pd.Timestamp(_when(60))},
        {"span_id": "s1", "name": "correctness", "annotator_kind": "LLM",
         "result.label": "incorrect", "result.score": 0.0,
         "created_at": pd.Timestamp(_when(61))}])
    paths = (out / "phoenix-spans.parquet", out / "phoenix-annotations.parquet")
    spans.to_parquet(paths[0], index=False)
    annotations.to_parquet(paths[1], index=False)
    return paths


def _otlp_line(spans) -> str:
    return json.dumps(_hex_ids(MessageToDict(encode_spans(spans))))


def openinference_rag(tracer) -> None:
    """OpenInference's names (its semantic-conventions package), as Phoenix's and Arize's
    instrumentations send them over OTLP: a chain, a retriever, a model call and a failed
    call that only its invocation parameters name the model of."""
    from openinference.semconv.trace import OpenInferenceSpanKindValues as Kind
    from openinference.semconv.trace import SpanAttributes as OI

    root = tracer.start_span("rag", start_time=_ns(START))
    root.set_attribute(OI.OPENINFERENCE_SPAN_KIND, Kind.CHAIN.value)
    with use_span(root, end_on_exit=False):
        lookup = tracer.start_span("retrieve", start_time=_ns(START))
        lookup.set_attribute(OI.OPENINFERENCE_SPAN_KIND, Kind.RETRIEVER.value)
        lookup.end(end_time=_ns(START + timedelta(seconds=1)))
        for i, failed in enumerate((False, True)):
            at = START + timedelta(seconds=1 + 3 * i)
            call = tracer.start_span("ChatCompletion", start_time=_ns(at))
            call.set_attribute(OI.OPENINFERENCE_SPAN_KIND, Kind.LLM.value)
            call.set_attribute(OI.LLM_INVOCATION_PARAMETERS, json.dumps({"model": "gpt-4o"}))
            if failed:
                call.set_status(Status(StatusCode.ERROR, "Request timed out."))
                call.set_attribute("error.type", "APITimeoutError")
            else:
                call.set_attribute(OI.LLM_MODEL_NAME, "gpt-4o-2026-08-06")
                call.set_attribute(OI.LLM_TOKEN_COUNT_PROMPT, 500)
                call.set_attribute(OI.LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_READ, 200)
                call.set_attribute(OI.LLM_TOKEN_COUNT_COMPLETION, 60)
                call.set_attribute(OI.LLM_COST_TOTAL, 0.0031)
            call.end(end_time=_ns(at + timedelta(seconds=2)))
    root.end(end_time=_ns(START + timedelta(seconds=8)))


def openllmetry_chat(tracer) -> None:
    """A chat call in the GenAI names from before `gen_ai.operation.name` (as OpenLLMetry
    writes them): the system, the request type, prompt and completion tokens."""
    call = tracer.start_span("openai.chat", start_time=_ns(START))
    call.set_attribute("gen_ai.system", "openai")
    call.set_attribute("llm.request.type", "chat")
    call.set_attribute("gen_ai.request.model", "gpt-4o-mini")
    call.set_attribute("gen_ai.usage.prompt_tokens", 120)
    call.set_attribute("gen_ai.usage.completion_tokens", 30)
    call.end(end_time=_ns(START + timedelta(seconds=1)))


def langfuse_sdk_spans() -> list:
    """A trace as the Langfuse SDK sends it over OpenTelemetry (`langfuse.observation.*`):
    a span holding a generation with usage (reasoning and cache reads apart) and cost, and a
    generation that timed out. Recorded offline: the SDK's exporter is replaced by one that
    keeps the spans."""
    from langfuse import Langfuse

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "lf-bot"}))
    # the SDK keeps one client per public key in a process: a key of its own each time, or a
    # second export would go to the first one's (shut down) exporter
    client = Langfuse(public_key=f"pk-lf-{uuid.uuid4().hex}", secret_key="sk-lf-test",
                      host="http://127.0.0.1:9", tracer_provider=provider,
                      span_exporter=exporter, release="bot-1.2")
    with client.start_as_current_observation(name="answer", as_type="span"):
        with client.start_as_current_observation(name="chat", as_type="generation",
                                                 model="gpt-4o") as call:
            call.update(usage_details={"input": 100, "output": 20, "output_reasoning_tokens": 5,
                                       "input_cache_read": 30}, cost_details={"total": 0.002})
        with client.start_as_current_observation(name="chat", as_type="generation",
                                                 model="gpt-4o") as call:
            call.update(level="ERROR", status_message="Request timed out")
    client.flush()
    client.shutdown()
    return list(exporter.get_finished_spans())


def util_genai_spans() -> list:
    """An agent's workflow as opentelemetry-util-genai's handler records it: an
    `invoke_workflow` span holding a `retrieval`, a chat call and a chat call that timed out."""
    from opentelemetry.util.genai.handler import TelemetryHandler

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "ug-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    handler = TelemetryHandler(tracer_provider=provider)
    with handler.workflow(name="answer"):
        with handler.retrieval(data_source_id="kb", provider="chroma"):
            pass
        with handler.inference("openai", request_model="gpt-4o") as call:
            call.response_model_name = "gpt-4o-2026-08-06"
            call.input_tokens, call.output_tokens = 700, 90
        try:
            with handler.inference("openai", request_model="gpt-4o"):
                raise TimeoutError("Request timed out.")
        except TimeoutError:
            pass
    provider.shutdown()
    return list(exporter.get_finished_spans())


def write_otlp_vocabularies(out: Path) -> Path:
    """One OTLP/JSON file with a line from each of those vocabularies."""
    path = out / "vocabularies.otlp.jsonl"
    path.write_text("\n".join([_otlp_line(_recorded("rag-oi", openinference_rag)),
                               _otlp_line(_recorded("chat-old", openllmetry_chat)),
                               _otlp_line(langfuse_sdk_spans()),
                               _otlp_line(util_genai_spans())]) + "\n")
    return path


def write_all(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    traces = write_otlp(out)
    langfuse = write_langfuse(out)
    phoenix = write_phoenix(out)
    return {"otlp": traces, "otlp_logs": write_otlp_logs(out, traces),
            "langfuse_api": langfuse[0], "langfuse_api_scores": langfuse[1],
            "langfuse_csv": langfuse[2], "langfuse_csv_scores": langfuse[3],
            "phoenix": phoenix[0], "phoenix_annotations": phoenix[1],
            "otlp_vocabularies": write_otlp_vocabularies(out)}


if __name__ == "__main__":
    for name, path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "exports")).items():
        print(f"{name}: {path}")
