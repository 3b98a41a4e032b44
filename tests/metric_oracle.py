"""An independent computation of the window's metrics with pandas and numpy, straight from the
SPEC text: the oracle the metric, slice and comparison tests check the store's numbers on."""

from __future__ import annotations

import numpy as np
import pandas as pd


def rate(mask, among):
    n = int(among.sum())
    return (int((mask & among).sum()) / n) if n else None


def share(values: pd.Series):
    """The mean of booleans, None over none."""
    return float(values.mean()) if len(values) else None


def window_oracle(w: pd.DataFrame, thresholds) -> dict:
    """The metrics over the window's events `w` alone (each event judged against its own
    system's latency SLO and confidence floor)."""
    # each event is judged against its own system's SLO and floor, also in the overall scope
    slo = w.system.map(thresholds.slo_ms)
    floor = w.system.map(thresholds.floor)
    s, f = (w.outcome == "success"), (w.outcome == "failure")
    lab = s | f
    failed = (w.status != "ok") | f
    lat = w.latency_ms.dropna()
    lat_slo = slo[w.latency_ms.notna()]
    out = {
        "events": len(w),
        "success_rate": rate(s, lab),
        "label_coverage": share(lab),
        "cost_per_outcome_usd": ((w.cost_usd.sum() + w.review_cost_usd.sum()) / s.sum()
                                 if s.sum() else None),
        "cost_per_request_usd": w.cost_usd.sum() / len(w),
        **{f"latency_p{round(q * 100)}_ms": float(np.quantile(lat, q)) if len(lat) else None
           for q in (0.5, 0.95, 0.99)},
        "latency_slo_compliance": share(lat <= lat_slo),
        "failure_rate": share(w.status != "ok"),
        "failure_visibility": rate(w.detected_by.isin(["system", "reviewer"]),
                                   failed & w.detected_by.notna()),
        "explainability_coverage": share(w.has_explanation.dropna().astype(bool)),
        "audit_completeness": share(w.model.fillna("").ne("") & w.input_ref.fillna("").ne("")
                                    & w.output_ref.fillna("").ne("")),
        "unreviewed_low_confidence_rate": rate(w.human_reviewed.fillna(False).eq(False),
                                               w.confidence < floor),
        "override_rate": rate(w.human_overridden.fillna(False).astype(bool),
                              w.human_reviewed.fillna(False).astype(bool)),
    }
    has_lat = w.latency_ms.notna()
    inside, over = has_lat & (w.latency_ms <= slo), has_lat & (w.latency_ms > slo)
    out["latency_success_gap_pp"] = 100 * (rate(s, lab & inside) - rate(s, lab & over)) \
        if (lab & inside).any() and (lab & over).any() else None
    return out
