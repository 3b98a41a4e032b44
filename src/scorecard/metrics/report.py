"""What `scorecard metrics` and `scorecard trends` print: JSON for programs, tables for people."""

from __future__ import annotations

from pathlib import Path

from ..store.db import Store
from .compute import OVERALL, compute_scorecard
from .formatting import format_value
from .registry import registry
from .thresholds import thresholds_for
from .trends import trend_series


def thresholds_file(thresholds_path: str | None, cfg_dir: Path) -> Path:
    return Path(thresholds_path) if thresholds_path else cfg_dir / "thresholds.yaml"


def metrics_report(store: Store, *, as_of=None, window_days=7, baseline_days=28,
                   thresholds_path=None, cfg_dir: Path) -> dict:
    thresholds = thresholds_for(store, thresholds_file(thresholds_path, cfg_dir))
    card = compute_scorecard(store, thresholds, as_of=as_of, window_days=window_days,
                             baseline_days=baseline_days)
    w = card.window

    def scope(name: str) -> dict:
        return {mid: mv.as_json() for mid, mv in card.values[name].items()}

    return {
        "as_of": w.as_of.isoformat(),
        "window": {"start": w.start.isoformat(), "end": w.end.isoformat(),
                   "days": w.window_days},
        "baseline_days": w.baseline_days,
        "overall": scope(OVERALL),
        "systems": {s: scope(s) for s in card.systems},
    }


def slices_report(store: Store, *, dimension: str, system: str | None = None, as_of=None,
                  window_days=7, thresholds_path=None, cfg_dir: Path) -> dict:
    from .slices import compute_slices

    thresholds = thresholds_for(store, thresholds_file(thresholds_path, cfg_dir))
    return compute_slices(store, thresholds, dimension, system=system, as_of=as_of,
                          window_days=window_days).as_json()


def compare_report(store: Store, *, system: str, dimension: str, a: str, b: str, since=None,
                   until=None, as_of=None, window_days=7, thresholds_path=None,
                   cfg_dir: Path) -> dict:
    from .compare import compare

    thresholds = thresholds_for(store, thresholds_file(thresholds_path, cfg_dir))
    return compare(store, thresholds, system, dimension, a, b, since=since, until=until,
                   as_of=as_of, window_days=window_days).as_json()


def trend_report(store: Store, *, metric: str, period: str = "week", system: str | None = None,
                 thresholds_path=None, cfg_dir: Path) -> list[dict]:
    thresholds = thresholds_for(store, thresholds_file(thresholds_path, cfg_dir))
    return [p.as_json() for p in trend_series(store, thresholds, metric, period, system)]


STATUS_WORD = {"green": "OK", "amber": "WATCH", "red": "ACT", "unknown": "n/a"}


def render_table(report: dict) -> str:
    """A plain-text table: metric by scope, value and status word."""
    scopes = [("All systems", report["overall"])] + list(report["systems"].items())
    lines = [f"Scorecard as of {report['as_of']} (window {report['window']['start'][:10]} to "
             f"{report['window']['end'][:10]}, exclusive)", ""]
    width = 34
    header = f"{'metric':<{width}}" + "".join(f"{name[:22]:>24}" for name, _ in scopes)
    lines += [header, "-" * len(header)]
    for metric in registry().metrics:
        cells = []
        for _, values in scopes:
            v = values[metric.id]
            mark = STATUS_WORD[v["status"]] + ("?" if v["insufficient"] else "")
            cells.append(f"{format_value(metric, v['value']) + ' ' + mark:>24}")
        lines.append(f"{metric.title[:width - 1]:<{width}}" + "".join(cells))
    lines += ["", "OK = meets target, WATCH = between target and limit, ACT = beyond limit, "
              "? = too few events to trust"]
    return "\n".join(lines)


