"""One level down (SPEC section 3, Slices): every sliced metric against an independent pandas
computation, releases compared against scipy, on DuckDB and on chDB; and the bad input a
person gives them."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import ENGINES, address_for, event_row, write_csv
from metric_oracle import window_oracle
from scorecard.errors import BadInput
from scorecard.metrics import compare as comparing
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.drivers import find_drivers
from scorecard.metrics.registry import registry
from scorecard.metrics.slices import (compute_slices, cost_rows, slice_trends, sliced_metrics,
                                      values_of)
from scorecard.metrics.thresholds import load_thresholds
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.engines import open_store
from scorecard.store.ingest import ingest_file

THRESHOLDS = load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml")
OLD, NEW = "assistant-2026.10.4", "assistant-2026.11.2"  # the demo's canary regressed


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scorecard.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def window_events(demo) -> pd.DataFrame:
    end = pd.Timestamp(demo["card"].window.end)
    ev = demo["events"]
    return ev[(ev.timestamp >= end - pd.Timedelta(days=7)) & (ev.timestamp < end)]


def slice_value(column: pd.Series) -> pd.Series:
    return column.fillna("").replace("", "(none)")


def approx_equal(got, want) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    return got == pytest.approx(want, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("dimension", ["release", "customer", "segment", "team"])
def test_every_sliced_metric_matches_an_independent_computation(demo, dimension):
    report = json.loads(cli("metrics", "--db", demo["db"], "--by", dimension,
                            "--format", "json").stdout)
    assert report["by"] == dimension and report["as_of"] == "2026-11-22"
    w = window_events(demo)
    assert set(report["slices"]) == set(w.system)
    for system, by_value in report["slices"].items():
        mine = w[w.system == system]
        values = slice_value(mine[dimension])
        assert set(by_value) == set(values), system
        for value, got in by_value.items():
            part = mine[values == value]
            want = window_oracle(part, THRESHOLDS)
            for metric in sliced_metrics():
                assert approx_equal(got[metric.id]["value"], want[metric.id]), \
                    (system, value, metric.id)
                n = got[metric.id]["n"]
                assert got[metric.id]["insufficient"] == (
                    got[metric.id]["value"] is not None and (n is None or n < metric.min_sample))
            spend = part.cost_usd.sum() + part.review_cost_usd.sum()
            assert got["total_cost_usd"] == pytest.approx(spend, rel=1e-9, abs=1e-12)
        # the slices' totals add up to the system's
        assert sum(v["total_cost_usd"] for v in by_value.values()) == pytest.approx(
            mine.cost_usd.sum() + mine.review_cost_usd.sum(), rel=1e-9)


def test_a_slice_too_small_to_judge_is_marked_not_hidden(demo):
    with open_store(demo["db"], read_only=True) as store:
        card = compute_slices(store, THRESHOLDS, "customer", system="support-assistant")
    smallest = min(card.slices("support-assistant").values(),
                   key=lambda m: m["events"].value)
    assert smallest["latency_p99_ms"].insufficient  # 500 latencies are needed to judge a p99
    assert smallest["latency_p99_ms"].value is not None
    rows = cost_rows(card, "support-assistant")
    assert sum(r["share_of_spend"] for r in rows) == pytest.approx(1.0)
    assert [r["spend_usd"] for r in rows] == sorted((r["spend_usd"] for r in rows), reverse=True)


def test_slice_trends_keep_eight_and_put_the_rest_together(demo):
    ev = demo["events"]
    mine = ev[ev.system == "support-assistant"]
    with open_store(demo["db"], read_only=True) as store:
        series = slice_trends(store, THRESHOLDS, "events", "customer", "week",
                              "support-assistant")
        ranked = values_of(store, "customer", "support-assistant")
    top = [v for v, _ in ranked[:8]]
    assert list(series) == [*top, "(other)"]
    counts = mine.customer.value_counts()
    assert [v for v, _ in ranked] == list(counts.sort_values(ascending=False, kind="stable")
                                          .index) or sorted(counts.values)[::-1] == [
        n for _, n in ranked]
    other = mine[~mine.customer.isin(top)]
    assert sum(p.value for p in series["(other)"]) == len(other)
    assert sum(p.value for p in series[top[0]]) == counts[top[0]]


def test_the_canary_release_is_named_as_the_driver_of_slow_answers(demo):
    with open_store(demo["db"], read_only=True) as store:
        card = compute_scorecard(store, THRESHOLDS)
        found = find_drivers(store, THRESHOLDS, card, {"support-assistant": "latency_p95_ms"})
    driver = found["support-assistant"]
    w = window_events(demo)
    mine = w[(w.system == "support-assistant") & w.latency_ms.notna()]
    slow = mine.latency_ms > 2000
    assert (driver.dimension, driver.value) == ("release", NEW)
    assert driver.share_of_bad == pytest.approx((slow & (mine.release == NEW)).sum() / slow.sum())
    assert driver.share_of_events == pytest.approx((mine.release == NEW).mean())
    assert driver.sentence().startswith(f"{driver.share_of_bad:.0%} of slow answers come from "
                                        f"release {NEW}")


# -- releases compared ------------------------------------------------------------------------

def _sides(demo, system="support-assistant", by="release", a=OLD, b=NEW):
    w = window_events(demo)
    mine = w[w.system == system]
    return mine[mine[by] == a], mine[mine[by] == b]


def test_a_comparison_matches_scipy(demo):
    with open_store(demo["db"], read_only=True) as store:
        result = comparing.compare(store, THRESHOLDS, "support-assistant", "release", OLD, NEW)
    side_a, side_b = _sides(demo)
    assert result.events == (len(side_a), len(side_b))
    changes = {c.metric: c for c in result.changes}
    want_a, want_b = window_oracle(side_a, THRESHOLDS), window_oracle(side_b, THRESHOLDS)
    for metric in comparing.compared_metrics():
        c = changes[metric.id]
        assert approx_equal(c.a, want_a[metric.id]) and approx_equal(c.b, want_b[metric.id])
    # rates: the pooled two-proportion z-test
    for metric_id, good, among in (
            ("success_rate", lambda d: d.outcome == "success",
             lambda d: d.outcome.isin(["success", "failure"])),
            ("failure_rate", lambda d: d.status != "ok", lambda d: d.status.notna())):
        s_a, n_a = good(side_a)[among(side_a)].sum(), among(side_a).sum()
        s_b, n_b = good(side_b)[among(side_b)].sum(), among(side_b).sum()
        pooled = (s_a + s_b) / (n_a + n_b)
        z = (s_b / n_b - s_a / n_a) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
        assert changes[metric_id].p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-6,
                                                           abs=1e-300)
    # the 95th percentile latency: scipy's bootstrap of the difference
    lat_a, lat_b = side_a.latency_ms.dropna().to_numpy(), side_b.latency_ms.dropna().to_numpy()
    boot = stats.bootstrap((lat_b, lat_a), lambda x, y, axis=-1: np.quantile(x, 0.95, axis=axis)
                           - np.quantile(y, 0.95, axis=axis), n_resamples=4000,
                           method="percentile", random_state=np.random.default_rng(3))
    low, high = boot.confidence_interval
    latency = changes["latency_p95_ms"]
    width = high - low
    assert latency.ci_low == pytest.approx(low, abs=0.15 * width)
    assert latency.ci_high == pytest.approx(high, abs=0.15 * width)
    assert latency.ci_low < latency.difference < latency.ci_high
    # cost per successful outcome: the delta method, from the events themselves
    def delta(side):
        cost = side.cost_usd.fillna(0) + side.review_cost_usd.fillna(0)
        success = (side.outcome == "success").astype(float)
        ratio = cost.sum() / success.sum()
        return ratio, np.var(cost - ratio * success, ddof=1) / (len(side) * success.mean() ** 2)
    (r_a, v_a), (r_b, v_b) = delta(side_a), delta(side_b)
    assert changes["cost_per_outcome_usd"].p_value == pytest.approx(
        2 * stats.norm.sf(abs(r_b - r_a) / math.sqrt(v_a + v_b)), rel=1e-6)
    # the canary is slower and fails its users more often; its cost per success is no worse
    assert {c.metric for c in result.regressed} >= {"latency_p95_ms", "latency_slo_compliance",
                                                    "success_rate"}
    assert changes["failure_rate"].verdict == "no clear change"
    assert result.headline().startswith(f"{NEW} regressed against {OLD}: ")


def test_compare_on_the_command_line_and_its_verdicts(demo):
    done = cli("compare", "--db", demo["db"], "--system", "support-assistant", "--by", "release",
               OLD, NEW, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["a"], report["b"], report["by"]) == (OLD, NEW, "release")
    assert report["metrics"]["latency_p95_ms"]["verdict"] == "regressed"
    assert {m["verdict"] for m in report["metrics"].values()} <= {
        "regressed", "improved", "no clear change"}
    swapped = json.loads(cli("compare", "--db", demo["db"], "--system", "support-assistant",
                             "--by", "release", NEW, OLD, "--format", "json").stdout)
    assert swapped["metrics"]["latency_p95_ms"]["verdict"] == "improved"
    # an explicit period of whole days: the same as the window it names
    dated = json.loads(cli("compare", "--db", demo["db"], "--system", "support-assistant",
                           "--by", "release", OLD, NEW, "--since", "2026-11-16", "--until",
                           "2026-11-22", "--format", "json").stdout)
    assert dated["metrics"]["success_rate"] == report["metrics"]["success_rate"]


def test_verdict_rules():
    success = registry().get("success_rate")

    def change(a, b, p, status_a="green", status_b="green"):
        c = comparing.Change("success_rate", a, b, 1000, 1000, b - a, p, status_a=status_a,
                             status_b=status_b, target=0.9, limit=0.8)
        return comparing.verdict(success, c)

    assert change(0.95, 0.85, 0.001, status_b="amber") == "regressed"
    assert change(0.97, 0.93, 0.001) == "no clear change"  # worse, still on target
    assert comparing.in_words(success, comparing.Change(
        "success_rate", 0.97, 0.93, 1, 1, -0.04, 0.001)) == "worse, within target"
    assert change(0.85, 0.95, 0.001, status_a="amber") == "improved"
    assert change(0.95, 0.80, 0.2, status_b="red") == "no clear change"  # not significant
    assert change(1.0, 0.89, 0.01, status_b="amber") == "regressed"


# -- the same on both engines, and bad input --------------------------------------------------

def _hostile_store(address, tmp_path):
    """Releases, customers and teams whose names hold SQL's marks and Markdown."""
    rows = []
    for i in range(240):
        release = "r$1" if i % 2 else "r2 {a:String}"
        rows.append(event_row(f"e{i}", f"2026-11-{10 + i % 5:02d}T10:{i % 60:02d}:00Z",
                              system="pay$tier", status="error" if i % 7 == 0 else "ok",
                              latency_ms=100 + i * (3 if i % 2 else 1),
                              outcome="success" if i % 3 else "failure", cost_usd=0.01,
                              release=release, customer="<a href='x'>acme</a>" if i % 4 else
                              "o'brien\\co", team="" if i % 5 == 0 else "$team"))
    columns = ["event_id", "timestamp", "system", "model", "status", "latency_ms", "outcome",
               "cost_usd", "release", "customer", "team"]
    path = write_csv(tmp_path / "hostile.csv", rows, columns)
    with open_store(address) as store:
        assert ingest_file(store, path).inserted == 240


