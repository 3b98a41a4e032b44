"""Every number the metrics layer gives on the demo store, as one canonical JSON text.

`tests/test_numbers_unchanged.py` compares it with `tests/data/golden_numbers.json`, written
before the metrics room was rebuilt, so a change to how metrics are computed that moves any
number shows. It was written again when the demo's doc-summariser gained late outcomes
(`outcome_at`): only doc-summariser's and all systems' outcome-dependent numbers moved, and
the two new metrics came in. And again when the demo gained research-agent, loaded from
OpenTelemetry traces: all systems' numbers moved and research-agent's came in; of the other
systems' numbers only seven of credit-precheck's cost figures moved, by less than 1e-13 of
their value (a sum of 0.0004 per event, added in another order over the longer table).
And again when ClickHouse came: of segments with the same rate, the first by name is now the
best (as it already was the worst), so both engines name the same one; four days' best
segment moved in each source (doc-summariser's 9 Sep and 6 Nov, credit-precheck's 16 Sep, all
systems' 6 Nov) and nothing else.
And again when the demo gained releases: support-assistant's slower answers from 9 Nov now
belong to the canary release assistant-2026.11.2 (a third of the traffic, then over half),
not to every answer, so support-assistant's and all systems' numbers from 9 Nov moved (and
their quiet risks); no other system's number moved.
And again when a trace came to be priced call by call (each model call at its own model, then
summed, where the trace's summed tokens were priced at once): research-agent's cost figures
moved by less than 1e-15 of their value (its calls share one model; the sum is taken in
another order), and with them the trend tables' digests; no other number moved.
Run `python tests/golden_numbers.py --write` only when a number is meant to change, and say
why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

from scorecard.demo import add_demo_settings, load_demo, write_sample
from scorecard.metrics import rollups
from scorecard.metrics.compute import baseline_values, compute_scorecard
from scorecard.metrics.registry import registry
from scorecard.metrics.thresholds import thresholds_for
from scorecard.metrics.trends import quiet_risks, trend_table
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.db import Store
from scorecard.store.pricing import Pricing

GOLDEN = Path(__file__).with_name("data") / "golden_numbers.json"
AS_OF = (None, "2026-06-30", "2026-03-01")
PERIODS = ("day", "week", "month")


def _plain(value):
    """JSON-ready, with floats as their exact repr."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return _plain(vars(value))
    return value


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(_plain(value), sort_keys=True).encode()).hexdigest()


def numbers(store: Store, digest: bool = True) -> dict:
    """The scorecard at several dates, its baseline column, and every trend table (each as
    its digest, or whole when `digest` is False)."""
    thresholds = thresholds_for(store, DEFAULT_CONFIG_DIR / "thresholds.yaml")
    out: dict = {}
    latest_end = None
    for as_of in AS_OF:
        card = compute_scorecard(store, thresholds, as_of=as_of)
        out[f"scorecard {as_of or 'latest'}"] = {
            "window": card.window, "systems": card.systems, "values": card.values,
            "baselines": card.baselines,
            "baseline_values": baseline_values(store, thresholds, card)}
        latest_end = latest_end or card.window.end
    families = {m.family for m in registry().metrics}
    for period in PERIODS:
        table = trend_table(store, thresholds, period, families)
        rows = {f"{scope}|{start.isoformat()}": fields
                for (scope, start), fields in sorted(table.items())}
        out[f"trends {period} sha256" if digest else f"trends {period}"] = (
            _digest(rows) if digest else rows)
        if period == "week":
            scopes = sorted({scope for scope, _ in table})
            out["quiet risks"] = quiet_risks(table, thresholds, scopes, latest_end)
    return _plain(out)


def demo_numbers(root: Path) -> dict:
    """Numbers from the rollup and, the rollup set aside, from the events themselves."""
    write_sample(root / "files")
    with Store(root / "demo.duckdb", settings={"threads": 1}) as store:  # one summing order
        load_demo(store, root / "files", Pricing.load(DEFAULT_CONFIG_DIR / "pricing.yaml"))
        add_demo_settings(store)
        rolled = numbers(store)
        assert rollups.ready(store)
        with store.transaction(changes_data=False) as cur:
            cur.execute("DELETE FROM store_meta WHERE key LIKE 'rollup:%'")
        assert not rollups.ready(store)
        from_events = numbers(store)
    return {"rolled": rolled, "from events": from_events}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        result = demo_numbers(Path(tmp))
    text = json.dumps(result, sort_keys=True, indent=1)
    if "--write" in sys.argv:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN}")
    else:
        print(text)
