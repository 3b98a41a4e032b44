"""One level down: the window's metrics per release, team, feature, customer, segment or model
within each system (SPEC section 3, Slices), one line per slice over time, and what each slice
spends. The metrics are the window family's, computed by the same declarations and query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..errors import BadInput
from ..sql import Query, identifier
from ..store.db import Store
from ..store.schema import DIMENSIONS
from .compute import OVERALL, MetricValue, Window, collect, judge, resolve_window, systems
from .families import base, catalog
from .families.window import OTHER, Slicing
from .families.window import query as window_query
from .registry import Metric, registry
from .thresholds import Thresholds
from .trends import WIDE, TrendPoint, period_end

SPEND_OF = "cost_per_outcome_usd"  # its numerator (cost and review cost) is a slice's spend
ATTRIBUTED_BY = ("team", "feature", "customer")  # who owns and pays


def check_dimension(dimension: str) -> str:
    if dimension not in DIMENSIONS:
        raise BadInput(f"'{dimension}' is not a dimension to slice by; use one of "
                       f"{', '.join(DIMENSIONS)}.")
    return dimension


def sliced_metrics() -> list[Metric]:
    """The metrics computed over the window's events alone: those a slice has."""
    return [m for m in registry().metrics
            if catalog.room_of(m.family).shared_by == "window"]


@dataclass
class SliceCard:
    """The sliced metrics: scope ('' = all systems) -> slice value -> metric id -> value, and
    what each slice spent (cost and review cost) in the window."""

    window: Window
    dimension: str
    values: dict[str, dict[str, dict[str, MetricValue]]]
    spend: dict[str, dict[str, float]]

    def slices(self, system: str | None) -> dict[str, dict[str, MetricValue]]:
        return self.values.get(system or OVERALL, {})

    def as_json(self) -> dict:
        """SPEC section 3's shape: slices -> system -> value -> metric -> fields, with each
        slice's total_cost_usd."""
        return {
            "by": self.dimension, "as_of": self.window.as_of.isoformat(),
            "window": {"start": self.window.start.isoformat(),
                       "end": self.window.end.isoformat(), "days": self.window.window_days},
            "slices": {scope: {value: {**{m: v.as_json() for m, v in metrics.items()},
                                       "total_cost_usd": self.spend[scope].get(value, 0.0)}
                               for value, metrics in by_value.items()}
                       for scope, by_value in self.values.items() if scope != OVERALL},
        }


def compute_slices(store: Store, thresholds: Thresholds, dimension: str, *,
                   system: str | None = None, as_of: str | date | None = None,
                   window_days: int = 7, kept: tuple[str, ...] | None = None,
                   window: Window | None = None) -> SliceCard:
    """The window's metrics per value of `dimension` within each system (or one system), and
    over all systems together. A slice with fewer events than a metric's minimum sample is
    marked insufficient, never left out. An explicit `window` stands for as_of and its days."""
    check_dimension(dimension)
    window = window or resolve_window(store, as_of, window_days)
    names = systems(store, False)
    if system is not None and system not in names:
        raise BadInput(f"There is no system '{system}' in the store; its systems are "
                       f"{', '.join(names) or 'none yet'}.")
    by = Slicing(dimension, kept, system)
    ctx = window.context(thresholds, names, False, store.dialect)
    rows = store.query_dicts(window_query(ctx, sliced_metrics(), by=by))
    spend: dict[str, dict[str, float]] = {}
    for row in rows:
        spend.setdefault(row["scope"], {})[row["slice"]] = float(
            row[f"{SPEND_OF}:numerator"] or 0.0)
    return SliceCard(window, dimension, _judged(rows, thresholds), spend)


def _number(value):
    """A number from the store as a float (a count stays whole)."""
    return value if value is None or isinstance(value, (int, float)) else float(value)


def _judged(rows: list[dict], thresholds: Thresholds) -> dict:
    """scope -> slice -> metric id -> value with its status, as `compute.judge` judges one,
    for the many cells of a slice table (ten thousand customers: half a million cells)."""
    metrics = sliced_metrics()
    judged: dict[str, dict[str, dict[str, MetricValue]]] = {}
    limits: dict[tuple[str, str], object] = {}
    for row in sorted(rows, key=lambda r: (r["scope"], r["slice"])):
        scope = row["scope"]
        cells = {}
        for m in metrics:
            threshold = limits.get((scope, m.id))
            if threshold is None:
                threshold = limits[scope, m.id] = thresholds.for_metric(m.id, scope or None)
            value, n = _number(row[f"{m.id}:value"]), row[f"{m.id}:n"]
            n = None if n is None else int(n)
            cells[m.id] = MetricValue(
                value, threshold.status(value), n, _number(row[f"{m.id}:ci_low"]),
                _number(row[f"{m.id}:ci_high"]), threshold.target, threshold.limit,
                value is not None and (n is None or n < m.min_sample))
        judged.setdefault(scope, {})[row["slice"]] = cells
    return judged


