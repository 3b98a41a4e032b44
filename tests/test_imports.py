"""Imports of OpenTelemetry, Langfuse and Phoenix exports (SPEC section 5), on files their own
libraries wrote (tests/exports.py), into a real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import table_snapshot
from exports import write_all
from scorecard.errors import BadInput
from scorecard.store.formats import ImportOptions, detect
from scorecard.store.ingest import ingest_file
from scorecard.store.mapping import ColumnMap

COLUMNS = ("event_id, system, model, status, latency_ms, cost_usd, input_tokens, output_tokens, "
           "outcome, outcome_at, human_reviewed, human_overridden")


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("exports"))


def rows(store) -> dict[str, dict]:
    return {r["event_id"]: r for r in store.query_dicts(
        f"SELECT {COLUMNS} FROM inference_events")}


def by_order(store, system: str) -> list[dict]:
    return store.query_dicts(f"SELECT {COLUMNS} FROM inference_events WHERE system = ? "
                             "ORDER BY timestamp", [system])


def test_each_export_is_recognised_from_its_content(exports):
    assert detect(exports["otlp"], "jsonl") == "otlp"
    assert detect(exports["langfuse_api"], "jsonl") == "langfuse"
    assert detect(exports["langfuse_csv"], "csv") == "langfuse"
    assert detect(exports["phoenix"], "parquet") == "phoenix"


def test_otlp_model_calls_become_events_with_their_evaluations(store, exports, pricing):
    result = ingest_file(store, exports["otlp"], pricing=pricing,
                         import_options=ImportOptions(scores=exports["otlp_logs"]))
    assert (result.rows_read, result.inserted, result.rejected) == (10, 10, 0)
    bot = by_order(store, "support-bot")
    assert [e["status"] for e in bot] == ["ok", "ok", "ok", "error", "timeout", "ok"]
    assert [e["latency_ms"] for e in bot] == [1200.0, 2500.0, 800.0, 300.0, 30000.0, 500.0]
    assert bot[0]["model"] == "gpt-4o-2026-08-06" and bot[3]["model"] == "gpt-4o"
    # labels decide; the later evaluation (the logs file's fail) wins over the span's score
    assert [e["outcome"] for e in bot] == ["success", "failure", "failure", None, None, None]
    assert bot[2]["outcome_at"] > bot[1]["outcome_at"]
    # the deprecated token names are read; cached input is priced at the cache's rate
    assert (bot[5]["input_tokens"], bot[5]["output_tokens"]) == (1000, 40)
    assert bot[5]["cost_usd"] == pytest.approx((200 * 0.15 + 800 * 0.075 + 40 * 0.60) / 1e6)
    agent = by_order(store, "trip-planner")
    assert len(agent) == 4 and {e["model"] for e in agent} == {"claude-sonnet-4-2026-08-06"}
    assert [e["outcome"] for e in agent] == [None, "success", None, "failure"]
    assert all(e["human_reviewed"] is None for e in bot + agent)  # OTLP does not say


def test_a_score_against_a_cut_decides_when_no_label_does(store, exports):
    ingest_file(store, exports["otlp"], import_options=ImportOptions(
        outcome_from="correctness", pass_at=0.7))
    bot = by_order(store, "support-bot")
    assert [e["outcome"] for e in bot[:3]] == ["success", "failure", "success"]
    assert not store.scalar("SELECT count(outcome) FROM inference_events WHERE system = "
                            "'trip-planner'")  # its evaluation has another name


def test_one_event_per_trace_for_agents(store, exports):
    result = ingest_file(store, exports["otlp"], import_options=ImportOptions(unit="trace"))
    assert result.inserted == 8  # six one-call traces and two agent runs
    runs = by_order(store, "trip-planner")
    assert [r["latency_ms"] for r in runs] == [9000.0, 9000.0]  # the root span's whole run
    assert [(r["input_tokens"], r["output_tokens"]) for r in runs] == [(4500, 700)] * 2
    assert [r["status"] for r in runs] == ["ok", "error"]  # the root span's status
    assert [r["outcome"] for r in runs] == ["success", "failure"]
    assert store.scalar("SELECT count(*) FROM inference_events WHERE event_id = input_ref") == 8


def test_loading_an_export_again_stores_nothing_twice(store, exports):
    ingest_file(store, exports["otlp"])
    again = ingest_file(store, exports["otlp"])
    assert (again.inserted, again.duplicates, again.conflicts) == (0, 10, 0)


def test_langfuse_api_json_and_blob_csv_and_parquet_load_the_same_events(tmp_path, exports,
                                                                         pricing):
    """The API's JSON, and the blob-storage export as CSV and as Parquet (#34: refused)."""
    from scorecard.store.db import Store

    blob = {}
    for name in ("langfuse_csv", "langfuse_csv_scores"):
        blob[name] = tmp_path / exports[name].with_suffix(".parquet").name
        pd.read_csv(exports[name]).to_parquet(blob[name], index=False)
    loaded = []
    for observations, scores in ((exports["langfuse_api"], exports["langfuse_api_scores"]),
                                 (exports["langfuse_csv"], exports["langfuse_csv_scores"]),
                                 (blob["langfuse_csv"], blob["langfuse_csv_scores"])):
        with Store(tmp_path / f"{observations.name}.duckdb") as store:
            result = ingest_file(store, observations, pricing=pricing,
                                 import_options=ImportOptions(scores=scores))
            assert (result.rows_read, result.inserted) == (3, 3)  # the SPAN is not a call
            loaded.append(rows(store))
    assert loaded[0] == loaded[1] == loaded[2]
    events = loaded[0]
    assert events["obs-1"]["outcome"] == "success" and events["obs-2"]["outcome"] == "failure"
    assert events["obs-1"]["human_reviewed"] and not events["obs-1"]["human_overridden"]
    assert events["obs-2"]["human_reviewed"] and events["obs-2"]["human_overridden"]
    assert events["obs-3"]["human_reviewed"] is False  # no one looked at it
    assert events["obs-3"]["status"] == "timeout" and events["obs-1"]["cost_usd"] == 0.0006
    # no cost in the export: priced, its 50 cached input tokens at the cache's rate
    assert events["obs-2"]["input_tokens"] == 250
    assert events["obs-2"]["cost_usd"] == pytest.approx(
        (200 * 2.50 + 50 * 1.25 + 60 * 10.0) / 1e6)


