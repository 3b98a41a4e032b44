"""The metric registry, read once from `metrics.yaml`: one declaration per metric.

A metric names its family (how it is computed: `families/catalog.py`); the family reads
everything else it needs from the declaration. An unknown family, or a reference to a metric
that is not declared, stops the load with one sentence.
"""

from __future__ import annotations

import re
import string
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import ScorecardError
from ..settings import parse_yaml

Direction = Literal["higher_is_better", "lower_is_better"]
PACKAGED = Path(__file__).with_name("metrics.yaml")

ADDITIVE_KINDS = ("count", "count_of", "sum")  # aggregates whose daily values add up
COLUMN_NAME = re.compile(r"[a-z_][a-z0-9_]*")
SYSTEM_SETTINGS = ("slo", "floor")  # per-system values a condition may name as {slo}, {floor}


class Measure(BaseModel):
    """One aggregate over events, declared by kind (exactly one of the three):
    `count: CONDITION` (rows meeting it; "*" for all), `count_of: COLUMN` (its non-missing
    values), `sum: COLUMN` or `sum: [COLUMN, ...]` (a list adds the sums, a missing sum as 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: str | None = None
    count_of: str | None = None
    sum: str | tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Measure":
        if sum(v is not None for v in (self.count, self.count_of, self.sum)) != 1:
            raise ValueError("a measure is exactly one of count, count_of or sum")
        names = [self.count_of] if self.count_of else [self.sum] if isinstance(self.sum, str) \
            else list(self.sum or ())
        bad = [n for n in names if not COLUMN_NAME.fullmatch(n)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a column name")
        unknown = self.settings_used - set(SYSTEM_SETTINGS)
        if unknown:
            raise ValueError(f"{{{unknown.pop()}}} is not a setting; a condition may name "
                             "{slo} and {floor}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("count", "count_of", "sum") if getattr(self, k) is not None)

    @property
    def settings_used(self) -> set[str]:
        """The per-system settings ({slo}, {floor}) its condition names."""
        text = self.count or ""
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    @property
    def adds_up_over_days(self) -> bool:
        """Whether a day-by-day sum of it equals it over a whole period: an additive kind
        whose condition does not depend on a system's settings (which may change)."""
        return self.kind in ADDITIVE_KINDS and not self.settings_used


class Metric(BaseModel):
    """One metric: what it is, why it matters, and how the store computes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    row: str
    title: str
    measures: str
    why: str
    at_risk: str | None = None  # what a red value costs or risks, in business words
    unit: Literal["count", "fraction", "ratio", "pp", "index", "usd", "ms", "minutes", "hours"]
    format: Literal["count", "percent", "decimal", "pp", "usd", "ms", "minutes", "hours"]
    direction: Direction
    min_sample: int
    family: str
    numerator: Measure | None = None
    denominator: Measure | None = None
    quantile: float | None = None
    based_on: tuple[str, ...] = ()  # the rate metrics (ids) this one is built from
    statistic: Literal["share_meeting", "cv"] | None = None
    field: Literal["detect", "recover", "confidence", "outcome_at"] | None = None  # what it reads
    min_segment: int | None = None
    min_fit: int | None = None  # the fewest events a calibration is fitted on
    reading: str | None = None  # what a value means in words; {pct} is the value as a percent
    reliable_while: str | None = None  # a metric whose red status makes this one unreliable
    compare_with: str | None = None  # drawn beside it on its chart (an estimate, its rate)
    reading_bands: list[tuple[float | None, str]] | None = None  # (upper bound, words)
    shortfall: str | None = None  # a rate's bad events in words ("slow answers")
    explained_by: str | None = None  # the rate whose shortfall explains this metric

    @field_validator("based_on", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return (value,) if isinstance(value, str) else value

    @property
    def is_rate(self) -> bool:
        """Whether its value is a proportion with a Wilson interval."""
        return self.family == "rate"

    @property
    def sample_noun(self) -> str:
        """What the sample size n of this metric counts."""
        from .families.catalog import room_of

        return room_of(self.family).sample_noun


class Budget(BaseModel):
    """An error budget's indicator (SPEC section 3): a declared rate whose green target is the
    objective; a higher-is-better rate counts good events, a lower-is-better one bad events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    metric: str


class Registry(BaseModel):
    rows: list[str]
    metrics: list[Metric]
    budgets: list[Budget] = []

    @model_validator(mode="after")
    def _references_resolve(self) -> "Registry":
        from .families.catalog import check_families

        ids = [m.id for m in self.metrics]
        if len(set(ids)) != len(ids):
            raise ValueError("metric ids must be unique")
        for m in self.metrics:
            unknown = [i for i in (*m.based_on, m.reliable_while, m.compare_with,
                                   m.explained_by) if i and i not in ids]
            if unknown:
                raise ValueError(f"metric {m.id} is based on {unknown[0]}, which is not declared")
        check_families(self)
        for m in self.metrics:
            rate = m.explained_by and self.get(m.explained_by)
            if m.shortfall and m.family != "rate" or rate and not rate.shortfall:
                raise ValueError(f"metric {m.id}: a shortfall is a rate's, and explained_by "
                                 "names a rate that declares one")
        for budget in self.budgets:
            if budget.metric not in ids or self.get(budget.metric).family != "rate":
                raise ValueError(f"budget {budget.id} names {budget.metric}, which is not a "
                                 "declared rate")
            if any(m.kind != "count" and m.kind != "count_of" for m in
                   (self.get(budget.metric).numerator, self.get(budget.metric).denominator)):
                raise ValueError(f"budget {budget.id}: its rate must count events")
        return self

    def get(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise KeyError(metric_id)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.metrics]

    @property
    def volume(self) -> Metric:
        """The metric that counts every decision: it says which periods hold events."""
        for m in self.metrics:
            if m.family == "count" and m.numerator is not None and m.numerator.count == "*":
                return m
        raise ValueError("the registry needs a count of every event ({count: '*'})")

    def shown_with(self, metric_id: str) -> list[Metric]:
        """The metrics drawn on one chart with this one: those it names in `compare_with`,
        and those that name it."""
        own = self.get(metric_id).compare_with
        return [m for m in self.metrics if m.id == own or m.compare_with == metric_id]

    def by_row(self) -> dict[str, list[Metric]]:
        return {row: [m for m in self.metrics if m.row == row] for row in self.rows}

    def of_family(self, *families: str) -> list[Metric]:
        return [m for m in self.metrics if m.family in families]


def load_registry(path: Path) -> Registry:
    """The registry declared in a file; a declaration that does not hold is one sentence."""
    try:
        return Registry.model_validate(parse_yaml(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ScorecardError(f"The metric registry {path} does not hold"
                             f"{' at ' + where if where else ''}: {message}.") from None


_active: list[Registry] = []


@lru_cache(maxsize=1)
def _packaged() -> Registry:
    return load_registry(PACKAGED)


def registry() -> Registry:
    """The registry in use: the packaged one, or one set by `using_registry`."""
    return _active[-1] if _active else _packaged()


@contextmanager
def using_registry(other: Registry) -> Iterator[Registry]:
    """Compute with another registry for a while (a team's own metrics, or a test's)."""
    _active.append(other)
    try:
        yield other
    finally:
        _active.pop()
