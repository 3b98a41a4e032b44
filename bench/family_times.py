"""Seconds each metric family's query takes on one store, as the scorecard runs it (the newest
7-day window, the derived tables read where they cover the events), one query at a time.

    python bench/family_times.py STORE [--runs 3]

Prints one JSON object: family -> median seconds (the calibration's fit, when it is fitted
live, is timed as "estimated (fit)").
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from scorecard.metrics.compute import resolve_window, store_context
from scorecard.metrics.families import catalog
from scorecard.metrics.registry import registry
from scorecard.metrics.thresholds import load_thresholds
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.engines import open_store


def family_times(address: str, runs: int) -> dict[str, float]:
    thresholds = load_thresholds(DEFAULT_CONFIG_DIR / "thresholds.yaml")
    seconds: dict[str, list[float]] = {}
    with open_store(address, read_only=True) as store:
        ctx = store_context(store, thresholds, resolve_window(store, None, 7, 28))
        for _ in range(runs):
            for family in dict.fromkeys(m.family for m in registry().metrics):
                metrics = [m for m in registry().metrics if m.family == family]
                start = time.perf_counter()
                fitted = catalog.prepare(ctx, metrics, store.query_dicts)
                if catalog.room_of(family).prepare is not None:
                    seconds.setdefault(f"{family} (fit)", []).append(time.perf_counter() - start)
                    start = time.perf_counter()
                for query in catalog.queries(fitted, metrics):
                    store.query_dicts(query)
                seconds.setdefault(family, []).append(time.perf_counter() - start)
    return {family: statistics.median(s) for family, s in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(family_times(args.store, args.runs)))


if __name__ == "__main__":
    main()