def render_trend_table(metric_id: str, series: list[dict]) -> str:
    metric = registry().get(metric_id)
    lines = [f"{metric.title} ({metric_id})", f"{'period start':<22}{'value':>14}{'95% interval':>26}"
             f"{'n':>10}"]
    for p in series:
        interval = ("" if p["ci_low"] is None else
                    f"{format_value(metric, p['ci_low'])} - {format_value(metric, p['ci_high'])}")
        lines.append(f"{p['start'][:19]:<22}{format_value(metric, p['value']):>14}{interval:>26}"
                     f"{p['n'] if p['n'] is not None else '':>10}")
    return "\n".join(lines)


def render_alerts_table(report: dict) -> str:
    """`scorecard alerts --format table`: one line per system and indicator."""
    if report["now"] is None:
        return "The store holds no inference events yet, so there is no budget to burn."
    lines = [f"Error budgets as of {report['now']} (burn: 1x spends the budget exactly over "
             "its period)", "",
             f"{'system':<24} {'indicator':<9} {'objective':>9} {'budget left':>12}  "
             f"{'burn 5m / 30m / 1h / 6h / 3d':<40} alerts"]
    def rate(value):
        return "–" if value is None else f"{value:.1f}x"
    for system, indicators in report["systems"].items():
        for name, ind in indicators.items():
            left = "–" if ind["budget_remaining"] is None else f"{ind['budget_remaining']:.0%}"
            burns = " / ".join(rate(v) for v in ind["burn"].values())
            alerts = ", ".join(f"{a['severity'].upper()} {a['long']}+{a['short']} "
                               f"({rate(a['long_burn'])}, {rate(a['short_burn'])})"
                               for a in ind["alerts"]) or "none"
            lines.append(f"{system:<24} {name:<9} {ind['objective']:>9.1%} {left:>12}  "
                         f"{burns:<40} {alerts}")
    return "\n".join(lines)


def render_slices_table(report: dict) -> str:
    """`scorecard metrics --by DIM --format table`: per system, one line per slice."""
    from .slices import sliced_metrics

    shown = [m for m in sliced_metrics() if m.id in (
        "events", "success_rate", "cost_per_outcome_usd", "latency_p95_ms", "failure_rate")]
    lines = [f"Metrics by {report['by']}, {report['window']['start'][:10]} to "
             f"{report['window']['end'][:10]} (exclusive)"]
    header = f"{report['by']:<28}" + "".join(f"{m.title[:20]:>24}" for m in shown) + \
        f"{'spend':>14}"
    for system, by_value in report["slices"].items():
        lines += ["", system, header, "-" * len(header)]
        for value, metrics in by_value.items():
            cells = []
            for m in shown:
                v = metrics[m.id]
                mark = STATUS_WORD[v["status"]] + ("?" if v["insufficient"] else "")
                cells.append(f"{format_value(m, v['value']) + ' ' + mark:>24}")
            lines.append(f"{value[:27]:<28}" + "".join(cells)
                         + f"{'$' + format(metrics['total_cost_usd'], ',.2f'):>14}")
    lines += ["", "? = too few events to judge; spend = cost and review cost in the window"]
    return "\n".join(lines)


def render_compare_table(report: dict) -> str:
    """`scorecard compare --format table`: one line per metric, with its verdict."""
    lines = [f"{report['system']}: {report['by']} {report['b']} against {report['a']}, "
             f"{report['window']['start'][:10]} to {report['window']['end'][:10]} (exclusive)",
             report["headline"], "",
             f"{'metric':<34}{'A':>14}{'B':>14}{'p':>10}  verdict"]
    for metric_id, c in report["metrics"].items():
        m = registry().get(metric_id)
        p = "" if c["p_value"] is None else ("<0.001" if c["p_value"] < 0.001
                                             else f"{c['p_value']:.3f}")
        lines.append(f"{m.title[:33]:<34}{format_value(m, c['a']):>14}"
                     f"{format_value(m, c['b']):>14}{p:>10}  {c['verdict']}")
    return "\n".join(lines)