def test_phoenix_spans_need_a_system_name_and_then_load(store, exports):
    options = ImportOptions(scores=exports["phoenix_annotations"])
    before = table_snapshot(store)
    with pytest.raises(BadInput, match="does not name the AI system"):
        ingest_file(store, exports["phoenix"], import_options=options)
    assert table_snapshot(store) == before
    result = ingest_file(store, exports["phoenix"], import_options=options,
                         cmap=ColumnMap(constants={"system": "rag-answers"}))
    assert (result.rows_read, result.inserted) == (3, 3)  # the CHAIN span is not a call
    events = rows(store)
    assert [events[s]["outcome"] for s in ("s0", "s1", "s2")] == ["success", "failure", None]
    assert [events[s]["human_reviewed"] for s in ("s0", "s1", "s2")] == [True, False, False]
    assert events["s2"]["status"] == "error" and events["s0"]["cost_usd"] == 0.001


def test_phoenix_failed_calls_keep_the_model_they_asked_for_and_annotations_their_name(
        store, exports, tmp_path):
    """#34: Phoenix leaves `llm.model_name` out of a call that failed; only its invocation
    parameters name the model. A failed call is never dropped for that: it takes the model it
    asked for, or `unknown`; a call that succeeded without a model is still rejected.
    Phoenix's client names an annotation in `annotation_name`."""
    spans = pd.read_parquet(exports["phoenix"])
    spans["attributes.llm.invocation_parameters"] = None
    failed = spans.iloc[[2, 2, 0]].copy()
    failed["context.span_id"] = ["f-asked", "f-silent", "ok-silent"]
    failed["status_code"] = ["ERROR", "ERROR", "OK"]
    failed["status_message"] = ["Request timed out.", "rate limited", ""]
    failed["attributes.llm.model_name"] = None
    failed["attributes.llm.invocation_parameters"] = ['{"model": "gpt-4o", "temperature": 0}',
                                                      None, None]
    path = tmp_path / "phoenix-failed.parquet"
    pd.concat([spans, failed]).to_parquet(path, index=False)
    annotations = pd.read_parquet(exports["phoenix_annotations"]).rename(
        columns={"name": "annotation_name"})
    scores = tmp_path / "annotations.parquet"
    annotations.to_parquet(scores, index=False)
    options = ImportOptions(scores=scores, outcome_from="correctness")
    result = ingest_file(store, path, import_options=options,
                         cmap=ColumnMap(constants={"system": "rag-answers"}))
    assert (result.rows_read, result.inserted, result.rejected) == (6, 5, 1)
    events = rows(store)
    assert (events["f-asked"]["model"], events["f-asked"]["status"]) == ("gpt-4o", "timeout")
    assert (events["f-silent"]["model"], events["f-silent"]["status"]) == ("unknown", "error")
    assert "ok-silent" not in events
    assert [events[s]["outcome"] for s in ("s0", "s1")] == ["success", "failure"]


