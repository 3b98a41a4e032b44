"""The metric registry, read once from `metrics.yaml`: one declaration per metric."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..settings import parse_yaml

Direction = Literal["higher_is_better", "lower_is_better"]
Family = Literal["rate", "ratio", "count", "quantile", "gap", "weekly", "baseline", "psi",
                 "incidents", "segments"]


SAMPLE_NOUNS = {"weekly": "weeks", "segments": "segments", "incidents": "incidents",
                "baseline": "labelled events", "gap": "labelled events"}


class Metric(BaseModel):
    """One metric: what it is, why it matters, and how the store computes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    row: str
    title: str
    measures: str
    why: str
    unit: Literal["count", "fraction", "ratio", "pp", "index", "usd", "ms", "minutes"]
    format: Literal["count", "percent", "decimal", "pp", "usd", "ms", "minutes"]
    direction: Direction
    min_sample: int
    family: Family
    numerator: str | None = None
    denominator: str | None = None
    expression: str | None = None
    quantile: float | None = None
    statistic: Literal["share_meeting", "cv"] | None = None
    field: Literal["detect", "recover"] | None = None
    min_segment: int | None = None
    reading: str | None = None  # what a value means in words; {pct} is the value as a percent
    reading_bands: list[tuple[float | None, str]] | None = None  # (upper bound, words)

    @property
    def is_rate(self) -> bool:
        return self.family == "rate"

    @property
    def sample_noun(self) -> str:
        """What the sample size n of this metric counts."""
        return SAMPLE_NOUNS.get(self.family, "events")


class Registry(BaseModel):
    rows: list[str]
    metrics: list[Metric]

    def get(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise KeyError(metric_id)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.metrics]

    def by_row(self) -> dict[str, list[Metric]]:
        return {row: [m for m in self.metrics if m.row == row] for row in self.rows}

    def of_family(self, *families: str) -> list[Metric]:
        return [m for m in self.metrics if m.family in families]


@lru_cache(maxsize=1)
def registry() -> Registry:
    data = parse_yaml(Path(__file__).with_name("metrics.yaml").read_text(encoding="utf-8"))
    return Registry.model_validate(data)
