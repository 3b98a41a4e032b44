"""Thresholds: {direction, target, limit} per metric, per-system overrides, SLO and floor."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import BadInput
from ..settings import line_of, read_yaml, write_private
from ..store import records
from .registry import Direction, registry
from .thresholds_file import read_comments, render

Status = Literal["green", "amber", "red", "unknown"]
DEFAULT_SLO_MS = 2000.0
DEFAULT_FLOOR = 0.5


BOUND = 1e12  # beyond any value a metric here takes: a typo (1e306), not a threshold


class Threshold(BaseModel):
    """Green at or beyond target, red beyond limit, amber between."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    direction: Direction
    target: float = Field(ge=-BOUND, le=BOUND)
    limit: float = Field(ge=-BOUND, le=BOUND)

    @model_validator(mode="after")
    def _target_on_the_good_side(self) -> "Threshold":
        if self.direction == "higher_is_better" and self.target < self.limit:
            raise ValueError(f"target {self.target:g} is below limit {self.limit:g}, but higher "
                             "is better, so the target must be at or above the limit")
        if self.direction == "lower_is_better" and self.target > self.limit:
            raise ValueError(f"target {self.target:g} is above limit {self.limit:g}, but lower "
                             "is better, so the target must be at or below the limit")
        return self

    def status(self, value: float | None) -> Status:
        if value is None:
            return "unknown"
        if self.direction == "higher_is_better":
            return "green" if value >= self.target else "red" if value < self.limit else "amber"
        return "green" if value <= self.target else "red" if value > self.limit else "amber"


class Baseline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date
    end: date  # exclusive

    @model_validator(mode="after")
    def _ordered(self) -> "Baseline":
        if self.end <= self.start:
            raise ValueError("baseline end must be after its start")
        return self


class SystemOverrides(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_slo_ms: float | None = None
    confidence_floor: float | None = None
    baseline: Baseline | None = None
    metrics: dict[str, Threshold] = {}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_slo_ms: float = DEFAULT_SLO_MS
    confidence_floor: float = DEFAULT_FLOOR
    alerts_min_events: int = Field(default=1, ge=1)  # per window, for a burn-rate rule to fire


class Thresholds(BaseModel):
    """The whole thresholds file."""

    model_config = ConfigDict(extra="forbid")

    settings: Settings = Settings()
    defaults: dict[str, Threshold] = {}
    systems: dict[str, SystemOverrides] = {}

    @model_validator(mode="after")
    def _known_metrics_and_directions(self) -> "Thresholds":
        reg = registry()
        scopes = [("defaults", self.defaults)] + [
            (f"systems.{name}", o.metrics) for name, o in self.systems.items()]
        for where, table in scopes:
            for metric_id, threshold in table.items():
                if metric_id not in reg.ids:
                    raise ValueError(f"{where} names unknown metric '{metric_id}'")
                expected = reg.get(metric_id).direction
                if threshold.direction != expected:
                    raise ValueError(f"{where}.{metric_id} says {threshold.direction}, but the "
                                     f"metric is {expected}")
        missing = [m for m in reg.ids if m not in self.defaults]
        if missing:
            raise ValueError(f"defaults lack a threshold for {', '.join(missing)}")
        return self

    def for_metric(self, metric_id: str, system: str | None = None) -> Threshold:
        override = self.systems.get(system) if system else None
        if override and metric_id in override.metrics:
            return override.metrics[metric_id]
        return self.defaults[metric_id]

    def slo_ms(self, system: str | None = None) -> float:
        override = self.systems.get(system) if system else None
        value = override.latency_slo_ms if override else None
        return value if value is not None else self.settings.latency_slo_ms

    def floor(self, system: str | None = None) -> float:
        override = self.systems.get(system) if system else None
        value = override.confidence_floor if override else None
        return value if value is not None else self.settings.confidence_floor

    def baseline(self, system: str | None) -> Baseline | None:
        override = self.systems.get(system) if system else None
        return override.baseline if override else None

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_defaults=True),
                              sort_keys=False, width=120)

    def as_file_data(self) -> dict:
        """Settings, defaults and systems as the file writes them: settings always, a system's
        unset fields left out."""
        data = self.model_dump(mode="json", exclude_none=True)
        for name, override in list(data["systems"].items()):
            if not override.get("metrics"):
                override.pop("metrics", None)
            if not override:
                del data["systems"][name]
        return data