@pytest.mark.parametrize("engine", ENGINES)
def test_names_with_sql_marks_slice_and_compare_on_each_engine(tmp_path, engine):
    address = address_for(engine, tmp_path)
    _hostile_store(address, tmp_path)
    report = json.loads(cli("metrics", "--db", address, "--by", "team", "--format",
                            "json").stdout)
    assert set(report["slices"]["pay$tier"]) == {"$team", "(none)"}
    assert report["slices"]["pay$tier"]["(none)"]["events"]["value"] == 48
    customers = json.loads(cli("metrics", "--db", address, "--by", "customer", "--system",
                               "pay$tier", "--format", "json").stdout)
    assert set(customers["slices"]["pay$tier"]) == {"<a href='x'>acme</a>", "o'brien\\co"}
    done = cli("compare", "--db", address, "--system", "pay$tier", "--by", "release",
               "r2 {a:String}", "r$1", "--since", "2026-11-10", "--until", "2026-11-14",
               "--format", "json")
    assert done.returncode == 0, done.stderr
    compared = json.loads(done.stdout)
    assert compared["events"] == {"a": 120, "b": 120}
    assert compared["metrics"]["latency_p95_ms"]["difference"] > 0


def test_the_engines_slice_alike(tmp_path):
    reports = []
    for engine in ENGINES:
        address = address_for(engine, tmp_path / engine)
        (tmp_path / engine).mkdir()
        _hostile_store(address, tmp_path / engine)
        reports.append(json.loads(cli("metrics", "--db", address, "--by", "release",
                                      "--format", "json").stdout))
    duck, ch = reports
    for value, metrics in duck["slices"]["pay$tier"].items():
        for metric_id, fields in metrics.items():
            other = ch["slices"]["pay$tier"][value][metric_id]
            if metric_id == "total_cost_usd":
                assert other == pytest.approx(fields, rel=1e-9)
                continue
            for key in ("value", "ci_low", "ci_high"):
                assert approx_equal(other[key], fields[key]), (value, metric_id, key)
            assert (other["n"], other["status"]) == (fields["n"], fields["status"])


