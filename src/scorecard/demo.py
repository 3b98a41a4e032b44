"""The demo: twelve weeks of three AI systems, generated deterministically, with known stories.

Stories (each makes a metric of SPEC section 3 move; the README lists them):
- support-assistant switches from gpt-4o to gpt-4o-mini on 2026-10-26: cheaper per request,
  worse per outcome; usage doubles (cost creep); a latency regression from 2026-11-09 pushes
  responses past the 2 s SLO and those answers fail more often.
- credit-precheck sees input drift from 2026-11-02 (confidence shifts down), treats the
  `south` region worse (disparity), and leaves most low-confidence decisions unreviewed.
  Its extract comes from another tool, with other column names, and loads through a map file.
- doc-summariser grows threefold with longer documents (cost per outcome creeps up), is
  labelled only in part, and misses audit pointers on some events. Its outcomes (reviewers'
  ratings) arrive days later (`outcome_at`), so the last days are mostly unlabelled and the
  estimated success rate fills in for them.
- A dozen incidents, some found by customers and one by a regulator, with heavy-tailed times.
- Every system logs its release; the business ones their team, feature and customer too.
  support-assistant's release assistant-2026.11.2 goes out as a canary on 2026-11-09 (a
  third of the traffic, then over half): it is the latency regression, its answers are slower
  and fail more often, so the comparison of releases and the red latency name it.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

START = datetime(2026, 8, 31, tzinfo=timezone.utc)  # a Monday
DAYS = 84
SEED = 20261122
MODEL_SWITCH_DAY = 56  # 2026-10-26
LATENCY_REGRESSION_DAY = 70  # 2026-11-09: the canary of a slower release
CANARY_SHARE = (0.3, 0.55)  # of support-assistant's traffic on it, before and from day 77
DRIFT_DAY = 63  # 2026-11-02

CREDIT_MAP = """\
# The credit pre-check service logs with its own names; this map puts them on the contract.
columns:
  event_id: decision_id
  timestamp: decided_at
  model: model_version
  latency_ms: duration_ms
  outcome: repaid_ok
  confidence: score
  human_reviewed: reviewed
  human_overridden: overridden
  review_cost_usd: review_cost
  has_explanation: reason_codes_logged
  segment: region
  input_ref: application_ref
  output_ref: decision_ref
  release: service_version
  feature: product
  customer: partner
constants:
  system: credit-precheck
  team: risk-platform
values:
  outcome: {"1": success, "0": failure}
