"""Numbers formatted for people, by the metric's declared format."""

from __future__ import annotations

from .registry import Metric


STATUS = {"green": ("🟢", "On target"), "amber": ("🟠", "Watch"), "red": ("🔴", "Act"),
          "unknown": ("⚪", "No data")}
INSUFFICIENT = ("◌", "Too few events")


def status_label(status: str, insufficient: bool = False) -> str:
    """A status as icon and word (never by colour alone); 'insufficient': too few events."""
    icon, word = INSUFFICIENT if insufficient or status == "insufficient" else STATUS.get(
        status, ("", status))
    return f"{icon} {word}".strip()


def format_value(metric: Metric, value: float | None) -> str:
    if value is None:
        return "no data"
    fmt = metric.format
    if fmt == "percent":
        return f"{value * 100:.1f}%"
    if fmt == "pp":
        return "0.0 pts" if round(value, 1) == 0 else f"{value:+.1f} pts"
    if fmt == "usd":
        return f"${value:,.4f}" if abs(value) < 0.1 else f"${value:,.2f}"
    if fmt == "ms":
        return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"
    if fmt == "minutes":
        if value >= 120:
            return f"{value / 60:.1f} h"
        return f"{value:.0f} min"
    if fmt == "hours":
        return f"{value / 24:.1f} days" if value >= 48 else f"{value:.1f} h"
    if fmt == "count":
        return f"{value:,.0f}"
    return f"{value:.2f}"


UNIT_LABELS = {"percent": "%", "pp": "pts", "usd": "$", "ms": "ms", "minutes": "min",
               "hours": "h", "count": "events", "decimal": ""}


def display_scale(metric: Metric) -> tuple[float, str]:
    """How a threshold is shown for editing: the factor from stored units, and the unit label
    (a fraction of 0.95 is edited as 95 %)."""
    return (100.0 if metric.format == "percent" else 1.0), UNIT_LABELS[metric.format]


def format_change(metric: Metric, now: float | None, base: float | None) -> str:
    """The change from the baseline: in points for shares, relative for amounts ('' when
    there is nothing to compare; never '-0.0')."""
    if now is None or base is None or metric.format == "pp":
        return ""
    if metric.format == "percent":
        points = round((now - base) * 100, 1)
        return "no change" if points == 0 else f"{points:+.1f} pts"
    if base == 0:
        return ""
    relative = round((now / base - 1) * 100)
    return "no change" if relative == 0 else f"{relative:+d}%"


def describe(metric: Metric, value: float | None, fields: dict | None = None) -> str:
    """What a value means in words, for metrics whose number alone says little (PSI, CV, the
    disparity ratio, an estimate); '' for the others. A reading may name {pct} (the value as
    a percent) and the metric's counts ({n}, {n_estimated}, ...); a value flagged unreliable
    says why."""
    if value is None:
        return ""
    fields = fields or {}
    words = next((w for upper, w in metric.reading_bands or [] if upper is None or value < upper),
                 None)
    if words is None:
        counts = {k: f"{v:,.0f}" for k, v in fields.items() if isinstance(v, (int, float))}
        words = (metric.reading or "").format_map({**counts, "pct": f"{value * 100:.0f}%"})
    if fields.get("unreliable"):
        words = f"⚠ unreliable: {fields['unreliable']}" + (f"; {words}" if words else "")
    return words


WINDOW_WORDS = {"5m": "5 min", "30m": "30 min", "1h": "1 h", "6h": "6 h", "3d": "3 days"}
ACT_BY = {"page": "act now", "ticket": "act this week"}  # a burn-rate rule's severity, in words


def target_and_limit(metric: Metric, target: float | None, limit: float | None) -> str:
    """A threshold as people read it: "90.0% / 80.0%" (target / limit)."""
    return f"{format_value(metric, target)} / {format_value(metric, limit)}"


def threshold_words(metric: Metric, entry: dict | None) -> str:
    """A threshold entry of the history ("90.0% / 80.0%"), or the default it fell back to."""
    if entry is None:
        return "all-systems default"
    return target_and_limit(metric, entry["target"], entry["limit"])


def budget_words(left: float) -> str:
    """What is left of an error budget in plain words: "40% left", "budget spent", "budget
    overspent by 55%", "budget overspent 1.9x"."""
    if left > 0:
        return f"{left:.0%} left"
    over = -left
    if over < 0.005:
        return "budget spent"
    return f"budget overspent {over:.1f}x" if over >= 1 else f"budget overspent by {over:.0%}"


def budget_cell(indicator) -> str:
    """An error budget as people read it: a firing alert first (how fast bad events come, and
    how soon to act), then what is left of the 30-day budget; icon and words, never colour
    alone. A spent budget is red; too few events to judge is said, not computed."""
    left = indicator.budget_remaining
    if left is None:
        return "⚪ no events"
    if indicator.too_few:
        n = indicator.eligible.get("30d", 0)
        return f"◌ too few events to judge ({n:,} in 30 days)"
    share = budget_words(left)
    if indicator.alerts:
        worst = indicator.alerts[0]
        icon = "🔴" if worst.severity == "page" or left <= 0 else "🟠"
        return (f"{icon} bad events at {worst.long_burn:.1f}x the allowed rate over "
                f"{WINDOW_WORDS[worst.long]}: {ACT_BY[worst.severity]} · {share}")
    return f"{'🟢' if left > 0 else '🔴'} {share}"