def _otlp_spans(path: Path, change) -> list[dict]:
    """The export's lines with `change(span)` applied to every span."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for batch in lines:
        for resource in batch["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    change(span)
    return lines


def _without_labels(span: dict) -> None:
    for event in span.get("events", []):
        event["attributes"] = [a for a in event["attributes"]
                               if a["key"] != "gen_ai.evaluation.score.label"]


@pytest.mark.parametrize("outcome_from, labels, why", [
    ("corectness", True, "none is named 'corectness' (names found: correctness"),
    ("correctness", False, "their scores are numbers without a label; say which pass with "
                           "--pass-at"),
])
def test_evaluations_asked_for_that_decide_nothing_say_why_and_store_nothing(
        store, exports, tmp_path, outcome_from, labels, why):
    """#34: a misspelt --outcome-from, or numeric scores without --pass-at, once loaded every
    call with no outcome and no word; now the load is refused with a sentence saying what
    was read and why no outcome came of it."""
    path = exports["otlp"]
    if not labels:
        path = tmp_path / "scores-only.jsonl"
        path.write_text("".join(json.dumps(line) + "\n"
                                for line in _otlp_spans(exports["otlp"], _without_labels)))
    before = table_snapshot(store)
    with pytest.raises(BadInput) as refused:
        ingest_file(store, path, import_options=ImportOptions(outcome_from=outcome_from))
    said = str(refused.value)
    assert said.startswith(f"{path.name}: ") and "10 model calls" in said, said
    assert "0 decisions given an outcome" in said and why in said, said
    assert said.endswith("nothing was stored.")
    assert table_snapshot(store) == before


def test_scores_of_whole_traces_with_one_event_per_call_say_to_use_the_trace_unit(
        store, exports, tmp_path):
    """#34: Langfuse scores on a trace (no observation) decide nothing with `--unit call`."""
    scores = [json.loads(line) | {"observationId": None}
              for line in exports["langfuse_api_scores"].read_text().splitlines()]
    path = tmp_path / "trace-scores.jsonl"
    path.write_text("".join(json.dumps(score) + "\n" for score in scores))
    options = ImportOptions(scores=path, outcome_from="helpfulness")
    with pytest.raises(BadInput, match="they score whole traces; load with --unit trace"):
        ingest_file(store, exports["langfuse_api"], import_options=options)
    traces = ingest_file(store, exports["langfuse_api"],
                         import_options=options.model_copy(update={"unit": "trace"}))
    assert traces.said.endswith("2 decisions given an outcome."), traces.said


def test_an_export_with_no_model_call_says_what_a_model_call_is(store, exports, tmp_path):
    """#34: spans without gen_ai.operation.name (as tools on the conventions' older names
    write them) loaded as 0 rows with exit 0; now one sentence, and nothing stored."""
    def not_a_call(span: dict) -> None:
        span["attributes"] = [a for a in span["attributes"]
                              if a["key"] != "gen_ai.operation.name"]

    lines = _otlp_spans(exports["otlp"], not_a_call)
    path = tmp_path / "no-calls.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(BadInput, match=r"none of them a model call: a model call is a span "
                                       r"with gen_ai.operation.name"):
        ingest_file(store, path)
    assert store.scalar("SELECT count(*) FROM inference_events") == 0


