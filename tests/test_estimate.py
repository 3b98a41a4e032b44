"""Late outcomes: the estimated success rate (isotonic calibration, checked against
scikit-learn) and the label lag, on stores built from real files."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from scorecard.metrics import isotonic, rollups
from scorecard.metrics.checklist import questions
from scorecard.metrics.compute import compute_scorecard
from scorecard.metrics.formatting import describe
from scorecard.metrics.registry import registry
from scorecard.metrics.thresholds import PACKAGED, load_thresholds, parse_thresholds
from scorecard.metrics.trends import trend_series, trend_table
from scorecard.store.ingest import ingest_file

THRESHOLDS = load_thresholds(PACKAGED)
DAY0 = datetime(2026, 6, 1)


# -- the calibration against scikit-learn ------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_the_fit_predicts_as_scikit_learn_does(seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.beta(4, 2, 3000), rng.integers(1, 4))  # few or many ties
    y = (rng.random(3000) < 0.3 + 0.6 * x).astype(float)
    grouped = pd.DataFrame({"x": x, "y": y}).groupby("x").y.agg(["size", "sum"]).reset_index()
    curve = isotonic.fit(list(grouped.itertuples(index=False, name=None)))
    theirs = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    probe = np.concatenate([np.linspace(-0.2, 1.2, 701), x[:200]])
    assert [curve(v) for v in probe] == pytest.approx(theirs.predict(probe), abs=1e-12)
    assert curve.events == 3000


def test_a_fit_on_one_value_is_flat_and_one_on_nothing_is_none():
    curve = isotonic.fit([(0.7, 10, 7)])
    assert curve(0.1) == curve(0.9) == pytest.approx(0.7)
    assert isotonic.fit([]) is None


# -- the metric on a store ---------------------------------------------------------------------

def _events(system: str, n_baseline: int, rng, *, unlabelled: int, labelled_now: int = 0,
            drift: float = 0.0) -> list[dict]:
    """Baseline decisions with outcomes (days 0-27), then decisions in the last week (days
    60-66): `labelled_now` with outcomes known, `unlabelled` without."""
    rows = []

    def add(i, day, labelled, shift=0.0):
        conf = float(np.clip(rng.beta(5, 2) - shift, 0, 1))
        ok = rng.random() < 0.4 + 0.55 * conf
        when = DAY0 + timedelta(days=day, hours=float(rng.uniform(0, 23)))
        rows.append({"event_id": f"{system}-{i}", "timestamp": when.isoformat() + "Z",
                     "system": system, "model": "m", "status": "ok",
                     "outcome": ("success" if ok else "failure") if labelled else None,
                     "confidence": round(conf, 3),
                     "outcome_at": (when + timedelta(hours=30)).isoformat() + "Z"
                     if labelled else None})

    for i in range(n_baseline):
        add(i, int(rng.integers(0, 28)), True)
    for i in range(labelled_now):
        add(n_baseline + i, int(rng.integers(60, 67)), True, drift)
    for i in range(unlabelled):
        add(n_baseline + labelled_now + i, int(rng.integers(60, 67)), False, drift)
    return rows


@pytest.fixture
def late_store(store, tmp_path):
    rng = np.random.default_rng(7)
    rows = (_events("fitted", 400, rng, unlabelled=300, labelled_now=100)
            + _events("thin", 99, rng, unlabelled=200, labelled_now=50))
    frame = pd.DataFrame(rows).sample(frac=1, random_state=1)  # unsorted, as extracts come
    frame.to_parquet(tmp_path / "late.parquet", index=False)
    assert ingest_file(store, tmp_path / "late.parquet").inserted == len(rows)
    return store, frame


def _utc(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times).dt.tz_localize(None)


def _expected(frame: pd.DataFrame, system: str, since: datetime = DAY0 + timedelta(days=60),
              until: datetime = DAY0 + timedelta(days=67)) -> tuple[float, int]:
    ts = _utc(frame.timestamp)
    own = frame[frame.system == system]
    base = own[(ts[own.index] < DAY0 + timedelta(days=28)) & own.outcome.notna()]
    curve = IsotonicRegression(out_of_bounds="clip").fit(base.confidence,
                                                         base.outcome == "success")
    now = own[(ts[own.index] >= since) & (ts[own.index] < until)]
    unknown = now[now.outcome.isna()]
    s, labelled = (now.outcome == "success").sum(), now.outcome.notna().sum()
    return (s + curve.predict(unknown.confidence).sum()) / (labelled + len(unknown)), len(unknown)


def test_the_estimate_counts_unlabelled_decisions_at_their_calibrated_chance(late_store):
    store, frame = late_store
    card = compute_scorecard(store, THRESHOLDS)
    value, estimated = _expected(frame, "fitted")
    got = card.scope("fitted")["estimated_success_rate"]
    assert got.value == pytest.approx(value, abs=1e-12)
    assert got.extra["n_estimated"] == estimated == 300 and got.n == 400
    assert got.extra["fit_events"] == 400


def test_a_system_with_too_few_baseline_outcomes_has_no_estimate(late_store):
    store, frame = late_store
    card = compute_scorecard(store, THRESHOLDS)
    thin = card.scope("thin")["estimated_success_rate"]
    assert thin.value is None and thin.status == "unknown"  # 99 events: below min_fit 100
    assert card.scope("thin")["success_rate"].value is not None
    # all systems together: each event uses its own system's curve; the thin system's
    # unlabelled decisions have none, so only its known outcomes count
    value, _ = _expected(frame, "fitted")
    fitted = card.scope("fitted")["estimated_success_rate"]
    thin_now = frame[(frame.system == "thin") & frame.outcome.notna()
                     & (_utc(frame.timestamp) >= DAY0 + timedelta(days=60))]
    overall = card.scope(None)["estimated_success_rate"]
    assert overall.extra["n_estimated"] == 300
    assert overall.value == pytest.approx(
        (value * fitted.n + (thin_now.outcome == "success").sum()) / (fitted.n + len(thin_now)))


def test_the_estimate_is_flagged_unreliable_while_input_drift_is_red(store, tmp_path):
    rng = np.random.default_rng(3)
    rows = _events("drifting", 600, rng, unlabelled=400, labelled_now=50, drift=0.45)
    pd.DataFrame(rows).to_parquet(tmp_path / "drift.parquet", index=False)
    ingest_file(store, tmp_path / "drift.parquet")
    card = compute_scorecard(store, THRESHOLDS)
    scope = card.scope("drifting")
    assert scope["confidence_psi"].status == "red"
    estimate = scope["estimated_success_rate"]
    words = describe(registry().get("estimated_success_rate"), estimate.value,
                     {**estimate.extra, "n": estimate.n})
    assert words == ("⚠ unreliable: Input drift (confidence PSI) is red; "
                     "estimate: 400 of 450 decisions have no outcome yet")
    low_confidence = questions(card, THRESHOLDS, trend_table(
        store, THRESHOLDS, "week", {m.family for m in registry().metrics}), "drifting")[1]
    assert "estimated_success_rate" in low_confidence.metrics
    assert "the estimated success rate is" in low_confidence.answer
    assert "treat it with care: Input drift (confidence PSI) is red" in low_confidence.answer


def test_the_estimate_and_the_label_lag_have_weekly_trends(late_store):
    store, frame = late_store
    series = trend_series(store, THRESHOLDS, "estimated_success_rate", "week", "fitted")
    last = series[-1]
    assert last.value == pytest.approx(_expected(frame, "fitted", last.start, last.end)[0],
                                       abs=1e-12)
    early = [p for p in series if p.start < DAY0 + timedelta(days=28)]
    assert all(p.extra["n_estimated"] == 0 for p in early), "all known: nothing estimated"
    realised = trend_series(store, THRESHOLDS, "success_rate", "week", "fitted")
    assert [p.value for p in early] == pytest.approx([p.value for p in realised[:len(early)]])
    lag = trend_series(store, THRESHOLDS, "label_lag_p50_hours", "week", "fitted")
    assert {p.value for p in lag if p.value is not None} == {30.0}


def test_label_lag_is_the_median_over_outcomes_known_in_the_window(store, tmp_path):
    rows = [{"event_id": f"e{i}", "timestamp": f"2026-11-0{d}T00:00:00Z", "system": "s",
             "model": "m", "status": "ok", "outcome": "success",
             "outcome_at": f"2026-11-{known}T00:00:00+02:00"}
            for i, (d, known) in enumerate([(1, "03"), (2, "03"), (1, "09"), (3, "20")])]
    pd.DataFrame(rows).to_csv(tmp_path / "lag.csv", index=False)
    ingest_file(store, tmp_path / "lag.csv")
    card = compute_scorecard(store, THRESHOLDS, as_of="2026-11-09")  # window Nov 3 - 9
    lag = card.scope("s")["label_lag_p50_hours"]
    # known within the window (UTC): Nov 2 22:00 is before it; Nov 8 22:00 is in it
    assert lag.n == 1 and lag.value == pytest.approx(7 * 24 + 22)


def test_an_outcome_known_before_its_decision_is_rejected_with_its_reason(store, tmp_path):
    rows = [{"event_id": "a", "timestamp": "2026-11-02T10:00:00Z", "system": "s", "model": "m",
             "status": "ok", "outcome": "success", "outcome_at": "2026-11-01T10:00:00Z"},
            {"event_id": "b", "timestamp": "2026-11-02T10:00:00Z", "system": "s", "model": "m",
             "status": "ok", "outcome": "success", "outcome_at": "not a time"}]
    pd.DataFrame(rows).to_csv(tmp_path / "bad.csv", index=False)
    result = ingest_file(store, tmp_path / "bad.csv")
    assert result.rejected == 2 and result.inserted == 0
    assert store.query("SELECT row_number, reason FROM rejected_rows ORDER BY 1") == [
        (1, "outcome_at is before timestamp"),
        (2, "outcome_at 'not a time' is not an ISO 8601 time")]


def test_a_baseline_with_very_many_distinct_confidences_is_fitted_to_four_decimals(store,
                                                                                   tmp_path):
    rng = np.random.default_rng(11)
    n = 25_000  # past MOST_POINTS distinct values
    conf = rng.random(n)
    rows = pd.DataFrame({
        "event_id": [f"b{i}" for i in range(n + 500)], "system": "busy", "model": "m",
        "status": "ok",
        "timestamp": [DAY0 + timedelta(minutes=i) for i in range(n)]
        + [DAY0 + timedelta(days=40, minutes=i) for i in range(500)],
        "outcome": list(np.where(rng.random(n) < conf, "success", "failure")) + [None] * 500,
        "confidence": np.concatenate([conf, rng.random(500)])})
    rows.to_parquet(tmp_path / "busy.parquet", index=False)
    ingest_file(store, tmp_path / "busy.parquet")
    card = compute_scorecard(store, THRESHOLDS)
    curve = IsotonicRegression(out_of_bounds="clip").fit(
        np.round(conf, 4), (rows.outcome[:n] == "success").to_numpy())
    estimate = card.scope("busy")["estimated_success_rate"]
    assert estimate.value == pytest.approx(curve.predict(rows.confidence[n:]).mean(), abs=1e-12)


def test_writes_keep_each_curve_and_a_pinned_baseline_is_fitted_afresh(late_store):
    store, frame = late_store
    rollups.refresh(store)  # as every load and undo does after its write
    kept = dict(store.query("SELECT system, events FROM calibrations"))
    assert kept == {"fitted": 400, "thin": 99}
    assert compute_scorecard(store, THRESHOLDS).scope("fitted")["estimated_success_rate"].value \
        == pytest.approx(_expected(frame, "fitted")[0], abs=1e-12)
    data = THRESHOLDS.model_dump(mode="json", exclude_defaults=True)
    data["systems"] = {"fitted": {"baseline": {"start": "2026-06-01", "end": "2026-06-15"}}}
    card = compute_scorecard(store, parse_thresholds(data))
    ts = _utc(frame.timestamp)
    base = frame[(frame.system == "fitted") & (ts < DAY0 + timedelta(days=14))
                 & frame.outcome.notna()]
    curve = IsotonicRegression(out_of_bounds="clip").fit(base.confidence,
                                                         base.outcome == "success")
    now = frame[(frame.system == "fitted") & (ts >= DAY0 + timedelta(days=60))]
    unknown = now[now.outcome.isna()]
    expected = ((now.outcome == "success").sum()
                + curve.predict(unknown.confidence).sum()) / len(now)
    got = card.scope("fitted")["estimated_success_rate"]
    assert got.value == pytest.approx(expected, abs=1e-12) and got.extra["fit_events"] == len(base)


def test_an_ingest_of_later_days_refits_nothing_and_one_into_the_baseline_refits(late_store,
                                                                                   tmp_path):
    from dataclasses import replace

    from scorecard.metrics.families import calibration
    from scorecard.metrics.families.base import Context

    store, _ = late_store
    rollups.refresh(store)

    def stale() -> set:
        ctx = Context(THRESHOLDS, ("fitted", "thin"), datetime.min, datetime.max, rolled=True)
        query = calibration.to_keep(replace(ctx), store.query_dicts)
        return {row[1] for row in store.query(query.text, dict(query.params))}

    assert stale() == set()
    later = [{"event_id": "late-1", "timestamp": "2026-08-20T10:00:00Z", "system": "fitted",
              "model": "m", "status": "ok", "outcome": "success", "confidence": 0.9}]
    pd.DataFrame(later).to_csv(tmp_path / "later.csv", index=False)
    ingest_file(store, tmp_path / "later.csv")
    rollups.daily_rollup().refresh(store)  # what refresh does before it keeps the curves
    assert stale() == set(), "days after the baseline change no curve"
    early = [{**later[0], "event_id": "early-1", "timestamp": "2026-06-03T10:00:00Z"}]
    pd.DataFrame(early).to_csv(tmp_path / "early.csv", index=False)
    ingest_file(store, tmp_path / "early.csv")
    rollups.daily_rollup().refresh(store)
    assert stale() == {"fitted"}, "an event in the baseline refits its system"
    rollups.refresh(store)
    assert store.scalar("SELECT events FROM calibrations WHERE system = 'fitted'") == 401


def test_a_changed_declaration_refits_every_kept_curve(late_store):
    from scorecard.metrics.families.base import Context
    from scorecard.metrics.registry import Registry, registry as packaged, using_registry

    store, _ = late_store
    rollups.refresh(store)
    ctx = Context(THRESHOLDS, ("fitted", "thin"), datetime.min, datetime.max, rolled=True)
    assert rollups.calibrations_ready(store, ctx)
    metrics = [m.model_copy(update={"min_fit": 50}) if m.id == "estimated_success_rate" else m
               for m in packaged().metrics]
    with using_registry(Registry(rows=packaged().rows, metrics=metrics,
                                 budgets=packaged().budgets)):
        assert not rollups.calibrations_ready(store, ctx), "curves of another declaration"
        card = compute_scorecard(store, THRESHOLDS)  # fitted live meanwhile: same numbers
        assert card.scope("thin")["estimated_success_rate"].value is not None  # 99 >= 50
        rollups.refresh(store)
        assert rollups.calibrations_ready(store, ctx)
    assert not rollups.calibrations_ready(store, ctx)