"""


# The demo store's sign-ins, one per role; documented in the README, absent from real stores.
DEMO_SIGNINS = {"exec": "executive", "pm": "product_manager", "analyst": "analyst",
                "admin": "admin"}
DEMO_PASSWORD = "scorecard-demo"

# The demo's own system thresholds, kept in the demo store (never in the shipped defaults, so a
# customer's system that happens to share a name gets nothing of them).
DEMO_SYSTEM_THRESHOLDS = {
    "credit-precheck": {  # an API in the loan application flow
        "latency_slo_ms": 500,
        "metrics": {"cost_per_outcome_usd": {  # human review of a loan application costs most
            "direction": "lower_is_better", "target": 0.60, "limit": 1.20}}},
    "research-agent": {  # an agent run: several model calls and a tool, seconds are fine
        "latency_slo_ms": 15000,
        "metrics": {
            "latency_p50_ms": {"direction": "lower_is_better", "target": 8000, "limit": 12000},
            "latency_p95_ms": {"direction": "lower_is_better", "target": 15000, "limit": 20000},
            "latency_p99_ms": {"direction": "lower_is_better", "target": 20000,
                               "limit": 30000}}},
    "doc-summariser": {  # asynchronous: users wait for long documents
        "latency_slo_ms": 8000,
        "metrics": {"cost_per_outcome_usd": {  # replaces about 10 minutes of analyst time
            "direction": "lower_is_better", "target": 1.50, "limit": 3.00}}},
}


def _timestamps(rng: np.random.Generator, per_day: np.ndarray) -> np.ndarray:
    """Event times: `per_day[d]` events on day d, busier in working hours."""
    days = np.repeat(np.arange(len(per_day)), per_day)
    hours = np.clip(rng.normal(13.0, 3.5, len(days)), 0, 23.999)
    seconds = days * 86400 + hours * 3600
    return np.sort(seconds)


def _iso(seconds: np.ndarray) -> pd.Series:
    ts = pd.to_datetime(START) + pd.to_timedelta(np.round(seconds, 3), unit="s")
    return pd.Series(ts).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(r"\d{3}Z$", "Z", regex=True)


def _status(rng, n, base_error, extra=None) -> np.ndarray:
    u = rng.random(n)
    extra = np.zeros(n) if extra is None else extra
    error = base_error + extra
    return np.where(u < error * 0.6, "error",
                    np.where(u < error * 0.9, "timeout", np.where(u < error, "fallback", "ok")))


def _outcome(rng, p_success, labelled_share, status) -> np.ndarray:
    success = rng.random(len(p_success)) < np.clip(p_success, 0, 1)
    labelled = rng.random(len(p_success)) < labelled_share
    out = np.where(success, "success", "failure").astype(object)
    out[status != "ok"] = "failure"
    out[~labelled] = None
    return out


def _detected_by(rng, failed, weights) -> np.ndarray:
    who = rng.choice(["system", "reviewer", "customer", "regulator"], size=len(failed), p=weights)
    return np.where(failed, who, None)


CUSTOMERS = ["northwind", "contoso", "globex", "initech", "umbrella-health", "hooli",
             "vandelay", "wayne-logistics", "stark-retail", "wonka-foods", "acme-insurance",
             "tyrell-energy", "cyberdyne", "soylent", "massive-dynamic", "oscorp", "aperture",
             "gringotts-bank", "monarch-travel", "pied-piper"]


def _customers(dims, n: int) -> np.ndarray:
    """Customers by a long tail: a few large accounts carry most of the traffic."""
    weights = 1 / np.arange(1, len(CUSTOMERS) + 1) ** 1.1
    return dims.choice(CUSTOMERS, n, p=weights / weights.sum())


def _releases(day: np.ndarray, schedule: list[tuple[int, str]]) -> np.ndarray:
    """The release live on each event's day: (first day, release) in order."""
    starts = np.array([first for first, _ in schedule])
    return np.array([name for _, name in schedule])[np.searchsorted(starts, day, "right") - 1]