def test_workflow_and_retrieval_spans_are_steps_of_a_trace_not_model_calls(store, exports,
                                                                           tmp_path):
    """#34: opentelemetry-util-genai names an agent's run `invoke_workflow` and a lookup
    `retrieval`; they were taken for model calls and rejected (no model)."""
    renamed = {"invoke_agent": "invoke_workflow", "execute_tool": "retrieval"}

    def as_util_genai(span: dict) -> None:
        for attribute in span["attributes"]:
            value = attribute["value"].get("stringValue")
            if attribute["key"] == "gen_ai.operation.name" and value in renamed:
                attribute["value"]["stringValue"] = renamed[value]

    lines = _otlp_spans(exports["otlp"], as_util_genai)
    assert sum(json.dumps(line).count('"retrieval"') for line in lines) > 0
    path = tmp_path / "util-genai.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (10, 10, 0)
    traces = ingest_file(store, path, import_options=ImportOptions(unit="trace"))
    assert (traces.rows_read, traces.inserted) == (8, 8)  # 6 one-call traces, 2 workflow runs


def test_langfuse_reasoning_and_cache_writes_by_lifetime_count_in_the_totals(store, tmp_path,
                                                                              exports):
    """#34: Langfuse keeps reasoning tokens apart from `output` and a cache write split by
    its time to live apart from `input`; both were left out (cost 14% low)."""
    page = json.loads(exports["langfuse_api"].read_text())
    call = next(o for o in page["data"] if o["usageDetails"])
    call["usageDetails"] = {"input": 1000, "output": 200, "output_reasoning_tokens": 300,
                            "input_cache_read": 400, "input_cache_creation_5m": 100,
                            "input_cache_creation_1h": 50, "total": 2050}
    call["costDetails"], call["totalCost"] = {}, None
    page["data"] = [call]
    path = tmp_path / "reasoning.json"
    path.write_text(json.dumps(page))
    result = ingest_file(store, path, cmap=ColumnMap(constants={"system": "bot"}))
    assert result.inserted == 1
    stored = rows(store)[call["id"]]
    assert (stored["input_tokens"], stored["output_tokens"]) == (1550, 500)


def test_an_evaluation_found_by_the_calls_response_id(store, exports, tmp_path):
    """#34: the GenAI conventions let an evaluation event name the call by its
    `gen_ai.response.id` instead of trace and span; such events matched nothing."""
    logs = json.loads(exports["otlp_logs"].read_text())
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    span_id = record.pop("spanId")
    record.pop("traceId")
    record["attributes"].append({"key": "gen_ai.response.id",
                                 "value": {"stringValue": "chatcmpl-3"}})

    def answered(span: dict) -> None:
        if span["spanId"] == span_id:
            span["attributes"].append({"key": "gen_ai.response.id",
                                       "value": {"stringValue": "chatcmpl-3"}})

    traces, scores = tmp_path / "traces.jsonl", tmp_path / "evaluations.jsonl"
    traces.write_text("".join(json.dumps(line) + "\n"
                              for line in _otlp_spans(exports["otlp"], answered)))
    scores.write_text(json.dumps(logs) + "\n")
    ingest_file(store, traces, import_options=ImportOptions(scores=scores))
    bot = by_order(store, "support-bot")
    assert [e["outcome"] for e in bot[:3]] == ["success", "failure", "failure"]