def values_of(store: Store, dimension: str, system: str | None = None,
              start=None, end=None) -> list[tuple[str, int]]:
    """(value, events) of a dimension, most events first, for one system or all, over
    [start, end) when given; an empty value is `(none)`."""
    check_dimension(dimension)
    value = Slicing(dimension).value_sql(store.dialect, identifier(dimension))
    where = ["system = $system"] if system is not None else []
    where += ["timestamp >= $start"] if start is not None else []
    where += ["timestamp < $end"] if end is not None else []
    text = (f"SELECT {value} AS v, count(*) AS n FROM {base.EVENTS}"
            f"{' WHERE ' + ' AND '.join(where) if where else ''} GROUP BY v ORDER BY n DESC, v")
    params = {"system": system, "start": start, "end": end}
    return [(r[0], int(r[1])) for r in store.query(Query.using(text, params))]


def slice_trends(store: Store, thresholds: Thresholds, metric_id: str, dimension: str,
                 period: str = "week", system: str | None = None,
                 top: int = 8) -> dict[str, list]:
    """One series per slice: the `top` values by volume each on their own, the rest together
    as `(other)`; value -> trend points, oldest first (as `trend_series`)."""
    check_dimension(dimension)
    if metric_id not in [m.id for m in sliced_metrics()]:
        raise BadInput(f"{registry().get(metric_id).title} is not computed per slice; choose "
                       "a metric over the window's events alone.")
    ranked = [v for v, _ in values_of(store, dimension, system)]
    kept = tuple(ranked[:top]) if len(ranked) > top else None
    ctx = WIDE.context(thresholds, systems(store, False), False, store.dialect)
    metrics = list(dict.fromkeys([registry().volume, registry().get(metric_id)]))
    table: dict[tuple, dict] = {}
    collect(store.query_dicts(window_query(ctx, metrics, period,
                                           by=Slicing(dimension, kept, system))),
            table, key=lambda row: (row["scope"], row["slice"], row["period_start"]))
    scope = system or OVERALL
    series: dict[str, list] = {}
    for (s, value, start), fields in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if s != scope or not fields.get(registry().volume.id, {}).get("value"):
            continue
        mv = judge(metric_id, fields.get(metric_id, {}), thresholds, system)
        series.setdefault(value, []).append(TrendPoint(
            start, period_end(start, period), mv.value, mv.ci_low, mv.ci_high, mv.n, mv.status,
            mv.insufficient, mv.extra))
    order = {v: i for i, v in enumerate([*ranked[:top], OTHER])}
    return dict(sorted(series.items(), key=lambda kv: order.get(kv[0], len(order))))


def cost_rows(card: SliceCard, system: str | None) -> list[dict]:
    """Spend per slice of one system (or all): the slice's spend, its share of the whole,
    decisions, successful outcomes and cost per successful outcome, most spent first."""
    spend = card.spend.get(system or OVERALL, {})
    whole = sum(spend.values())
    rows = []
    for value, metrics in card.slices(system).items():
        per_success = metrics[SPEND_OF]
        rows.append({"dimension": card.dimension, "value": value,
                     "spend_usd": spend.get(value, 0.0),
                     "share_of_spend": spend.get(value, 0.0) / whole if whole else None,
                     "decisions": metrics[registry().volume.id].value,
                     "cost_per_success_usd": per_success.value,
                     "too_few_to_judge": per_success.insufficient})
    return sorted(rows, key=lambda r: (-r["spend_usd"], r["value"]))


def worst_first(card: SliceCard, systems: list[str], metric_ids: list[str]
                ) -> list[tuple[str, str]]:
    """(system, slice value) of these systems, those with the most red (then amber) among the
    metrics first, then the busiest; a slice too small to judge counts neither."""
    def weight(pair: tuple[str, str]) -> tuple:
        values = card.slices(pair[0])[pair[1]]
        judged = [values[m] for m in metric_ids if not values[m].insufficient]
        return (-sum(v.status == "red" for v in judged), -sum(v.status == "amber" for v in judged),
                -(values[registry().volume.id].value or 0), pair)
    return sorted(((s, v) for s in systems for v in card.slices(s)), key=weight)


def values_in_order(store: Store, dimension: str, system: str, start, end
                    ) -> list[tuple[str, int]]:
    """(value, events) of a dimension within one system over [start, end), in the order they
    were first seen (the newest release last); decisions without a value left out."""
    check_dimension(dimension)
    column = identifier(dimension)
    text = (f"SELECT {column} AS v, count(*) AS n, min(timestamp) AS first FROM {base.EVENTS} "
            "WHERE system = $system AND timestamp >= $start AND timestamp < $end AND "
            f"{column} IS NOT NULL AND {column} <> '' GROUP BY v ORDER BY first, v")
    rows = store.query(Query.using(text, {"system": system, "start": start, "end": end}))
    return [(r[0], int(r[1])) for r in rows]
