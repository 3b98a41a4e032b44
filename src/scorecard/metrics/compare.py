"""Did the new release make things worse? One release (or model) of a system against another
over the same period (SPEC section 3, `scorecard compare`): each rate with the pooled
two-proportion z-test, the 95th percentile latency with a bootstrap interval of the difference,
cost per successful outcome with a delta-method z-test, and a verdict per metric.

A verdict is `regressed` when B is worse than A with p < 0.05 and the change goes beyond the
metric's amber band: B's value is past the green target (in the band or past the limit), or the
change is at least as wide as the band; `improved` likewise the other way (A past the target,
or a change as wide as the band); else `no clear change`.
The database computes every count, sum, variance and the ranks the bootstrap needs; Python
only draws which ranks a resample's percentile falls on."""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from ..errors import BadInput
from ..sql import Query, identifier
from ..store.db import Store
from .compute import MetricValue, Window, parse_day, resolve_window, systems
from .families import base
from .families.window import NO_VALUE, Slicing
from .formatting import format_value
from .registry import Metric, registry
from .slices import SPEND_OF, compute_slices, values_of
from .thresholds import Thresholds

COMPARED_BY = ("release", "model")
LATENCY = "latency_p95_ms"
ALPHA = 0.05
RESAMPLES = 2000
REGRESSED, IMPROVED, NO_CLEAR_CHANGE = "regressed", "improved", "no clear change"


@dataclass
class Change:
    """One metric of B against A."""

    metric: str
    a: float | None
    b: float | None
    n_a: int | None
    n_b: int | None
    difference: float | None  # B - A, in the metric's units
    p_value: float | None
    ci_low: float | None = None  # of the difference (latency: bootstrap)
    ci_high: float | None = None
    status_a: str = "unknown"
    status_b: str = "unknown"
    target: float | None = None  # B's thresholds (the system's)
    limit: float | None = None
    verdict: str = NO_CLEAR_CHANGE
    test: str = ""
    sentence: str = ""


@dataclass
class Comparison:
    system: str
    dimension: str
    a: str
    b: str
    start: datetime
    end: datetime
    events: tuple[int, int]
    changes: list[Change] = field(default_factory=list)

    @property
    def regressed(self) -> list[Change]:
        return [c for c in self.changes if c.verdict == REGRESSED]

    @property
    def improved(self) -> list[Change]:
        return [c for c in self.changes if c.verdict == IMPROVED]

    def headline(self) -> str:
        """The comparison in one or two sentences a leader reads."""
        worse, better = self.regressed, self.improved
        if not worse and not better:
            return (f"{self.b} shows no clear change against {self.a} on {self.system} "
                    f"({self.events[1]:,} against {self.events[0]:,} decisions).")
        parts = [c.sentence for c in worse] + [c.sentence for c in better]
        verdict = "regressed" if worse else "improved"
        return f"{self.b} {verdict} against {self.a}: " + "; ".join(parts) + "."

    def as_json(self) -> dict:
        return {"system": self.system, "by": self.dimension, "a": self.a, "b": self.b,
                "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
                "events": {"a": self.events[0], "b": self.events[1]},
                "metrics": {c.metric: {k: v for k, v in asdict(c).items() if k != "metric"}
                            for c in self.changes},
                "regressed": [c.metric for c in self.regressed],
                "improved": [c.metric for c in self.improved],
                "headline": self.headline()}


def compared_metrics() -> list[Metric]:
    """The window's rates, the 95th percentile latency and cost per successful outcome."""
    return [m for m in registry().metrics
            if m.family == "rate" or m.id in (LATENCY, SPEND_OF)]


def period(store: Store, since: str | date | None, until: str | date | None,
           as_of: str | date | None = None, window_days: int = 7) -> tuple[datetime, datetime]:
    """[start, end): the window, or whole UTC days from `since` to `until` (inclusive)."""
    window = resolve_window(store, as_of, window_days)
    first, last = parse_day(since), parse_day(until)
    end = datetime.combine(last + timedelta(days=1), time()) if last else window.end
    start = datetime.combine(first, time()) if first else end - timedelta(days=window_days)
    if start >= end:
        raise BadInput("--since must be on or before --until.")
    return start, end