def test_model_calls_in_openinference_langfuse_and_older_genai_names(store, exports):
    """#34: OpenInference's `llm.*` spans, the Langfuse SDK's `langfuse.observation.*` spans
    and spans in the GenAI names from before `gen_ai.operation.name` loaded as 0 rows with
    exit 0; util-genai's workflow and retrieval spans were rejected as calls without a
    model. Each is read as its model calls, a failed call included."""
    result = ingest_file(store, exports["otlp_vocabularies"])
    assert (result.rows_read, result.inserted, result.rejected) == (7, 7, 0)
    assert "7 model calls" in result.said
    agent = by_order(store, "ug-agent")
    assert [(e["model"], e["status"], e["input_tokens"]) for e in agent] == [
        ("gpt-4o-2026-08-06", "ok", 700), ("gpt-4o", "timeout", None)]
    oi = by_order(store, "rag-oi")
    assert [(e["model"], e["status"]) for e in oi] == [("gpt-4o-2026-08-06", "ok"),
                                                       ("gpt-4o", "timeout")]
    assert (oi[0]["input_tokens"], oi[0]["output_tokens"], oi[0]["cost_usd"]) == (500, 60,
                                                                                  0.0031)
    old = by_order(store, "chat-old")
    assert [(e["model"], e["input_tokens"], e["output_tokens"]) for e in old] == [
        ("gpt-4o-mini", 120, 30)]
    langfuse = by_order(store, "lf-bot")
    assert [(e["model"], e["status"]) for e in langfuse] == [("gpt-4o", "ok"),
                                                             ("gpt-4o", "timeout")]
    assert (langfuse[0]["input_tokens"], langfuse[0]["output_tokens"],
            langfuse[0]["cost_usd"]) == (130, 25, 0.002)


def test_a_trace_prices_each_call_at_its_own_model(store, exports, tmp_path, pricing):
    """#34: with `--unit trace`, a run whose calls use two models was priced as a whole at its
    first call's model."""
    def second_call_on_another_model(span: dict) -> None:
        if span["name"] == "chat claude-sonnet-4" and any(
                e.get("name") == "gen_ai.evaluation.result" for e in span.get("events", [])):
            for attribute in span["attributes"]:
                if attribute["key"] in ("gen_ai.request.model", "gen_ai.response.model"):
                    attribute["value"]["stringValue"] = "gpt-4o-mini"

    path = tmp_path / "two-models.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in _otlp_spans(
        exports["otlp"], second_call_on_another_model)))
    ingest_file(store, path, pricing=pricing, import_options=ImportOptions(unit="trace"))
    runs = by_order(store, "trip-planner")
    claude, mini = pricing.price_of("claude-sonnet-4"), pricing.price_of("gpt-4o-mini")
    assert claude != mini
    each = (2000 * claude[0] + 300 * claude[1] + 2500 * mini[0] + 400 * mini[1]) / 1e6
    assert [r["cost_usd"] for r in runs] == [pytest.approx(each)] * 2


def test_langfuse_observations_fetched_without_models_say_which_fields_to_ask(store,
                                                                             exports,
                                                                             tmp_path):
    """#34: the observations API returns only its core and basic fields unless asked, so no
    model and no usage: every call was rejected without a hint."""
    page = json.loads(exports["langfuse_api"].read_text())
    kept = ("id", "traceId", "startTime", "endTime", "parentObservationId", "type", "name",
            "level", "statusMessage", "version", "userId")
    page["data"] = [{k: v for k, v in o.items() if k in kept} for o in page["data"]]
    path = tmp_path / "default-fields.json"
    path.write_text(json.dumps(page))
    with pytest.raises(BadInput, match="none of them naming its model: .* fetch them with "
                                       "fields=core,basic,model,usage; nothing was stored"):
        ingest_file(store, path, cmap=ColumnMap(constants={"system": "bot"}))
    assert store.scalar("SELECT count(*) FROM inference_events") == 0


def test_a_line_that_is_not_otlp_is_kept_with_its_reason(store, exports, tmp_path):
    lines = exports["otlp"].read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([lines[0], '{"resourceSpans": [', '{"other": 1}']) + "\n")
    result = ingest_file(store, broken, source_format="otlp")
    assert (result.rows_read, result.inserted, result.rejected) == (8, 6, 2)
    assert store.query("SELECT row_number, reason, raw FROM rejected_rows ORDER BY 1") == [
        (7, "line 2 is not an OTLP/JSON traces object", '{"resourceSpans": ['),
        (8, "line 3 is not an OTLP/JSON traces object", '{"other": 1}')]


