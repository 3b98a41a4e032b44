"""What an import from an observability tool is told beyond the file: the decision unit, where
outcomes come from, and the file of evaluations or scores given beside the export."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

PASS_LABELS = ("pass", "passed", "correct", "success", "successful", "true", "yes", "good",
               "relevant", "accepted", "1")
FAIL_LABELS = ("fail", "failed", "incorrect", "failure", "false", "no", "bad", "irrelevant",
               "rejected", "0")


class ImportOptions(BaseModel):
    """`unit`: one event per model call (`call`) or per trace (`trace`, its root span with
    tokens and cost summed over its model calls). `outcome_from`: the evaluation or score name
    that gives the outcome (None: the only one the export has, if it has exactly one). A label
    in `pass_labels` or `fail_labels` decides; otherwise a score at or above `pass_at`, when
    set, is a success and below it a failure. `scores`: the evaluations, scores or annotations
    file given beside the export (an OTLP logs file, Langfuse scores, Phoenix annotations)."""

    model_config = ConfigDict(frozen=True)

    unit: Literal["call", "trace"] = "call"
    outcome_from: str | None = None
    pass_labels: tuple[str, ...] = PASS_LABELS
    fail_labels: tuple[str, ...] = FAIL_LABELS
    pass_at: float | None = None
    scores: Path | None = None
