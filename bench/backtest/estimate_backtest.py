"""Backtest of the estimated success rate on NannyML's synthetic car-loan data.

The reference year loads with its outcomes; the analysis year loads with its outcomes hidden.
The scorecard estimates each analysis week's success rate (a decision succeeds when the
prediction matched whether the loan was repaid; its confidence is the predicted class's
probability). The realised weekly accuracy comes from NannyML's target file, and NannyML's own
CBPE estimate for the same weeks from `nannyml_side.py`. Partial first and last weeks are left
out of the comparison (the first holds reference days too). Writes bench/ESTIMATE_BACKTEST.md.

    python bench/backtest/estimate_backtest.py DIR   # DIR written by nannyml_side.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.metrics.thresholds import PACKAGED, load_thresholds, parse_thresholds
from scorecard.metrics.trends import trend_series
from scorecard.store.db import Store
from scorecard.store.ingest import ingest_file

SYSTEM = "car-loan"
OUT = Path(__file__).resolve().parents[1] / "ESTIMATE_BACKTEST.md"


def events(frame: pd.DataFrame, prefix: str, labelled: bool) -> pd.DataFrame:
    """The car-loan rows as contract events."""
    predicted_repaid = frame.y_pred == 1
    correct = predicted_repaid == (frame.repaid == 1)
    return pd.DataFrame({
        "event_id": prefix + frame.id.astype(str), "timestamp": pd.to_datetime(frame.timestamp),
        "system": SYSTEM, "model": "car-loan-v1", "status": "ok",
        "outcome": np.where(correct, "success", "failure") if labelled else None,
        "confidence": np.where(predicted_repaid, frame.y_pred_proba, 1 - frame.y_pred_proba),
    })


def main(data: Path) -> None:
    reference = pd.read_csv(data / "reference.csv")
    analysis = pd.read_csv(data / "analysis.csv")
    cbpe = pd.read_csv(data / "cbpe_weekly.csv", parse_dates=["start"])
    with tempfile.TemporaryDirectory() as tmp:
        extract = Path(tmp) / "car-loan.parquet"
        pd.concat([events(reference, "ref-", True), events(analysis, "ana-", False)]
                  ).to_parquet(extract, index=False)
        with Store(Path(tmp) / "store.duckdb") as store:
            ingest_file(store, extract)
            # the calibration is fitted on the reference period's outcomes
            first = pd.to_datetime(reference.timestamp).min().date()
            last = pd.to_datetime(reference.timestamp).max().date()
            thresholds = load_thresholds(PACKAGED).model_dump(mode="json", exclude_defaults=True)
            thresholds["systems"] = {SYSTEM: {"baseline": {
                "start": first.isoformat(), "end": (last + pd.Timedelta(days=1)).isoformat()}}}
            series = trend_series(store, parse_thresholds(thresholds), "estimated_success_rate",
                                  "week", SYSTEM)
    ours = pd.DataFrame({"start": [p.start for p in series], "estimate": [p.value for p in series],
                         "estimated": [p.extra.get("n_estimated") for p in series]})
    analysis["start"] = pd.to_datetime(analysis.timestamp).dt.to_period("W-SUN").dt.start_time
    realised = analysis.assign(correct=analysis.y_pred == analysis.repaid).groupby("start").agg(
        realised=("correct", "mean"), decisions=("correct", "size")).reset_index()
    weeks = realised.merge(ours, on="start").merge(cbpe[["start", "cbpe_accuracy"]], on="start")
    weeks = weeks.iloc[1:-1]  # whole analysis weeks only
    weeks["ours_error"] = (weeks.estimate - weeks.realised).abs() * 100
    weeks["cbpe_error"] = (weeks.cbpe_accuracy - weeks.realised).abs() * 100
    ours_mae, cbpe_mae = weeks.ours_error.mean(), weeks.cbpe_error.mean()
    lines = [
        "# Estimated success rate: backtest on NannyML's car-loan data",
        "",
        "Regenerate with `make backtest`. The reference year (50,000 decisions) loads with its "
        "outcomes and is pinned as the baseline; the analysis year (50,000 decisions) loads "
        "with its outcomes hidden. Each whole analysis week's `estimated_success_rate` "
        "(the weekly series `scorecard trends` prints) is compared with the realised accuracy from "
        "NannyML's target file, beside NannyML's CBPE estimate of the same weeks.",
        "",
        f"- Weeks compared: {len(weeks)} (the partial first and last weeks left out)",
        f"- **Scorecard estimate: mean absolute error {ours_mae:.2f} points** "
        f"(largest {weeks.ours_error.max():.2f})",
        f"- NannyML CBPE: mean absolute error {cbpe_mae:.2f} points "
        f"(largest {weeks.cbpe_error.max():.2f})",
        f"- Targets: within 1.5 points on average: **{'met' if ours_mae <= 1.5 else 'missed'}**; "
        f"no worse than CBPE by more than 0.5 points: "
        f"**{'met' if ours_mae - cbpe_mae <= 0.5 else 'missed'}** "
        f"(difference {ours_mae - cbpe_mae:+.2f})",
        "",
        "| week of | decisions | realised | scorecard estimate | error | CBPE | error |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(f"| {w.start:%Y-%m-%d} | {w.decisions:,} | {w.realised:.2%} | {w.estimate:.2%} | "
          f"{w.ours_error:.2f} | {w.cbpe_accuracy:.2%} | {w.cbpe_error:.2f} |"
          for w in weeks.itertuples()),
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[4:8]))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
