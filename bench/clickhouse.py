"""The scorecard on chDB (embedded ClickHouse) beside DuckDB, on the same generated events,
written into bench/RESULTS.md between the ClickHouse markers.

    python bench/clickhouse.py [--sizes 5m,50m] [--runs 3]      (or: make bench-clickhouse)

For each size, in one run: `scorecard ingest` into a DuckDB file and into a chDB folder,
DuckDB's own CTAS of the same file, `scorecard metrics` on each store, a bare grouped aggregate
by each engine, and the scorecard page's first paint after sign-in from each store.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from run import (BARE, CTAS, DATA, PY, ROOT, SIZES, Measure, first_paint, generated, machine,
                 run_process, scorecard)
from sections import write_section

CH_BARE = ("import chdb, sys; c = chdb.connect('file:' + sys.argv[1] + '?mode=ro'); "
           "print(c.query(\"SELECT system, count(), countIf(outcome = 'success'), "
           "avg(latency_ms), sum(cost_usd) FROM inference_events GROUP BY system\"))")


def bench_size(label: str, runs: int, browser: bool) -> dict:
    rows = SIZES[label]
    source = generated(label, rows)
    ingest_runs = 1 if rows > 10_000_000 else runs
    out: dict = {"rows": rows}
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        stores = {"duckdb": str(Path(tmp) / "ours.duckdb"), "chdb": f"chdb://{tmp}/ch"}
        ingest = {"duckdb": Measure(), "chdb": Measure(), "ctas": Measure()}
        for i in range(ingest_runs):
            print(f"[{label}] ingest run {i + 1}/{ingest_runs}", flush=True)
            shutil.rmtree(f"{tmp}/ch", ignore_errors=True)  # a new store of each engine
            Path(stores["duckdb"]).unlink(missing_ok=True)
            for engine, address in stores.items():
                run_process(scorecard("ingest", str(source), "--db", address), ingest[engine])
            raw = Path(tmp) / "raw.duckdb"
            run_process([PY, "-c", CTAS, str(raw), str(source)], ingest["ctas"])
            raw.unlink()
        out["ingest"] = ingest
        out["store_mb"] = {"duckdb": Path(stores["duckdb"]).stat().st_size / 1e6,
                           "chdb": _folder_mb(Path(tmp) / "ch")}
        metrics = {"duckdb": Measure(), "chdb": Measure()}
        bare = {"duckdb": Measure(), "chdb": Measure()}
        for i in range(runs):
            print(f"[{label}] queries run {i + 1}/{runs}", flush=True)
            for engine, address in stores.items():
                run_process(scorecard("metrics", "--db", address, "--format", "json"),
                            metrics[engine])
            run_process([PY, "-c", BARE, stores["duckdb"]], bare["duckdb"])
            run_process([PY, "-c", CH_BARE, f"{tmp}/ch"], bare["chdb"])
        out["metrics"], out["bare"] = metrics, bare
        if browser:
            out["paint"] = {}
            for engine, address in stores.items():
                print(f"[{label}] first paint from {engine}", flush=True)
                out["paint"][engine] = first_paint(address, runs)
    return out


def _folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def _s(m: Measure) -> str:
    return f"{m.median:.2f} s"


def report(results: dict, runs: int) -> str:
    lines = ["## ClickHouse (chDB) beside DuckDB", "",
             f"`python bench/clickhouse.py` on {machine()}; medians of {runs} runs (one ingest "
             "run above 10M events). The same unsorted events with NaNs as above, into a new "
             "store of each engine.", "",
             "| events | ingest DuckDB | ingest chDB | DuckDB CTAS | metrics DuckDB | metrics "
             "chDB | bare aggregate DuckDB / chDB | first paint DuckDB / chDB (cold, warm) | "
             "peak memory, ingest DuckDB / chDB | store size DuckDB / chDB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for label, r in results.items():
        ing, met, bare = r["ingest"], r["metrics"], r["bare"]
        paint = "not run"
        if "paint" in r:
            d, c = r["paint"]["duckdb"], r["paint"]["chdb"]
            paint = (f"{d['cold'].median:.2f} / {c['cold'].median:.2f} s cold, "
                     f"{d['warm'].median:.2f} / {c['warm'].median:.2f} s warm")
        lines.append(
            f"| {r['rows']:,} | {_s(ing['duckdb'])} | {_s(ing['chdb'])} | {_s(ing['ctas'])} | "
            f"{_s(met['duckdb'])} | {_s(met['chdb'])} | {bare['duckdb'].median:.2f} / "
            f"{bare['chdb'].median:.2f} s | {paint} | {ing['duckdb'].peak / 1e3:.1f} / "
            f"{ing['chdb'].peak / 1e3:.1f} GB | {r['store_mb']['duckdb']:.0f} / "
            f"{r['store_mb']['chdb']:.0f} MB |")
    lines += ["", NOTES.strip()]
    return "\n".join(lines)


NOTES = """
- A load into ClickHouse is checked in a DuckDB room by the same rules as a load into a DuckDB
  store (against the stored rows ClickHouse finds sharing an identity with the file's), and
  what it decided is then sent to ClickHouse as Arrow batches: its time is DuckDB's checks
  plus the send.
- ClickHouse answers every metric from the events: it keeps no daily rollup, PSI bins or
  calibrations (the DuckDB store does, after each write).
- On a cluster (on paper: this machine is one box): `inference_events` becomes a
  `ReplicatedMergeTree` on each shard, with a `Distributed` table over the shards named
  `inference_events`, sharded by `cityHash64(system)` so that a system's events sit together
  and each grouped query runs on every shard at once; the small tables (store_meta, logs,
  sign-offs, sessions) are replicated to every node instead of sharded. The metric SQL is
  unchanged: the `Distributed` table runs each aggregate on the shards and merges the partial
  states, and exact quantiles gather their values on the initiator, which is the step that
  grows with the window's size. The scorecard reads through one HTTP endpoint (a load
  balancer in front of the nodes).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5m,50m")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    browser = not args.no_browser and shutil.which("chromium") is not None
    results = {label: bench_size(label, args.runs, browser) for label in args.sizes.split(",")}
    section = report(results, args.runs)
    write_section("clickhouse", section, Path(args.out))
    print(section)


if __name__ == "__main__":
    main()