def _z_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def two_proportion_p(s_a: int, n_a: int, s_b: int, n_b: int) -> float | None:
    """Pooled two-proportion z-test, two-sided (as success_rate_change_pp)."""
    if not n_a or not n_b:
        return None
    pooled = (s_a + s_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 1.0 if s_a / n_a == s_b / n_b else 0.0
    return _z_p((s_b / n_b - s_a / n_a) / se)


def _worse(metric: Metric, difference: float) -> bool:
    return difference < 0 if metric.direction == "higher_is_better" else difference > 0


def verdict(metric: Metric, change: "Change") -> str:
    """Regressed or improved: a significant change (p < ALPHA) that the thresholds say
    matters, because the worse side is beyond the green target (in the amber band or past the
    limit) or because the change is at least as wide as the amber band itself."""
    diff, p = change.difference, change.p_value
    if diff is None or p is None or p >= ALPHA or diff == 0:
        return NO_CLEAR_CHANGE
    worse_side = change.status_b if _worse(metric, diff) else change.status_a
    band = abs(change.target - change.limit) if change.target is not None else math.inf
    if worse_side not in ("amber", "red") and abs(diff) < band:
        return NO_CLEAR_CHANGE
    return REGRESSED if _worse(metric, diff) else IMPROVED


def in_words(metric: Metric, change: "Change") -> str:
    """The verdict as a reader needs it, a significant change within target said as such."""
    if change.verdict != NO_CLEAR_CHANGE:
        return change.verdict
    if change.p_value is not None and change.p_value < ALPHA and change.difference:
        return ("worse, within target" if _worse(metric, change.difference)
                else "better, within target")
    return NO_CLEAR_CHANGE


def _cost_stats_query(ctx: base.Context, by: Slicing) -> Query:
    """Per side: events, spend, successes and the (co)variances the delta method needs."""
    d = ctx.dialect
    cost = "(coalesce(cost_usd, 0) + coalesce(review_cost_usd, 0))"
    success = d.double("CASE WHEN outcome = 'success' THEN 1 ELSE 0 END")
    value = by.value_sql(d, identifier(by.dimension))
    text = (f"SELECT {value} AS slice, count(*) AS n, sum({cost}) AS c, sum({success}) AS s, "
            f"{d.var_samp(cost)} AS var_c, {d.var_samp(success)} AS var_s, "
            f"{d.covar_samp(cost, success)} AS cov_cs FROM {base.EVENTS} "
            "WHERE system = $system AND timestamp >= $start AND timestamp < $end "
            "GROUP BY slice")
    return Query.using(text, {"start": ctx.start, "end": ctx.end, **by.params()})


def _cost_test(row_a: dict | None, row_b: dict | None) -> float | None:
    """Two-sided p of the difference of two ratio estimators C/S (delta method)."""
    variances = []
    for row in (row_a, row_b):
        if not row or not row["s"] or row["n"] < 2:
            return None
        n, mean_s = row["n"], row["s"] / row["n"]
        r = row["c"] / row["s"]
        var_c, var_s, cov = (_finite(row[k]) for k in ("var_c", "var_s", "cov_cs"))
        spread = var_c - 2 * r * cov + r * r * var_s
        variances.append(max(spread, 0) / (n * mean_s * mean_s))
    se = math.sqrt(sum(variances))
    ratio = [row["c"] / row["s"] for row in (row_a, row_b)]
    if se == 0:
        return 1.0 if ratio[0] == ratio[1] else 0.0
    return _z_p((ratio[1] - ratio[0]) / se)


def _finite(value) -> float:
    """A variance from the store as a number (NULL, or NaN on one engine, over one row: 0)."""
    return float(value) if value is not None and math.isfinite(value) else 0.0


def _resample_ranks(n: int, q: float, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, float]:
    """For RESAMPLES bootstrap resamples of n sorted values: the two ranks (1-based) whose
    values the resample's q-quantile interpolates between, and the interpolation weight. The
    k-th smallest of n uniform draws is Beta(k, n - k + 1); the next is found from it."""
    h = (n - 1) * q
    k, weight = int(math.floor(h)) + 1, h - math.floor(h)
    u_k = rng.beta(k, n - k + 1, RESAMPLES)
    u_next = u_k + (1 - u_k) * rng.beta(1, n - k, RESAMPLES) if k < n else u_k
    ranks = [np.clip(np.ceil(n * u), 1, n).astype(np.int64) for u in (u_k, u_next)]
    return ranks[0], ranks[1], weight


def _values_at_ranks(store: Store, ctx: base.Context, by: Slicing, side: str,
                     ranks: list[int]) -> dict[int, float]:
    """rank -> latency, for the latencies of one side ranked smallest first."""
    d = ctx.dialect
    value = by.value_sql(d, identifier(by.dimension))
    text = (f"SELECT rk, latency_ms FROM (SELECT latency_ms, row_number() OVER (ORDER BY "
            f"latency_ms) AS rk FROM {base.EVENTS} WHERE system = $system AND timestamp >= "
            f"$start AND timestamp < $end AND latency_ms IS NOT NULL AND {value} = $side) "
            f"WHERE {d.contains('$ranks', 'rk')}")
    params = {"start": ctx.start, "end": ctx.end, "side": side, "ranks": ranks, **by.params()}
    return {int(r): float(v) for r, v in store.query(Query.using(text, params))}


def bootstrap_quantile_difference(store: Store, ctx: base.Context, by: Slicing, a: str, b: str,
                                  n_a: int, n_b: int, q: float = 0.95, seed: int = 0
                                  ) -> tuple[float, float, float]:
    """(low, high, p): the bootstrap 95% percentile interval of quantile(B) - quantile(A), and
    the two-sided bootstrap p of no difference."""
    rng = np.random.default_rng(seed)
    drawn = []
    for side, n in ((a, n_a), (b, n_b)):
        low, high, weight = _resample_ranks(n, q, rng)
        values = _values_at_ranks(store, ctx, by, side,
                                  sorted(set(low.tolist()) | set(high.tolist())))
        x_low = np.array([values[r] for r in low])
        x_high = np.array([values[r] for r in high])
        drawn.append(x_low + weight * (x_high - x_low))
    differences = drawn[1] - drawn[0]
    low, high = np.percentile(differences, [2.5, 97.5])
    p = min(1.0, 2 * min(float(np.mean(differences <= 0)), float(np.mean(differences >= 0))))
    return float(low), float(high), p


def _seed(*parts: str) -> int:
    """A fixed seed per comparison: the same question gives the same interval."""
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _sentence(metric: Metric, change: Change, a: str) -> str:
    diff = change.difference
    p = "p < 0.001" if change.p_value < 0.001 else f"p = {change.p_value:.3f}"
    if metric.id == LATENCY:
        word = "slower" if diff > 0 else "faster"
        return (f"answers {format_value(metric, abs(diff))} {word} at p95 than {a} "
                f"(95% interval {format_value(metric, change.ci_low)} to "
                f"{format_value(metric, change.ci_high)}, {p})")
    if metric.format == "percent":
        word = "higher" if diff > 0 else "lower"
        return (f"{metric.title[0].lower() + metric.title[1:]} {format_value(metric, change.b)}"
                f", {abs(diff) * 100:.1f} points {word} than {a}'s "
                f"{format_value(metric, change.a)} ({p})")
    relative = diff / change.a * 100 if change.a else None
    word = "more" if diff > 0 else "less"
    amount = f"{abs(relative):.0f}% {word}" if relative is not None else f"{diff:+.4f}"
    return f"costs {amount} per successful outcome than {a} ({p})"


def _change(metric: Metric, value_a: MetricValue, value_b: MetricValue) -> Change:
    a, b = value_a.value, value_b.value
    difference = None if a is None or b is None else b - a
    return Change(metric.id, a, b, value_a.n, value_b.n, difference, None,
                  status_a=value_a.status, status_b=value_b.status, target=value_b.target,
                  limit=value_b.limit)


def compare(store: Store, thresholds: Thresholds, system: str, dimension: str, a: str, b: str,
            *, since=None, until=None, as_of=None, window_days: int = 7) -> Comparison:
    """B against A within one system over the window (or whole days since/until)."""
    if dimension not in COMPARED_BY:
        raise BadInput(f"Compare by release or model, not '{dimension}'.")
    if system not in systems(store, False):
        raise BadInput(f"There is no system '{system}' in the store.")
    if a == b:
        raise BadInput("Give two different values to compare.")
    start, end = period(store, since, until, as_of, window_days)
    present = dict(values_of(store, dimension, system, start, end))
    if set(present) <= {NO_VALUE}:
        raise BadInput(f"{system} logs no {dimension} between {start:%Y-%m-%d} and "
                       f"{end - timedelta(days=1):%Y-%m-%d}, so its {dimension}s cannot be "
                       "compared.")
    for side in (a, b):
        if side not in present:
            known = ", ".join(v for v in present if v != NO_VALUE)
            raise BadInput(f"{system} has no events of {dimension} '{side}' between "
                           f"{start:%Y-%m-%d} and {end - timedelta(days=1):%Y-%m-%d}; "
                           f"its {dimension}s there are {known}.")
    days = (end - start).days
    window = Window(end.date() - timedelta(days=1), start, end, days, 28)
    by = Slicing(dimension, (a, b), system)
    ctx = window.context(thresholds, systems(store, False), False, store.dialect)
    card = compute_slices(store, thresholds, dimension, system=system, window=window,
                          kept=by.kept)
    sides = card.slices(system)
    result = Comparison(system, dimension, a, b, start, end,
                        (int(sides[a]["events"].value), int(sides[b]["events"].value)))
    cost_rows = {r["slice"]: r for r in store.query_dicts(_cost_stats_query(ctx, by))}
    for metric in compared_metrics():
        change = _change(metric, sides[a][metric.id], sides[b][metric.id])
        if change.difference is not None:
            if metric.family == "rate":
                change.test = "two-proportion z-test"
                change.p_value = two_proportion_p(round(change.a * change.n_a), change.n_a,
                                                  round(change.b * change.n_b), change.n_b)
            elif metric.id == LATENCY:
                change.test = f"bootstrap, {RESAMPLES} resamples"
                change.ci_low, change.ci_high, change.p_value = bootstrap_quantile_difference(
                    store, ctx, by, a, b, change.n_a, change.n_b, metric.quantile,
                    _seed(system, dimension, a, b, start.isoformat(), end.isoformat()))
            else:
                change.test = "delta-method z-test"
                change.p_value = _cost_test(cost_rows.get(a), cost_rows.get(b))
        change.verdict = verdict(metric, change)
        if change.verdict != NO_CLEAR_CHANGE:
            change.sentence = _sentence(metric, change, a)
        result.changes.append(change)
    return result

