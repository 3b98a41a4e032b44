"""The NannyML side of the estimate backtest; runs in its own environment (`make backtest`
builds it), because nannyml pins plotly below 6 and the scorecard needs 6 or later.

Writes to OUT: the car-loan reference and analysis sets as NannyML ships them (the analysis
with its targets joined, for the realised accuracy), and NannyML's CBPE estimate of weekly
accuracy over the analysis period."""

import sys
from pathlib import Path

import nannyml as nml


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    reference, analysis, targets = nml.load_synthetic_car_loan_dataset()
    analysis = analysis.merge(targets, on="id")
    columns = ["id", "timestamp", "y_pred_proba", "y_pred", "repaid"]
    reference[columns].to_csv(out / "reference.csv", index=False)
    analysis[columns].to_csv(out / "analysis.csv", index=False)
    cbpe = nml.CBPE(problem_type="classification_binary", y_pred_proba="y_pred_proba",
                    y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
                    metrics=["accuracy"], chunk_period="W")
    cbpe.fit(reference)
    weekly = cbpe.estimate(analysis.drop(columns=["repaid"])).filter(period="analysis").to_df()
    frame = weekly[[("chunk", "start_date"), ("chunk", "end_date"), ("accuracy", "value")]]
    frame.columns = ["start", "end", "cbpe_accuracy"]
    frame.to_csv(out / "cbpe_weekly.csv", index=False)
    print(f"nannyml {nml.__version__}: {len(frame)} weekly CBPE estimates in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
