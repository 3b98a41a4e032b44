"""Metrics: a hand-computed fixture, edge cases, and an independent pandas/numpy cross-check."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ENGINES, address_for, event_row, write_csv
from metric_oracle import rate, window_oracle
from scorecard.demo import load_demo, write_sample
from scorecard.errors import BadInput
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.registry import registry
from scorecard.metrics.stats import linear_trend, t_two_sided_p
from scorecard.metrics.thresholds import (PACKAGED, Threshold, load_thresholds, parse_thresholds,
                                          save_thresholds)
from scorecard.metrics.trends import trend_series
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.db import Store
from scorecard.store.engines import open_store
from scorecard.store.ingest import ingest_file

THRESHOLDS = load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml")


# -- a fixture small enough to compute by hand ------------------------------------------------

def hand_rows() -> list[dict]:
    """Window 2026-11-16 .. 2026-11-23; baseline 2026-10-01 .. 2026-10-29 (system 'h')."""
    rows = []
    # baseline: 4 labelled events, 3 successes
    for i, outcome in enumerate(["success", "success", "success", "failure"]):
        rows.append(event_row(f"b{i}", "2026-10-01T12:00:00Z", system="h", outcome=outcome))
    # window: 5 events
    rows += [
        event_row("w1", "2026-11-20T10:00:00Z", system="h", outcome="success", latency_ms=100,
                  cost_usd=1.0, review_cost_usd=2.0, confidence=0.3, human_reviewed="yes",
                  human_overridden="yes", has_explanation="yes", input_ref="i", output_ref="o",
                  segment="a"),
        event_row("w2", "2026-11-20T11:00:00Z", system="h", outcome="success", latency_ms=3000,
                  cost_usd=1.0, confidence=0.4, human_reviewed="no", has_explanation="no",
                  input_ref="i", output_ref="o", segment="a"),
        event_row("w3", "2026-11-21T11:00:00Z", system="h", outcome="failure", latency_ms=200,
                  cost_usd=1.0, confidence=0.9, status="error", detected_by="customer",
                  input_ref="i", segment="b"),
        event_row("w4", "2026-11-22T11:00:00Z", system="h", latency_ms=300, cost_usd=1.0,
                  status="timeout", detected_by="system"),
        event_row("w5", "2026-11-22T23:59:59Z", system="h", outcome="success", cost_usd=1.0),
    ]
    return rows


@pytest.fixture(params=ENGINES)
def hand_store(tmp_path, request):
    with open_store(address_for(request.param, tmp_path)) as store:
        ingest_file(store, write_csv(tmp_path / "hand.csv", hand_rows()))
        yield store


def wilson(s, n, z=1.959964):
    p = s / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_hand_computed_values(hand_store):
    card = compute_scorecard(hand_store, THRESHOLDS)
    v = card.scope("h")
    assert card.window.as_of.isoformat() == "2026-11-22"
    assert card.window.start == datetime(2026, 11, 16)
    assert v["events"].value == 5
    # S = 3 (w1, w2, w5), F = 1 (w3)
    assert v["success_rate"].value == pytest.approx(0.75)
    assert (v["success_rate"].ci_low, v["success_rate"].ci_high) == pytest.approx(wilson(3, 4))
    assert v["success_rate"].n == 4 and v["success_rate"].insufficient  # min sample 100
    assert v["label_coverage"].value == pytest.approx(4 / 5)
    # cost per outcome: (5 * 1.0 + 2.0) / 3; per request 5 / 5
    assert v["cost_per_outcome_usd"].value == pytest.approx(7 / 3)
    assert v["cost_per_request_usd"].value == pytest.approx(1.0)
    # latencies 100, 3000, 200, 300 -> numpy linear quantiles
    lat = [100, 3000, 200, 300]
    for q, mid in ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")):
        assert v[mid].value == pytest.approx(float(np.quantile(lat, q)))
    assert v["latency_slo_compliance"].value == pytest.approx(3 / 4)
    # within SLO labelled: w1 success, w3 failure -> 0.5; over: w2 success -> 1.0
    assert v["latency_success_gap_pp"].value == pytest.approx(100 * (0.5 - 1.0))
    assert v["failure_rate"].value == pytest.approx(2 / 5)
    # failed events with detected_by: w3 customer, w4 system -> 1/2
    assert v["failure_visibility"].value == pytest.approx(0.5)
    assert v["explainability_coverage"].value == pytest.approx(1 / 2)
    assert v["audit_completeness"].value == pytest.approx(2 / 5)
    # below floor 0.5: w1 (reviewed), w2 (not) -> 1/2; reviewed: w1 overridden -> 1/1
    assert v["unreviewed_low_confidence_rate"].value == pytest.approx(0.5)
    assert v["override_rate"].value == pytest.approx(1.0)
    # baseline 3/4 = 0.75 vs window 0.75 -> 0 points, p = 1
    assert v["success_rate_change_pp"].value == pytest.approx(0.0)
    assert v["success_rate_change_pp"].extra["p_value"] == pytest.approx(1.0)
    # segments a (2 labelled) and b (1) are under 30 -> null
    assert v["disparity_ratio"].value is None and v["disparity_ratio"].status == "unknown"
    assert v["confidence_psi"].value is None  # fewer than 50 confidences
    assert v["median_time_to_detect_minutes"].value is None
    # weekly buckets with labels: the last one (3/4) and the baseline's (3/4, on 1 Oct, 8 weeks
    # back); both miss the 0.90 success target; equal rates -> zero variability
    assert v["weeks_meeting_slo"].value == 0.0 and v["weeks_meeting_slo"].n == 2
    assert v["weekly_success_cv"].value == pytest.approx(0.0)


def test_as_of_and_window_days(hand_store):
    card = compute_scorecard(hand_store, THRESHOLDS, as_of="2026-11-20", window_days=1)
    assert card.scope("h")["events"].value == 2  # w1, w2 on the 20th
    with pytest.raises(BadInput):
        compute_scorecard(hand_store, THRESHOLDS, as_of="20/11/2026")


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_store_gives_nulls_not_zeros(tmp_path, engine):
    with open_store(address_for(engine, tmp_path)) as store:
        card = compute_scorecard(store, THRESHOLDS, as_of="2026-11-22")
        values = card.scope(None)
        assert values["events"].value == 0
        for metric_id in registry().ids:
            if metric_id != "events":
                assert values[metric_id].value is None, metric_id
                assert values[metric_id].status == "unknown"


@pytest.mark.parametrize("engine", ENGINES)
def test_no_labels_and_no_confidence(tmp_path, engine):
    rows = [event_row(f"e{i}", f"2026-11-{10 + i % 10:02d}T10:00:00Z") for i in range(200)]
    with open_store(address_for(engine, tmp_path)) as store:
        ingest_file(store, write_csv(tmp_path / "n.csv", rows))
        v = compute_scorecard(store, THRESHOLDS).scope(None)
        assert v["label_coverage"].value == 0.0
        for metric_id in ("success_rate", "cost_per_outcome_usd", "confidence_psi",
                          "success_rate_change_pp", "weeks_meeting_slo", "disparity_ratio",
                          "unreviewed_low_confidence_rate", "override_rate"):
            assert v[metric_id].value is None, metric_id


@pytest.mark.parametrize("engine", ENGINES)
def test_zero_successes_make_cost_per_outcome_null(tmp_path, engine):
    rows = [event_row(f"e{i}", "2026-11-20T10:00:00Z", outcome="failure", cost_usd=1)
            for i in range(10)]
    with open_store(address_for(engine, tmp_path)) as store:
        ingest_file(store, write_csv(tmp_path / "z.csv", rows))
        v = compute_scorecard(store, THRESHOLDS).scope(None)
        assert v["success_rate"].value == 0.0
        assert v["cost_per_outcome_usd"].value is None


@pytest.mark.parametrize("engine", ENGINES)
def test_young_system_baseline_is_flagged(tmp_path, engine):
    rows = [event_row(f"e{i}", f"2026-11-{16 + i % 7:02d}T10:00:00Z", outcome="success",
                      confidence=0.5 + (i % 10) / 20) for i in range(300)]
    with open_store(address_for(engine, tmp_path)) as store:
        ingest_file(store, write_csv(tmp_path / "y.csv", rows))
        v = compute_scorecard(store, THRESHOLDS).scope(None)
        assert v["success_rate_change_pp"].insufficient
        assert v["confidence_psi"].insufficient


# -- thresholds --------------------------------------------------------------------------------

def test_status_rules():
    up = Threshold(direction="higher_is_better", target=0.9, limit=0.8)
    assert [up.status(x) for x in (0.95, 0.9, 0.85, 0.8, 0.79, None)] == \
        ["green", "green", "amber", "amber", "red", "unknown"]
    down = Threshold(direction="lower_is_better", target=0.02, limit=0.05)
    assert [down.status(x) for x in (0.01, 0.02, 0.03, 0.05, 0.06)] == \
        ["green", "green", "amber", "amber", "red"]


def test_a_target_on_the_wrong_side_names_the_metric():
    data = json.loads(json.dumps(THRESHOLDS.model_dump(mode="json")))
    data["defaults"]["failure_rate"] = {"direction": "lower_is_better", "target": 0.1,
                                        "limit": 0.05}
    with pytest.raises(BadInput, match="failure_rate.*target 0.1 is above limit 0.05"):
        parse_thresholds(data)


def test_shipped_defaults_match_the_contract():
    assert THRESHOLDS.for_metric("success_rate") == Threshold(
        direction="higher_is_better", target=0.90, limit=0.80)
    assert THRESHOLDS.for_metric("failure_rate") == Threshold(
        direction="lower_is_better", target=0.02, limit=0.05)
    assert THRESHOLDS.settings.latency_slo_ms == 2000 and THRESHOLDS.settings.confidence_floor == 0.5


# -- statistics helpers against known values ---------------------------------------------------

def test_t_distribution_p_values():
    assert t_two_sided_p(2.447, 6) == pytest.approx(0.05, abs=2e-4)  # t table, df 6
    assert t_two_sided_p(0.0, 6) == pytest.approx(1.0)
    slope, p, last = linear_trend([1.0, 2.0, 3.1, 3.9, 5.0])
    assert slope == pytest.approx(0.99) and p < 0.001 and last == pytest.approx(4.98)


# -- independent cross-check on the demo data --------------------------------------------------

def oracle(ev: pd.DataFrame, inc: pd.DataFrame, system: str | None, end: pd.Timestamp) -> dict:
    """Every metric recomputed with pandas and numpy, straight from the SPEC text."""
    scoped = ev if system is None else ev[ev.system == system]
    w = scoped[(scoped.timestamp >= end - pd.Timedelta(days=7)) & (scoped.timestamp < end)]
    out = window_oracle(w, THRESHOLDS)
    s, f = (w.outcome == "success"), (w.outcome == "failure")
    lab = s | f
    seg = w[lab & w.segment.notna()].groupby("segment").outcome.agg(
        l="size", s=lambda o: (o == "success").sum())
    seg = seg[seg.l >= 30]
    rates = seg.s / seg.l
    out["disparity_ratio"] = rates.min() / rates.max() if len(rates) >= 2 else None
    # baseline
    d0 = scoped.timestamp.min().floor("D")
    b = scoped[(scoped.timestamp >= d0) & (scoped.timestamp < d0 + pd.Timedelta(days=28))]
    sb, lb = (b.outcome == "success").sum(), b.outcome.isin(["success", "failure"]).sum()
    pw, pb = s.sum() / lab.sum(), sb / lb
    pp = (s.sum() + sb) / (lab.sum() + lb)
    z = (pw - pb) / math.sqrt(pp * (1 - pp) * (1 / lab.sum() + 1 / lb))
    out["success_rate_change_pp"] = 100 * (pw - pb)
    out["p_value"] = math.erfc(abs(z) / math.sqrt(2))
    # PSI
    bc, wc = b.confidence.dropna().to_numpy(), w.confidence.dropna().to_numpy()
    edges = np.unique(np.quantile(bc, np.arange(1, 10) / 10))
    e = np.bincount(np.searchsorted(edges, bc, side="left"), minlength=len(edges) + 1) / len(bc)
    a = np.bincount(np.searchsorted(edges, wc, side="left"), minlength=len(edges) + 1) / len(wc)
    e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
    out["confidence_psi"] = float(np.sum((a - e) * np.log(a / e)))
    # weekly buckets
    srs, meets = [], []
    for k in range(1, 9):
        lo, hi = end - pd.Timedelta(days=7 * k), end - pd.Timedelta(days=7 * (k - 1))
        bk = scoped[(scoped.timestamp >= lo) & (scoped.timestamp < hi)]
        l_k = bk.outcome.isin(["success", "failure"]).sum()
        if l_k == 0:
            continue
        sr = (bk.outcome == "success").sum() / l_k
        fr = (bk.status != "ok").mean()
        srs.append(sr)
        meets.append(sr >= THRESHOLDS.for_metric("success_rate", system).target
                     and fr <= THRESHOLDS.for_metric("failure_rate", system).target)
    out["weeks_meeting_slo"] = float(np.mean(meets))
    out["weekly_success_cv"] = float(np.std(srs, ddof=1) / np.mean(srs))
    # incidents
    ic = inc if system is None else inc[inc.system == system]
    ic = ic[(ic.started_at >= end - pd.Timedelta(days=90)) & (ic.started_at < end)]
    ttd = (ic.detected_at - ic.started_at).dt.total_seconds() / 60
    ttr = (ic.resolved_at - ic.detected_at).dt.total_seconds().dropna() / 60
    out["median_time_to_detect_minutes"] = float(np.median(ttd)) if len(ttd) else None
    out["median_time_to_recover_minutes"] = float(np.median(ttr)) if len(ttr) else None
    out.update(estimated_oracle(ev, w, end, system))
    return out


def estimated_oracle(ev: pd.DataFrame, w: pd.DataFrame, end: pd.Timestamp,
                     system: str | None) -> dict:
    """The estimated success rate with scikit-learn's isotonic regression, fitted per system on
    its labelled baseline events (SPEC section 3), and the label lag with numpy."""
    from sklearn.isotonic import IsotonicRegression

    labelled = w.outcome.isin(["success", "failure"])
    unknown = w[~labelled & w.confidence.notna()]
    estimate, estimated = 0.0, 0
    fitted_any = False
    for name in ([system] if system else sorted(ev.system.unique())):
        own = ev[ev.system == name]
        d0 = own.timestamp.min().floor("D")
        b = own[(own.timestamp >= d0) & (own.timestamp < d0 + pd.Timedelta(days=28))
                & own.outcome.isin(["success", "failure"]) & own.confidence.notna()]
        if len(b) < 100:
            continue
        fitted_any = True
        curve = IsotonicRegression(out_of_bounds="clip").fit(
            b.confidence.to_numpy(), (b.outcome == "success").to_numpy(dtype=float))
        mine = unknown[unknown.system == name].confidence.to_numpy()
        estimate += float(curve.predict(mine).sum()) if len(mine) else 0.0
        estimated += len(mine)
    s, l_ = (w.outcome == "success").sum(), labelled.sum()
    value = (s + estimate) / (l_ + estimated) if fitted_any and l_ + estimated else None
    known = ev if system is None else ev[ev.system == system]
    known = known[(known.outcome_at >= end - pd.Timedelta(days=7)) & (known.outcome_at < end)]
    hours = (known.outcome_at - known.timestamp).dt.total_seconds() / 3600
    return {"estimated_success_rate": value, "n_estimated": estimated,
            "label_lag_p50_hours": float(np.median(hours)) if len(hours) else None}


@pytest.mark.parametrize("system", [None, "support-assistant", "credit-precheck",
                                    "doc-summariser"])
def test_every_metric_matches_an_independent_computation(demo, system):
    card = demo["card"]
    expected = oracle(demo["events"], demo["incidents"], system, pd.Timestamp(card.window.end))
    got = card.scope(system)
    for metric_id in registry().ids:
        want = expected[metric_id]
        if want is None:
            assert got[metric_id].value is None, metric_id
        else:
            assert got[metric_id].value == pytest.approx(want, rel=1e-9, abs=1e-9), metric_id
    assert got["success_rate_change_pp"].extra["p_value"] == pytest.approx(
        expected["p_value"], abs=1e-6)
    assert got["estimated_success_rate"].extra["n_estimated"] == expected["n_estimated"]


def test_every_rate_has_an_interval_that_contains_it(demo):
    for scope in demo["card"].values.values():
        for metric in registry().metrics:
            mv = scope[metric.id]
            if metric.is_rate and mv.value is not None:
                assert 0 <= mv.ci_low <= mv.value <= mv.ci_high <= 1, metric.id
                assert mv.status == THRESHOLDS.for_metric(metric.id, None).status(mv.value) \
                    or metric.id in ("cost_per_outcome_usd",)


def test_weekly_trend_matches_weekly_windows(demo):
    with open_store(demo["db"], read_only=True) as store:
        series = trend_series(store, THRESHOLDS, "success_rate", "week", "credit-precheck")
        ev = demo["events"]
        ev = ev[ev.system == "credit-precheck"]
        assert series[0].start == datetime(2026, 8, 31)  # a Monday: ISO weeks
        for point in series:
            wk = ev[(ev.timestamp >= point.start) & (ev.timestamp < point.end)]
            lab = wk.outcome.isin(["success", "failure"])
            assert point.n == lab.sum()
            assert point.value == pytest.approx((wk.outcome == "success").sum() / lab.sum())
            assert point.ci_low <= point.value <= point.ci_high


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_cli_trends_work_for_every_metric(demo, period):
    for metric_id in registry().ids:
        done = subprocess.run(
            [sys.executable, "-m", "scorecard.cli", "trends", "--db", str(demo["db"]),
             "--metric", metric_id, "--period", period, "--format", "json"],
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        series = json.loads(done.stdout)
        assert series and {"start", "end", "value", "ci_low", "ci_high", "n"} <= set(series[0])
        starts = [p["start"] for p in series]
        assert starts == sorted(starts)


def test_cli_metrics_json_has_every_metric_for_every_scope(demo):
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "metrics", "--db",
                           str(demo["db"]), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["as_of"] == "2026-11-22"
    assert set(report["systems"]) == {"support-assistant", "credit-precheck", "doc-summariser",
                                      "research-agent"}
    for scope in [report["overall"], *report["systems"].values()]:
        for metric_id in registry().ids:
            assert {"value", "status"} <= set(scope[metric_id]), metric_id


def test_saving_thresholds_keeps_a_hand_written_files_comments(tmp_path):
    """A product manager's file, edited by hand before the app saved it: its header, the comment
    above a system, a block-style entry's comments and a name that needs quoting all survive."""
    packaged = PACKAGED.read_text()
    hand = packaged.split("\n# Per-system overrides")[0] + (
        "systems:\n"
        "  # the claims bot answers brokers, who wait on the phone\n"
        "  'claims: bot':  # owned by the claims team\n"
        "    latency_slo_ms: 800  # the brokers' contract\n"
        "    metrics:\n"
        "      success_rate:\n"
        "        direction: higher_is_better\n"
        "        target: 0.95  # agreed in March\n"
        "        limit: 0.9\n"
        "# end of file\n")
    path = tmp_path / "thresholds.yaml"
    path.write_text(hand)
    before = load_thresholds(path)
    save_thresholds(before, path)
    written = path.read_text()
    assert load_thresholds(path) == before
    for comment in ["# the claims bot answers brokers", "# owned by the claims team",
                    "# the brokers' contract", "# agreed in March", "# end of file",
                    "# common PSI convention", "# Appropriateness thresholds"]:
        assert comment in written, comment
    save_thresholds(before, path)
    assert path.read_text() == written, "saving again changes nothing"


