"""Ingest speed: `scorecard ingest` of an N-row Parquet file against DuckDB's own CTAS load.

Usage: python bench/ingest_parquet.py [ROWS] [RUNS]   (defaults 1,000,000 and 3)
Each measurement is a whole process, timed wall-clock; the medians and their ratio are printed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_events(n: int, path: Path) -> None:
    rng = np.random.default_rng(7)
    start = np.datetime64("2026-08-31T00:00:00")
    frame = pd.DataFrame({
        "event_id": np.char.add("e", np.arange(n).astype(str)),
        "timestamp": start + (rng.random(n) * 84 * 86400).astype("timedelta64[s]"),
        "system": rng.choice(["a", "b", "c"], n),
        "model": rng.choice(["gpt-4o", "xgb-v1"], n),
        "status": rng.choice(["ok", "error"], n, p=[0.98, 0.02]),
        "latency_ms": rng.lognormal(6.5, 0.5, n),
        "cost_usd": rng.random(n) / 100,
        "outcome": rng.choice(["success", "failure", None], n, p=[0.8, 0.1, 0.1]),
        "confidence": rng.random(n),
        "human_reviewed": rng.random(n) < 0.1,
        "segment": rng.choice(["x", "y", "z"], n),
    })
    frame.to_parquet(path, index=False)


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "events.parquet"
        make_events(rows, src)
        ours, raw = [], []
        for i in range(runs):
            db = Path(tmp) / f"ours{i}.duckdb"
            ours.append(timed([sys.executable, "-m", "scorecard.cli", "ingest", str(src),
                               "--db", str(db)]))
            rawdb = Path(tmp) / f"raw{i}.duckdb"
            raw.append(timed([sys.executable, "-c",
                              "import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute("
                              "\"CREATE TABLE t AS SELECT * FROM read_parquet('\" + sys.argv[2] "
                              "+ \"')\"); c.close()", str(rawdb), str(src)]))
        o, r = statistics.median(ours), statistics.median(raw)
        print(f"rows={rows} runs={runs} cores={os.cpu_count()}")
        print(f"scorecard ingest median {o:.2f} s; duckdb CTAS median {r:.2f} s; ratio {o / r:.2f}x")


if __name__ == "__main__":
    main()