def test_a_span_that_breaks_a_rule_is_rejected_like_any_row(store, exports, tmp_path):
    """A span from a wrong clock (far in the future) is rejected with the contract's reason and
    kept as the span it was."""
    request = json.loads(exports["otlp"].read_text().splitlines()[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["startTimeUnixNano"] = str(int(span["startTimeUnixNano"]) + 400 * 86400 * 10**9)
    span["endTimeUnixNano"] = str(int(span["endTimeUnixNano"]) + 400 * 86400 * 10**9)
    path = tmp_path / "future.jsonl"
    path.write_text(json.dumps(request) + "\n")
    result = ingest_file(store, path)
    assert (result.inserted, result.rejected) == (5, 1)
    reason, raw = store.query("SELECT reason, raw FROM rejected_rows")[0]
    assert reason.startswith("timestamp") and "24 hours after the time of loading" in reason
    assert json.loads(raw)["spanId"] == span["spanId"]


def test_a_format_that_does_not_fit_the_file_is_one_sentence(store, exports, tmp_path):
    contract = tmp_path / "events.csv"
    pd.DataFrame([{"event_id": "e1", "timestamp": "2026-11-01T00:00:00Z", "system": "s",
                   "model": "m", "status": "ok"}]).to_csv(contract, index=False)
    with pytest.raises(BadInput) as raised:
        ingest_file(store, exports["phoenix"], source_format="otlp")
    assert str(raised.value).count(".") >= 1 and "\n" not in str(raised.value)
    assert ingest_file(store, contract).inserted == 1  # auto: the contract's columns


def test_the_command_line_reads_an_export_with_its_evaluations(tmp_path, exports):
    db = tmp_path / "cli.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "scorecard.cli", "ingest", str(exports["otlp"]), "--db", str(db),
         "--scores", str(exports["otlp_logs"]), "--unit", "trace"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inserted"] == 8
    assert done.stderr.strip().endswith("given an outcome."), done.stderr  # what it used
    missing = subprocess.run(
        [sys.executable, "-m", "scorecard.cli", "ingest", str(exports["otlp"]), "--db", str(db),
         "--scores", str(tmp_path / "nowhere.jsonl")], capture_output=True, text=True,
        timeout=120)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "nowhere.jsonl does not exist" in missing.stderr


SLICED = "event_id, release, team, feature, customer"


def test_exports_say_the_release_and_who_owns_and_pays(tmp_path, exports, pricing):
    """SPEC section 1's slice columns, where each tool's export says them (README: which
    field becomes which)."""
    from scorecard.store.db import Store

    def sliced(store) -> dict:
        return {r["event_id"]: (r["release"], r["team"], r["feature"], r["customer"])
                for r in store.query_dicts(f"SELECT {SLICED} FROM inference_events")}

    with Store(tmp_path / "otlp.duckdb") as store:
        ingest_file(store, exports["otlp"])
        calls = sliced(store)
        releases = {r["system"]: r["release"] for r in store.query_dicts(
            "SELECT DISTINCT system, release FROM inference_events")}
        assert releases == {"support-bot": "2.3.0", "trip-planner": None}
    assert all(t is None and f is None and c is None for _, t, f, c in calls.values())
    with Store(tmp_path / "agent.duckdb") as store:
        ingest_file(store, exports["otlp"], import_options=ImportOptions(unit="trace"))
        runs = store.query("SELECT DISTINCT release FROM inference_events "
                           "WHERE system = 'trip-planner'")
    assert runs == [("0.4.1",)], "an agent run: gen_ai.agent.version of its root span"
    for observations in ("langfuse_api", "langfuse_csv"):
        with Store(tmp_path / f"{observations}.duckdb") as store:
            ingest_file(store, exports[observations], pricing=pricing)
            assert sliced(store) == {
                f"obs-{i}": ("bot-2026.11.3", "growth", "chat", f"customer-tr-{min(i, 3)}")
                for i in (1, 2, 3)}, observations
    with Store(tmp_path / "phoenix.duckdb") as store:
        ingest_file(store, exports["phoenix"], cmap=ColumnMap(constants={"system": "rag"}))
        assert {c for _, _, _, c in sliced(store).values()} == {"user-0", "user-1", "user-2"}