def test_a_thresholds_file_from_before_a_new_metric_still_loads(tmp_path):
    """A product manager's file saved before the estimate and the label lag existed: those two
    take their packaged defaults; everything the file says stands."""
    older = "\n".join(line for line in PACKAGED.read_text().splitlines()
                      if not line.lstrip().startswith(("estimated_success_rate:",
                                                       "label_lag_p50_hours:")))
    older = older.replace("target: 0.95, limit: 0.80}   # decisions affecting",
                          "target: 0.97, limit: 0.80}   # decisions affecting")
    path = tmp_path / "thresholds.yaml"
    path.write_text(older)
    loaded = load_thresholds(path)
    assert loaded.for_metric("explainability_coverage").target == 0.97
    assert loaded.for_metric("estimated_success_rate") == THRESHOLDS.for_metric(
        "estimated_success_rate")
    assert loaded.for_metric("label_lag_p50_hours").limit == 336


def test_the_systems_in_the_red_are_ranked_by_how_far_past_their_limits_they_are(tmp_path):
    """Worst system first, each area told by its metric furthest past its limit, measured in
    widths of the band the product manager set between target and limit."""
    from scorecard.demo import ensure_demo_store
    from scorecard.metrics import attention
    from scorecard.metrics.thresholds import thresholds_for

    db = ensure_demo_store(tmp_path / "demo.duckdb")

    def ranked(extra: str = "") -> list:
        path = tmp_path / "thresholds.yaml"
        path.write_text(PACKAGED.read_text().split("\n# Per-system overrides")[0] + extra)
        with open_store(str(db), read_only=True) as store:
            card = compute_scorecard(store, thresholds_for(store, path))
        return card, attention.needing_attention(card)

    card, flagged = ranked()
    assert [a.system for a in flagged] == ["credit-precheck", "doc-summariser", "research-agent",
                                           "support-assistant"]
    first = flagged[0].first
    psi = card.scope("credit-precheck")["confidence_psi"].value  # 1.25, limit 0.25, target 0.10
    assert first.metric == "confidence_psi" and first.distance == pytest.approx((psi - 0.25) / 0.15)
    for item in flagged:
        distances = [item.first.distance, *(r.distance for r in item.also)]
        assert distances == sorted(distances, reverse=True), item.system
        assert {item.first.area, *(r.area for r in item.also)} == {
            area for area, status in attention.area_grid(card)[item.system].items()
            if status == "red"}, "the sentence and the grid agree"
    # a narrower band on support-assistant's slowness gap puts it first, in the grid too
    card, flagged = ranked("systems:\n  support-assistant:\n    metrics:\n"
                           "      latency_success_gap_pp: {direction: lower_is_better, "
                           "target: 2.9, limit: 3.0}\n")
    assert flagged[0].system == "support-assistant"
    assert flagged[0].sentence == ("support-assistant: slow answers are losing good outcomes "
                                   "(success lost to slowness +12.4 pts; limit +3.0 pts)")
    assert list(attention.area_grid(card))[0] == "support-assistant"


def test_every_metric_of_the_leadership_table_says_what_it_risks():
    for metrics in registry().by_row().values():
        for metric in metrics:
            assert metric.at_risk and not metric.at_risk[0].isupper(), metric.id
