"""Metric families: a new family is a module, a catalog line and two declarations; a registry
that names an unknown family or leaves out what its family reads does not load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import event_row, write_csv
from scorecard.errors import ScorecardError
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.families import catalog
from scorecard.metrics.families.base import Context, column, period_start
from scorecard.metrics.registry import PACKAGED, load_registry, registry, using_registry
from scorecard.metrics.thresholds import PACKAGED as PACKAGED_THRESHOLDS, load_thresholds
from scorecard.metrics.trends import trend_series
from scorecard.sql import Query
from scorecard.store.ingest import ingest_file

TOY = {"id": "models_in_use", "row": "Auditability", "title": "Models in use",
       "measures": "Distinct models that answered in the window.",
       "why": "Every model in use is one more to audit.", "unit": "count", "format": "count",
       "direction": "lower_is_better", "min_sample": 1, "family": "distinct_models"}


# -- file 1: the family's own module (here, in the test) ----------------------------------------

def _distinct_models(ctx: Context, metrics, period: str | None) -> Query:
    cols = ", ".join(f"{ctx.dialect.double('count(DISTINCT model)')} AS {column(m.id, 'value')}, "
                     f"count(*) AS {column(m.id, 'n')}" for m in metrics)
    return ctx.query(f"""
SELECT coalesce(system, '') AS scope, period_start, {cols}
FROM (SELECT *, {period_start(ctx, period, 'timestamp')} AS period_start
      FROM inference_events WHERE timestamp >= $start AND timestamp < $end)
GROUP BY GROUPING SETS ((system, period_start), (period_start)) ORDER BY scope, period_start""")


@pytest.fixture
def toy_family(tmp_path):
    # file 2: its line in the catalog
    catalog.register("distinct_models", catalog.Room(
        lambda ctx, ms: _distinct_models(ctx, ms, None),
        lambda ctx, ms, period: _distinct_models(ctx, ms, period), sample_noun="events"))
    # file 3: its declaration in metrics.yaml
    declared = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    declared["metrics"].append(TOY)
    metrics_file = tmp_path / "metrics.yaml"
    metrics_file.write_text(yaml.safe_dump(declared), encoding="utf-8")
    # file 4: its threshold in thresholds.yaml
    th = yaml.safe_load(PACKAGED_THRESHOLDS.read_text(encoding="utf-8"))
    th["defaults"]["models_in_use"] = {"direction": "lower_is_better", "target": 2, "limit": 3}
    thresholds_file = tmp_path / "thresholds.yaml"
    thresholds_file.write_text(yaml.safe_dump(th), encoding="utf-8")
    try:
        with using_registry(load_registry(metrics_file)):
            yield load_thresholds(thresholds_file)
    finally:
        catalog.ROOMS.pop("distinct_models")


def test_a_new_family_takes_a_module_a_catalog_line_and_two_declarations(toy_family, store,
                                                                         tmp_path):
    rows = [event_row(f"a{i}", f"2026-11-0{1 + i % 3}T10:00:00Z", system="a", model=f"m{i % 3}")
            for i in range(9)]
    rows += [event_row(f"b{i}", "2026-11-02T10:00:00Z", system="b", model="m1") for i in range(4)]
    ingest_file(store, write_csv(tmp_path / "e.csv", rows))
    card = compute_scorecard(store, toy_family, as_of="2026-11-03")
    assert card.values["a"]["models_in_use"].value == 3.0
    assert card.values["b"]["models_in_use"].value == 1.0
    assert card.values[""]["models_in_use"].value == 3.0
    assert card.values["a"]["models_in_use"].status == "amber"
    assert card.values["b"]["models_in_use"].status == "green"
    assert registry().get("models_in_use").sample_noun == "events"
    days = trend_series(store, toy_family, "models_in_use", "day", "a")
    assert [p.value for p in days] == [1.0, 1.0, 1.0]
    # the packaged metrics are computed as before, beside the new one
    assert card.values[""]["events"].value == 13.0


def _registry_file(tmp_path: Path, change) -> Path:
    declared = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    change(declared["metrics"])
    path = tmp_path / "metrics.yaml"
    path.write_text(yaml.safe_dump(declared), encoding="utf-8")
    return path


def _metric(metrics: list[dict], metric_id: str) -> dict:
    return next(m for m in metrics if m["id"] == metric_id)


@pytest.mark.parametrize("change, words", [
    (lambda ms: _metric(ms, "failure_rate").update(family="failures"),
     "there is no metric family 'failures'"),
    (lambda ms: _metric(ms, "weekly_success_cv").pop("statistic"),
     "metric weekly_success_cv (weekly) needs statistic"),
    (lambda ms: _metric(ms, "success_rate_change_pp").update(based_on=["success"]),
     "based on success, which is not declared"),
    (lambda ms: _metric(ms, "disparity_ratio").update(based_on=["cost_per_outcome_usd"]),
     "cost_per_outcome_usd, which is not a rate"),
    (lambda ms: _metric(ms, "success_rate").update(numerator={"avg": "latency_ms"}),
     "metrics.1.numerator"),
    (lambda ms: ms.append(yaml.safe_load(yaml.safe_dump(ms[0]))), "metric ids must be unique"),
])
def test_a_registry_that_does_not_hold_is_refused_in_one_sentence(tmp_path, change, words):
    with pytest.raises(ScorecardError) as raised:
        load_registry(_registry_file(tmp_path, change))
    message = str(raised.value)
    assert words in message and "\n" not in message, message


def test_the_packaged_registry_declares_every_family_it_uses():
    assert {m.family for m in registry().metrics} <= set(catalog.ROOMS)
    assert load_registry(PACKAGED) == registry()