@pytest.mark.parametrize("args, sentence", [
    (["metrics", "--by", "region"], "'region' is not a dimension to slice by; use one of "
                                    "segment, model, release, team, feature, customer."),
    (["metrics", "--by", "release", "--system", "nobody"], "There is no system 'nobody'"),
    (["compare", "--system", "support-assistant", "--by", "release", OLD, "assistant-9"],
     "support-assistant has no events of release 'assistant-9' between 2026-11-16 and "
     "2026-11-22; its releases there are"),
    (["compare", "--system", "support-assistant", "--by", "team", "a", "b"],
     "Compare by release or model, not 'team'."),
    (["compare", "--system", "support-assistant", "--by", "release", OLD, OLD],
     "Give two different values to compare."),
])
def test_bad_input_is_one_sentence_and_a_non_zero_exit(demo, args, sentence):
    done = cli(*args, "--db", demo["db"], "--format", "json")
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.startswith(sentence) and done.stderr.count("\n") == 1, done.stderr


def test_a_system_that_logs_no_release_cannot_compare_releases(tmp_path):
    path = write_csv(tmp_path / "plain.csv", [event_row(f"e{i}") for i in range(5)],
                     ["event_id", "timestamp", "system", "model", "status"])
    address = str(tmp_path / "plain.duckdb")
    with open_store(address) as store:
        ingest_file(store, path)
        with pytest.raises(BadInput, match="sys logs no release between 2026-10-26 and "
                                           "2026-11-01, so its releases cannot be compared"):
            comparing.compare(store, THRESHOLDS, "sys", "release", "a", "b")
        sliced = compute_slices(store, THRESHOLDS, "release")
    assert list(sliced.slices("sys")) == ["(none)"]