def _explain(exc: ValidationError, source: str, path: Path | None) -> BadInput:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    line = line_of(path, first["loc"]) if path is not None else None
    message = first["msg"].removeprefix("Value error, ")
    return BadInput(f"The thresholds in {source} are invalid"
                    f"{' at ' + where if where else ''}"
                    f"{f' (line {line})' if line else ''}: {message}.")


def parse_thresholds(data: dict, source: str = "the thresholds",
                     path: Path | None = None) -> Thresholds:
    try:
        return Thresholds.model_validate(data or {})
    except ValidationError as exc:
        raise _explain(exc, source, path) from None


PACKAGED = Path(__file__).with_name("thresholds.yaml")  # the defaults, before any change
STORE_LAYER_KEY = "system_thresholds"  # store_meta: overrides a store brings for its systems


def in_force(path: str | Path) -> Path:
    """The thresholds file that applies: the given one, or the packaged defaults while it does
    not exist (a product manager's first change writes it)."""
    path = Path(path)
    return path if path.exists() else PACKAGED


def load_thresholds(path: str | Path) -> Thresholds:
    """The thresholds file (or the packaged defaults while it is absent); BadInput names the
    file and line of whatever is wrong with it."""
    path = in_force(path)
    data = read_yaml(path, "thresholds file")
    if path != PACKAGED:
        data = with_new_defaults(data)
    return parse_thresholds(data, str(path), path)


@lru_cache(maxsize=1)
def _packaged_defaults() -> dict:
    return read_yaml(PACKAGED, "thresholds file")["defaults"]


def with_new_defaults(data: dict | None) -> dict | None:
    """A thresholds file written before a metric was added takes that metric's packaged
    default (the next save writes it into the file)."""
    if not isinstance(data, dict) or not isinstance(data.get("defaults"), dict):
        return data
    packaged = _packaged_defaults()
    missing = {m: packaged[m] for m in registry().ids
               if m not in data["defaults"] and m in packaged}
    return {**data, "defaults": {**data["defaults"], **missing}} if missing else data


def with_store_layer(thresholds: Thresholds, layer: dict | None) -> Thresholds:
    """The thresholds with a store's own system overrides beneath them: the file's settings for
    a system win field by field, metric by metric. Only the demo store brings any; a store you
    build yourself has none, so the shipped defaults never carry the demo's systems."""
    if not layer:
        return thresholds
    data = thresholds.model_dump(mode="json", exclude_defaults=True)
    systems = data.setdefault("systems", {})
    for name, theirs in layer.items():
        ours = systems.get(name, {})
        merged = {**theirs, **{k: v for k, v in ours.items() if k != "metrics"}}
        metrics = {**theirs.get("metrics", {}), **ours.get("metrics", {})}
        if metrics:
            merged["metrics"] = metrics
        systems[name] = merged
    return parse_thresholds(data, "the store's system thresholds")


def store_layer(store) -> dict | None:
    """The system overrides a store brings with it (only the demo store has any)."""
    value = records.meta(store, STORE_LAYER_KEY)
    return json.loads(value) if value else None


def thresholds_for(store, path: str | Path) -> Thresholds:
    """The thresholds in force for a store: the file (or the packaged defaults) over the
    store's own system overrides."""
    return with_store_layer(load_thresholds(path), store_layer(store))


def save_thresholds(thresholds: Thresholds, path: str | Path,
                    notes: dict[tuple[str, ...], str] | None = None) -> None:
    """Write atomically (a reader sees the old file or the new one, never half of one), keeping
    every comment of the file in force; a note replaces the comment of the entry it names."""
    previous = in_force(path).read_text(encoding="utf-8")
    write_private(Path(path), render(thresholds.as_file_data(), read_comments(previous), notes))