def support_assistant(rng, dims) -> pd.DataFrame:
    day_growth = np.linspace(700, 1400, DAYS)
    per_day = rng.poisson(day_growth)
    t = _timestamps(rng, per_day)
    n, day = len(t), (t // 86400).astype(int)
    new_model = day >= MODEL_SWITCH_DAY
    model = np.where(new_model, "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06")
    release = _releases(day, [(0, "assistant-2026.09.2"),
                              (MODEL_SWITCH_DAY, "assistant-2026.10.4")])
    share = np.where(day >= LATENCY_REGRESSION_DAY + 7, CANARY_SHARE[1], CANARY_SHARE[0])
    canary = (day >= LATENCY_REGRESSION_DAY) & (dims.random(n) < share)
    release = np.where(canary, "assistant-2026.11.2", release)
    slow = canary
    latency = rng.lognormal(np.log(np.where(slow, 1500, 850)), 0.45, n)
    confidence = rng.beta(np.where(new_model, 5, 8), 2, n)
    p = np.where(new_model, 0.86, 0.935) + 0.25 * (confidence - 0.78) - np.where(latency > 2000, 0.12, 0)
    incident = (day >= 38) & (day <= 39)
    status = _status(rng, n, 0.009, np.where(incident, 0.06, 0) + np.where(slow, 0.006, 0))
    outcome = _outcome(rng, p, 0.85, status)
    failed = (status != "ok") | (outcome == "failure")
    reviewed = (confidence < 0.55) & (rng.random(n) < 0.7)
    return pd.DataFrame({
        "event_id": [f"sa-{i:07d}" for i in range(n)],
        "timestamp": _iso(t),
        "system": "support-assistant",
        "model": model,
        "status": status,
        "latency_ms": np.round(latency, 1),
        "cost_usd": None,  # priced from config/pricing.yaml by tokens
        "input_tokens": rng.poisson(np.where(new_model, 1500, 1400), n),
        "output_tokens": rng.poisson(350, n),
        "outcome": outcome,
        "confidence": np.round(confidence, 4),
        "human_reviewed": reviewed,
        "human_overridden": reviewed & (rng.random(n) < 0.18),
        "review_cost_usd": np.where(reviewed, 1.20, 0.0),
        "has_explanation": rng.random(n) < 0.62,
        "segment": rng.choice(["enterprise", "smb", "self-serve"], n, p=[0.3, 0.4, 0.3]),
        "detected_by": _detected_by(rng, failed, [0.55, 0.15, 0.29, 0.01]),
        "input_ref": [f"s3://support-logs/in/{i:07d}" for i in range(n)],
        "output_ref": [f"s3://support-logs/out/{i:07d}" for i in range(n)],
        "release": release,
        "team": "customer-support",
        "feature": dims.choice(["chat", "email-replies", "help-center"], n, p=[0.55, 0.3, 0.15]),
        "customer": _customers(dims, n),
    })


def credit_precheck(rng, dims) -> pd.DataFrame:
    """In the credit service's own column names (loaded through CREDIT_MAP)."""
    per_day = rng.poisson(np.full(DAYS, 480))
    t = _timestamps(rng, per_day)
    n, day = len(t), (t // 86400).astype(int)
    drift = day >= DRIFT_DAY
    confidence = rng.beta(np.where(drift, 3.5, 7), np.where(drift, 2.5, 2), n)
    region = rng.choice(["north", "east", "west", "south"], n, p=[0.3, 0.25, 0.25, 0.2])
    p = 0.93 + 0.3 * (confidence - 0.78) - np.where(region == "south", 0.17, 0)
    status = _status(rng, n, 0.004, np.where((day >= 20) & (day <= 20), 0.08, 0))
    outcome = _outcome(rng, p, 0.92, status)
    reviewed = np.where(confidence < 0.5, rng.random(n) < 0.35, rng.random(n) < 0.05)
    repaid = np.where(outcome == "success", "1", np.where(outcome == "failure", "0", ""))
    return pd.DataFrame({
        "decision_id": [f"cp-{i:07d}" for i in range(n)],
        "decided_at": _iso(t),
        "model_version": np.where(day >= 28, "xgb-v13", "xgb-v12"),
        "status": status,
        "duration_ms": np.round(rng.lognormal(np.log(80), 0.3, n), 1),
        "cost_usd": 0.0004,
        "repaid_ok": repaid,
        "score": np.round(confidence, 4),
        "reviewed": np.where(reviewed, "yes", "no"),
        "overridden": np.where(reviewed & (rng.random(n) < 0.22), "yes", "no"),
        "review_cost": np.where(reviewed, 4.0, 0.0),
        "reason_codes_logged": np.where(rng.random(n) < 0.97, "yes", "no"),
        "region": region,
        "detected_by": _detected_by(rng, outcome == "failure", [0.3, 0.5, 0.17, 0.03]),
        "application_ref": [f"app-{i:07d}" for i in range(n)],
        "decision_ref": [f"dec-{i:07d}" for i in range(n)],
        "service_version": _releases(day, [(0, "precheck-4.2.0"), (28, "precheck-4.3.0")]),
        "product": dims.choice(["personal-loan", "credit-line"], n, p=[0.7, 0.3]),
        "partner": dims.choice(["direct", "broker-east", "broker-south", "comparison-site"], n,
                               p=[0.5, 0.2, 0.15, 0.15]),
    })


def doc_summariser(rng, dims) -> pd.DataFrame:
    per_day = rng.poisson(np.linspace(200, 600, DAYS))
    t = _timestamps(rng, per_day)
    n, day = len(t), (t // 86400).astype(int)
    growth = day / DAYS
    input_tokens = rng.poisson(4000 + 6000 * growth, n)
    output_tokens = rng.poisson(500 + 500 * growth, n)
    latency = rng.lognormal(np.log(2500 + 2000 * growth), 0.35, n)
    status = _status(rng, n, 0.012, np.where((day >= 47) & (day <= 48), 0.05, 0))
    confidence = rng.beta(6, 2, n)
    outcome = _outcome(rng, 0.9 + 0.2 * (confidence - 0.75), 0.4, status)
    reviewed = rng.random(n) < 0.2
    cost = (input_tokens * 3.0 + output_tokens * 15.0) / 1e6
    refs_missing = rng.random(n) < np.where(day >= 49, 0.12, 0.01)
    frame = pd.DataFrame({
        "event_id": [f"ds-{i:07d}" for i in range(n)],
        "timestamp": _iso(t),
        "system": "doc-summariser",
        "model": "claude-3-5-sonnet-20241022",
        "status": status,
        "latency_ms": np.round(latency, 1),
        "cost_usd": np.round(cost, 6),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "outcome": outcome,
        "confidence": np.round(confidence, 4),
        "human_reviewed": reviewed,
        "human_overridden": reviewed & (rng.random(n) < 0.15),
        "review_cost_usd": np.where(reviewed, 2.5, 0.0),
        "has_explanation": rng.random(n) < 0.35,
        "segment": rng.choice(["legal", "finance", "operations"], n),
        "detected_by": _detected_by(rng, (status != "ok") | (outcome == "failure"),
                                    [0.4, 0.35, 0.25, 0.0]),
        "input_ref": np.where(refs_missing, None, [f"doc-{i:07d}" for i in range(n)]),
        "output_ref": [f"sum-{i:07d}" for i in range(n)],
        "release": _releases(day, [(0, "summariser-2026.08"), (42, "summariser-2026.10")]),
        "team": "knowledge-tools",
        "feature": dims.choice(["contract-review", "board-packs", "research-notes"], n),
        "customer": _customers(dims, n),
    })
    return _with_label_lag(rng, frame, t)


def _otlp_value(value) -> dict:
    if isinstance(value, str):
        return {"stringValue": value}
    return {"intValue": str(int(value))} if isinstance(value, (int, np.integer)) \
        else {"doubleValue": float(value)}


def _otlp_span(trace_id: str, span_id: str, parent: str, name: str, start: float, end: float,
               attributes: dict, error: bool = False, events: list | None = None) -> dict:
    """One span as OTLP/JSON writes it: hex ids, nanoseconds as strings, typed values."""
    return {"traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": name,
            "kind": 3 if name.startswith("chat") else 1,
            "startTimeUnixNano": str(int(start * 1e9)), "endTimeUnixNano": str(int(end * 1e9)),
            "attributes": [{"key": k, "value": _otlp_value(v)} for k, v in attributes.items()],
            "events": events or [], "status": {"code": 2} if error else {}}


def research_agent(rng) -> list[dict]:
    """An LLM agent traced with OpenTelemetry: per run, a root `invoke_agent` span, two model
    calls and a tool call, as one export request per day (what the collector's file exporter
    writes). Prompt caching is switched on at the model change; runs are judged by a
    `task_success` evaluation on the root span for about half of them."""
    per_day = rng.poisson(np.linspace(40, 90, DAYS))
    epoch = START.timestamp()
    t = _timestamps(rng, per_day)
    n, day = len(t), (t // 86400).astype(int)
    seconds = rng.lognormal(np.log(7.0), 0.4, n)
    tokens_in = rng.poisson(3000, (n, 2))
    cached = np.where(day[:, None] >= MODEL_SWITCH_DAY, rng.binomial(tokens_in, 0.6), 0)
    tokens_out = rng.poisson(400, (n, 2))
    failed = rng.random(n) < 0.02
    timed_out = ~failed & (rng.random(n) < 0.01)
    p_success = np.where(day >= DRIFT_DAY, 0.80, 0.87)
    judged = (rng.random(n) < 0.5) & ~failed & ~timed_out
    passed = rng.random(n) < p_success
    ids = rng.integers(0, 2**63, (n, 5), dtype=np.int64)
    requests: dict[int, list] = {}
    for i in range(n):
        trace, root = f"{ids[i, 0]:016x}{ids[i, 1]:016x}", f"{ids[i, 2]:016x}"
        start = epoch + t[i]
        end = start + seconds[i]
        spans = []
        for call, (a, b) in enumerate(((0.02, 0.4), (0.55, 0.97))):
            attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
                          "gen_ai.request.model": "claude-sonnet-4",
                          "gen_ai.response.model": "claude-sonnet-4-20250514",
                          "gen_ai.usage.input_tokens": tokens_in[i, call],
                          "gen_ai.usage.output_tokens": tokens_out[i, call]}
            if cached[i, call]:
                attributes["gen_ai.usage.cache_read.input_tokens"] = cached[i, call]
            spans.append(_otlp_span(trace, f"{ids[i, 3 + call]:016x}", root, "chat "
                                    "claude-sonnet-4", start + a * seconds[i],
                                    start + b * seconds[i], attributes))
        events = []
        if judged[i]:
            at = end + rng.uniform(300, 7200)
            events.append({"timeUnixNano": str(int(at * 1e9)), "name": "gen_ai.evaluation.result",
                           "attributes": [{"key": "gen_ai.evaluation.name",
                                           "value": {"stringValue": "task_success"}},
                                          {"key": "gen_ai.evaluation.score.label", "value": {
                                              "stringValue": "pass" if passed[i] else "fail"}}]})
        root_attributes = {"gen_ai.operation.name": "invoke_agent",
                           "gen_ai.agent.name": "research-agent"}
        if timed_out[i]:
            root_attributes["error.type"] = "timeout"
        spans.append(_otlp_span(trace, root, "", "invoke_agent research-agent", start, end,
                                root_attributes, failed[i] or timed_out[i], events))
        requests.setdefault(int(day[i]), []).extend(spans)
    def resource(day: int) -> dict:
        version = "1.9.0" if day >= MODEL_SWITCH_DAY else "1.8.2"
        return {"attributes": [{"key": "service.name", "value": {"stringValue": "research-agent"}},
                               {"key": "service.version", "value": {"stringValue": version}}]}
    return [{"resourceSpans": [{"resource": resource(day), "scopeSpans": [
        {"scope": {"name": "research-agent"}, "spans": spans}]}]}
        for day, spans in sorted(requests.items())]


def _with_label_lag(rng, frame: pd.DataFrame, t: np.ndarray) -> pd.DataFrame:
    """Outcomes known a few days after the decision (median about 2 days, a long tail); one
    not known by the end of the demo's last day is not known yet."""
    lag_seconds = rng.lognormal(np.log(2 * 86400), 0.8, len(t))
    known = t + lag_seconds
    pending = known >= DAYS * 86400
    outcome = frame["outcome"].to_numpy(dtype=object)
    frame["outcome"] = np.where(pending, None, outcome)
    frame["outcome_at"] = np.where(pending | pd.isna(outcome), None, _iso(known).to_numpy())
    return frame


INCIDENTS = [
    # id, system, severity, start day+hour, minutes to detect, minutes to recover, by, summary
    ("INC-101", "credit-precheck", "sev2", 20.40, 12, 95, "system", "Feature store timeouts"),
    ("INC-102", "support-assistant", "sev1", 38.35, 47, 380, "customer", "Upstream API outage"),
    ("INC-103", "support-assistant", "sev3", 39.60, 8, 30, "system", "Retry storm after outage"),
    ("INC-104", "doc-summariser", "sev2", 47.45, 180, 240, "reviewer", "Truncated summaries"),
    ("INC-105", "doc-summariser", "sev3", 48.50, 25, 60, "system", "Queue backlog"),
    ("INC-106", "credit-precheck", "sev2", 64.40, 2880, 1440, "regulator",
     "Adverse-action reasons missing for a region"),
    ("INC-107", "support-assistant", "sev2", 58.55, 600, 720, "customer",
     "Wrong refund policy cited after model change"),
    ("INC-108", "support-assistant", "sev3", 71.45, 95, None, "customer",
     "Slow answers since gateway change"),
    ("INC-109", "doc-summariser", "sev4", 60.40, 5, 15, "system", "Disk pressure alert"),
    ("INC-110", "credit-precheck", "sev3", 75.50, 40, 180, "reviewer", "Score skew in new channel"),
    ("INC-111", "support-assistant", "sev4", 12.60, 3, 10, "system", "Certificate rotation"),
    ("INC-112", "doc-summariser", "sev2", 80.45, 300, None, "customer", "Summaries miss key terms"),
]


def incidents() -> pd.DataFrame:
    rows = []
    for iid, system, sev, start, ttd, ttr, by, summary in INCIDENTS:
        started = START + timedelta(days=start)
        detected = started + timedelta(minutes=ttd)
        resolved = detected + timedelta(minutes=ttr) if ttr is not None else None
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ") if d else ""  # noqa: E731
        rows.append({"incident_id": iid, "system": system, "severity": sev,
                     "started_at": iso(started), "detected_at": iso(detected),
                     "resolved_at": iso(resolved), "detected_by": by, "summary": summary})
    return pd.DataFrame(rows)


def write_sample(out: Path) -> list[Path]:
    """Write the demo extracts, one per system in a different format, plus incidents and a map."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    dims = np.random.default_rng(SEED + 1)  # releases, features, customers: apart from the stories
    support, credit = support_assistant(rng, dims), credit_precheck(rng, dims)
    docs = doc_summariser(rng, dims)
    agent = research_agent(rng)
    paths = [out / "support-assistant.csv.gz", out / "credit-precheck.parquet",
             out / "credit-precheck.map.yaml", out / "doc-summariser.jsonl.gz",
             out / "incidents.csv", out / "research-agent.otlp.jsonl.gz"]
    support.to_csv(paths[0], index=False, compression="gzip")
    credit.to_parquet(paths[1], index=False)
    paths[2].write_text(CREDIT_MAP, encoding="utf-8")
    docs.to_json(paths[3], orient="records", lines=True, compression="gzip")
    incidents().to_csv(paths[4], index=False)
    with gzip.open(paths[5], "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(request) + "\n" for request in agent)
    return paths


def load_demo(store, sample_dir: Path, pricing) -> list:
    """Ingest the demo extracts into a store; returns the per-file results."""
    from .metrics import rollups
    from .store.formats import ImportOptions
    from .store.ingest import ingest_file
    from .store.mapping import load_map

    results = []
    for name in ("support-assistant.csv.gz", "doc-summariser.jsonl.gz"):
        results.append(ingest_file(store, sample_dir / name, pricing=pricing, via="demo"))
    results.append(ingest_file(store, sample_dir / "credit-precheck.parquet", pricing=pricing,
                               cmap=load_map(sample_dir / "credit-precheck.map.yaml"), via="demo"))
    # an agent traced with OpenTelemetry, as its collector exported it: one decision per run
    results.append(ingest_file(store, sample_dir / "research-agent.otlp.jsonl.gz",
                               pricing=pricing, via="demo",
                               import_options=ImportOptions(unit="trace")))
    results.append(ingest_file(store, sample_dir / "incidents.csv", kind="incidents", via="demo"))
    rollups.refresh(store)
    return results


def add_demo_settings(store) -> None:
    """Give a demo store its documented sign-ins (README) and its systems' thresholds; they
    live in that store only."""
    from .metrics.thresholds import STORE_LAYER_KEY
    from .store import records
    from .users import DEMO_META_KEY, demo_signins

    records.set_meta(store, {
        DEMO_META_KEY: demo_signins(DEMO_SIGNINS, lambda _: DEMO_PASSWORD),
        STORE_LAYER_KEY: json.dumps(DEMO_SYSTEM_THRESHOLDS)})


def is_own_demo_store(address: str) -> bool:
    """Whether `address` (absolute) is one of the project's own demo stores: the embedded
    default file, or the chDB folder beside it (`chdb://var/ch` from the project folder)."""
    from .settings import DEFAULT_CHDB, DEFAULT_DB

    return address in (str(DEFAULT_DB.resolve()), f"chdb://{DEFAULT_CHDB.resolve()}")


def ensure_demo_store(address: str | Path) -> str | Path:
    """Create and fill the demo store at `address` on first start; return it. Called only
    for the project's own demo stores or when the demo is asked for (`scorecard serve --demo`).
    A DuckDB file is built beside its place and moved there whole; a ClickHouse store is
    filled in place when it holds nothing yet."""
    import tempfile

    from .metrics.thresholds import STORE_LAYER_KEY
    from .settings import config_dir
    from .store import records
    from .store.db import Store
    from .store.engines import is_clickhouse, open_store
    from .store.pricing import Pricing
    from .users import DEMO_META_KEY

    def fill(store) -> None:
        print(f"Building the demo store at {address} (first start only)...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            write_sample(Path(tmp))
            load_demo(store, Path(tmp), Pricing.load(config_dir() / "pricing.yaml"))
            add_demo_settings(store)
            store.checkpoint()

    def bring_settings_up_to_date(store) -> None:
        if records.loaded_only_via(store, "demo") and records.meta_keys_present(
                store, [STORE_LAYER_KEY, DEMO_META_KEY]) < 2:
            add_demo_settings(store)  # a demo store built by an older version

    if is_clickhouse(address):
        with open_store(address) as store:
            if store.scalar("SELECT count(*) FROM ingest_log"):
                bring_settings_up_to_date(store)
            else:
                fill(store)
        return address
    path = Path(address)
    if path.exists():
        with Store(path) as store:
            bring_settings_up_to_date(store)
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with Store(partial) as store:
        fill(store)
    partial.rename(path)
    return path
