"""Property-based metrics: on random stores, rates stay in [0, 1], intervals hold their value,
and every status agrees with its threshold."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_csv
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.registry import registry
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.metrics.thresholds import load_thresholds
from scorecard.store.db import Store
from scorecard.store.ingest import ingest_file

THRESHOLDS = load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml")

event = st.fixed_dictionaries({
    "timestamp": st.integers(0, 60).map(lambda d: f"2026-10-{1 + d % 31:02d}T12:00:00Z"
                                        if d < 31 else f"2026-11-{1 + d - 31:02d}T12:00:00Z"),
    "system": st.sampled_from(["a", "b"]),
    "model": st.sampled_from(["m1", "m2"]),
    "status": st.sampled_from(["ok", "ok", "ok", "error", "timeout"]),
    "latency_ms": st.one_of(st.none(), st.floats(0, 10000)),
    "cost_usd": st.one_of(st.none(), st.floats(0, 2)),
    "outcome": st.sampled_from([None, "success", "success", "failure"]),
    "confidence": st.one_of(st.none(), st.floats(0, 1)),
    "human_reviewed": st.sampled_from([None, "true", "false"]),
    "human_overridden": st.sampled_from([None, "true", "false"]),
    "segment": st.sampled_from([None, "x", "y"]),
    "detected_by": st.sampled_from([None, "system", "customer"]),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, min_size=1, max_size=120))
def test_rates_intervals_and_statuses_are_consistent(rows):
    for i, row in enumerate(rows):
        row["event_id"] = f"e{i}"
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "p.duckdb") as store:
        ingest_file(store, write_csv(Path(tmp) / "x.csv", rows))
        card = compute_scorecard(store, THRESHOLDS)
        for scope, values in card.values.items():
            for metric in registry().metrics:
                mv = values[metric.id]
                assert mv.status == THRESHOLDS.for_metric(metric.id, scope or None).status(mv.value)
                if mv.value is None:
                    assert mv.status == "unknown"
                if metric.unit == "fraction" and mv.value is not None:
                    assert 0 <= mv.value <= 1, metric.id
                if metric.is_rate and mv.value is not None:
                    assert mv.ci_low - 1e-12 <= mv.value <= mv.ci_high + 1e-12, metric.id
