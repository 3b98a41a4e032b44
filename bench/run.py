"""The scorecard against DuckDB's own speed, as whole processes, written to bench/RESULTS.md.

    python bench/run.py [--sizes 1m,5m,50m,100m] [--runs 3]      (or: make bench)

For each size: generate N events (bench/generate.py, cached in bench/data/), then measure
(a) `scorecard ingest` against DuckDB's CREATE TABLE AS SELECT * FROM read_parquet(...),
(b) `scorecard metrics` against one bare grouped aggregate over the same store,
(c) `scorecard trends` for a weekly series, (d) the scorecard page's first paint after sign-in
in headless Chromium, and (e) the peak memory of each. Medians of several runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import first_signin  # noqa: E402
from sections import kept_sections  # noqa: E402
from otlp_export import write_otlp  # noqa: E402

PY = sys.executable
CTAS = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
        "c.execute(\"CREATE TABLE t AS SELECT * FROM read_parquet('\" + sys.argv[2] + \"')\"); "
        "c.close()")
BARE = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute(\"SELECT system, count(*), count(*) FILTER (WHERE outcome = 'success'), "
        "avg(latency_ms), sum(cost_usd) FROM inference_events GROUP BY system\").fetchall())")
SIZES = {"1m": 1_000_000, "5m": 5_000_000, "50m": 50_000_000, "100m": 100_000_000}
NAN_SHARE = 0.02  # of latencies, costs and confidences written as NaN, as real extracts do
TEXT_SIZE = "5m"  # CSV and JSON Lines are measured at this size
READ_TEXT = {  # DuckDB's own read of the same text file into a table
    "csv": "read_csv('{src}', all_varchar=true, header=true)",
    "jsonl": "read_json('{src}', format='newline_delimited')",
}
TEXT_TARGETS = {"csv": 1.5, "jsonl": 2.0}  # ingest against DuckDB's own read of the file
OTLP_TARGET = 2.5  # OTLP/JSON traces against the same events as Parquet
TEXT_CTAS = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
             "c.execute('CREATE TABLE t AS SELECT * FROM ' + sys.argv[2]); c.close()")
OTLP_SIZE = "1m"  # the same events as OpenTelemetry traces are measured at this size
TYPING_SECONDS = 3  # how long a person takes to type a username and password
BOUNDED_SIZE, BOUNDED_LIMIT = "5m", "512MB"  # text files several times larger than the limit


@dataclass
class Measure:
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mb)


def peak_mb(pid: int) -> float | None:
    """The process's resident high-water mark (VmHWM), which belongs to the program it runs
    (getrusage would also count the memory of this parent at fork time)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(line.split()[1]) / 1024 for line in status.splitlines()
                 if line.startswith("VmHWM")), None)


# Processes run as on an installed machine, where Python keeps compiled modules; this
# workplace sets PYTHONDONTWRITEBYTECODE, which would make every run compile them again.
AS_INSTALLED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_process(cmd: list[str], into: Measure) -> None:
    """Wall time and peak resident memory of one whole process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=AS_INSTALLED)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, peak_mb(proc.pid) or 0.0)
            time.sleep(0.005)
        into.seconds.append(time.perf_counter() - start)
        into.peak_mb.append(peak)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: {err.read().decode()}")


def scorecard(*args: str) -> list[str]:
    return [PY, "-m", "scorecard.cli", *args]


def tree_peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, e.g. the served app."""
    total, pending = 0.0, [pid]
    while pending:
        p = pending.pop()
        total += peak_mb(p) or 0.0
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def first_paint(db: Path, runs: int, typing_seconds: float = 0.0) -> dict:
    """Seconds from pressing Sign in to the drawn scorecard. Each run starts the server afresh
    and signs in twice in new browser sessions: the first sign-in finds nothing cached (cold),
    the second reuses the cached results (warm). With `typing_seconds`, the one person signing
    in takes that long to type after the page opens."""
    from playwright.sync_api import sync_playwright

    from scorecard.demo import DEMO_PASSWORD
    from served_app import (CHROMIUM, CHROMIUM_ARGS, served, signed_in_config,
                            wait_for_scorecard, wait_until_idle)

    cold, warm = Measure(), Measure()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp, served(
                    db, signed_in_config(Path(tmp))) as server:
                for into in (cold,) if typing_seconds else (cold, warm):
                    context = browser.new_context(viewport={"width": 1440, "height": 1000})
                    page = context.new_page()
                    page.set_default_timeout(120_000)
                    page.goto(server.url)
                    page.get_by_label("Username").fill("exec")
                    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
                    if into is cold and typing_seconds:
                        page.wait_for_timeout(typing_seconds * 1000)
                    start = time.perf_counter()
                    page.get_by_role("button", name="Sign in").click()
                    wait_for_scorecard(page)
                    into.seconds.append(time.perf_counter() - start)
                    # let the page finish (sparklines, baseline changes) before the next
                    # session, so that a warm sign-in finds every result cached
                    wait_until_idle(page)
                    context.close()
                cold.peak_mb.append(tree_peak_mb(server.pid))
        browser.close()
    return {"cold": cold, "warm": warm}


TEXT_FORMATS = {"csv": "(HEADER)", "jsonl": "(FORMAT json)"}  # DuckDB COPY options


def as_text_file(source: Path, fmt: str) -> Path:
    """The Parquet events written as CSV or JSON Lines, once, beside it in bench/data/."""
    text = DATA / f"{source.stem}.{fmt}"
    if not text.exists():
        duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet('{source}')) "
                                 f"TO '{text}' {TEXT_FORMATS[fmt]}")
    return text


def bounded_ingest(source: Path, tmp: Path) -> dict:
    """Ingest the events as CSV and as JSON Lines, each larger than the memory DuckDB may use,
    to show that ingestion spills to disk instead of holding the file."""
    from scorecard.settings import DEFAULT_CONFIG_DIR
    from served_app import copy_config

    cfg = copy_config(DEFAULT_CONFIG_DIR, tmp / "bounded-config")
    (cfg / "store.yaml").write_text(f"memory_limit: {BOUNDED_LIMIT}\n", encoding="utf-8")
    out = {}
    for fmt in TEXT_FORMATS:
        text = as_text_file(source, fmt)
        measure = Measure()
        run_process(scorecard("ingest", str(text), "--db", str(tmp / f"bounded-{fmt}.duckdb"),
                              "--config", str(cfg)), measure)
        out[fmt] = (text.stat().st_size / 1e6, measure)
    return out


def generated(label: str, rows: int) -> Path:
    """The size's events as real extracts come: rows in random time order, some numbers NaN
    (generated once, in a child process, and kept in bench/data/)."""
    DATA.mkdir(parents=True, exist_ok=True)
    source = DATA / f"events-{label}-unsorted-nan.parquet"
    if not source.exists():
        print(f"[{label}] generating {rows:,} events", flush=True)
        subprocess.run([PY, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from generate "
                        "import generate; from pathlib import Path; generate(Path(sys.argv[2]), "
                        "int(sys.argv[3]), shuffled=True, nan_share=float(sys.argv[4]))",
                        str(ROOT / "bench"), str(source), str(rows), str(NAN_SHARE)], check=True)
    return source


def all_invalid(source: Path) -> Path:
    """The same events with every row breaking a rule (a status the contract does not know)."""
    target = source.with_name(source.stem + "-invalid.parquet")
    if not target.exists():
        duckdb.connect().execute(f"COPY (SELECT * REPLACE ('unknown' AS status) FROM "
                                 f"read_parquet('{source}')) TO '{target}' (FORMAT parquet)")
    return target


def text_ingests(source: Path, tmp: Path, runs: int) -> dict:
    """The same events as CSV and as JSON Lines: `scorecard ingest` against DuckDB's own read
    of the file into a table."""
    out = {}
    for fmt in TEXT_FORMATS:
        text = as_text_file(source, fmt)
        ours, raw = Measure(), Measure()
        for i in range(runs):
            print(f"[text] {fmt} run {i + 1}/{runs}", flush=True)
            db, raw_db = tmp / f"text-{fmt}-{i}.duckdb", tmp / f"text-raw-{fmt}-{i}.duckdb"
            run_process(scorecard("ingest", str(text), "--db", str(db)), ours)
            run_process([PY, "-c", TEXT_CTAS, str(raw_db), READ_TEXT[fmt].format(src=text)],
                        raw)
            db.unlink()
            raw_db.unlink()
        out[fmt] = (text.stat().st_size / 1e6, ours, raw)
    return out


def otlp_ingest(source: Path, tmp: Path, runs: int) -> tuple[float, Measure, Measure]:
    """The events as OTLP/JSON traces (bench/otlp_export.py) against the same events, as the
    OTLP load stored them, in a Parquet file in the contract's columns (in no time order)."""
    from scorecard.store.schema import KINDS

    traces = source.with_name(source.stem + "-otlp.jsonl")
    if not traces.exists():
        write_otlp(source, traces)
    same = source.with_name(source.stem + "-from-otlp.parquet")
    columns = ", ".join(c.name for c in KINDS["events"].columns)
    from_traces, from_parquet = Measure(), Measure()
    for i in range(runs):
        print(f"[otlp] run {i + 1}/{runs}", flush=True)
        db, other = tmp / f"otlp-{i}.duckdb", tmp / f"otlp-parquet-{i}.duckdb"
        run_process(scorecard("ingest", str(traces), "--db", str(db)), from_traces)
        if not same.exists():
            with duckdb.connect(str(db), read_only=True) as con:
                con.execute(f"COPY (SELECT {columns} FROM inference_events ORDER BY "
                            f"hash(event_id)) TO '{same}' (FORMAT parquet)")
        run_process(scorecard("ingest", str(same), "--db", str(other)), from_parquet)
        db.unlink()
        other.unlink()
    return traces.stat().st_size / 1e6, from_traces, from_parquet


def bench_size(label: str, rows: int, runs: int, browser: bool) -> dict:
    source = generated(label, rows)
    ingest_runs = 1 if rows > 10_000_000 else runs
    result: dict = {"rows": rows, "file_mb": source.stat().st_size / 1e6}
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        ours, raw = Measure(), Measure()
        for i in range(ingest_runs):
            print(f"[{label}] ingest run {i + 1}/{ingest_runs}", flush=True)
            db = Path(tmp) / f"ours{i}.duckdb"
            run_process(scorecard("ingest", str(source), "--db", str(db)), ours)
            raw_db = Path(tmp) / f"raw{i}.duckdb"
            run_process([PY, "-c", CTAS, str(raw_db), str(source)], raw)
            raw_db.unlink()
            if i < ingest_runs - 1:
                db.unlink()
        result.update(ingest=ours, ctas=raw, ingest_runs=ingest_runs,
                      store_mb=db.stat().st_size / 1e6)
        metrics, bare, trends = Measure(), Measure(), Measure()
        for i in range(runs):
            print(f"[{label}] queries run {i + 1}/{runs}", flush=True)
            run_process(scorecard("metrics", "--db", str(db), "--format", "json"), metrics)
            run_process([PY, "-c", BARE, str(db)], bare)
            run_process(scorecard("trends", "--db", str(db), "--metric", "success_rate",
                                  "--period", "week", "--format", "json"), trends)
        result.update(metrics=metrics, bare=bare, trends=trends)
        if browser:
            print(f"[{label}] first paint", flush=True)
            paint = first_paint(db, runs)
            typed = first_paint(db, runs, typing_seconds=TYPING_SECONDS)
            result.update(paint=paint["warm"], paint_cold=paint["cold"],
                          paint_typed=typed["cold"], server_mb=paint["cold"].peak)
        if label == TEXT_SIZE:
            invalid, valid = Measure(), Measure()
            for i in range(runs):
                print(f"[{label}] every row invalid, run {i + 1}/{runs}", flush=True)
                for into, path in ((invalid, all_invalid(source)), (valid, source)):
                    db = Path(tmp) / f"validity{i}.duckdb"
                    run_process(scorecard("ingest", str(path), "--db", str(db)), into)
                    db.unlink()
            result["invalid"] = (invalid, valid)
            result["text"] = text_ingests(source, Path(tmp), runs)
        if label == OTLP_SIZE:
            result["otlp"] = otlp_ingest(source, Path(tmp), runs)
        if label == BOUNDED_SIZE:
            print(f"[{label}] ingest under a memory limit", flush=True)
            result["bounded"] = bounded_ingest(source, Path(tmp))
    return result


def machine() -> str:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    gib = int(mem.split()[1]) / 1024 / 1024
    return (f"{os.cpu_count()} cores, {gib:.0f} GiB memory, {platform.machine()}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def report(results: dict[str, dict], runs: int, took: float) -> str:
    lines = [
        "# Benchmarks", "",
        "Regenerate with `make bench` "
        "(or `python bench/run.py --sizes 1m,5m,50m,100m --runs 3`).",
        f"Machine: {machine()}. Every figure is a whole process, wall clock; medians of "
        f"{runs} runs unless said; peak memory is the largest resident set seen. "
        f"This run took {took / 60:.0f} minutes.", "",
        "| events | step | scorecard | DuckDB alone | ratio | target | peak memory |",
        "|---:|---|---:|---:|---:|---|---:|",
    ]
    for label, r in results.items():
        n = f"{r['rows'] / 1e6:g}M"
        ing, ctas = r["ingest"], r["ctas"]
        runs_note = "" if r["ingest_runs"] == runs else f" ({r['ingest_runs']} run)"
        lines.append(f"| {n} | ingest Parquet, rows in random time order, 2% NaN "
                     f"({r['file_mb']:,.0f} MB){runs_note} | "
                     f"{ing.median:.2f} s | {ctas.median:.2f} s (CTAS) | "
                     f"{ing.median / ctas.median:.2f}x | ≤ 1.3x | {ing.peak:,.0f} MB "
                     f"(DuckDB {ctas.peak:,.0f} MB) |")
        if "invalid" in r:
            bad, good = r["invalid"]
            lines.append(f"| {n} | ingest Parquet, every row breaking a rule (kept with its "
                         f"reason) | {bad.median:.2f} s | {good.median:.2f} s (same file, "
                         f"valid rows, ours) | {bad.median / good.median:.2f}x | ≤ 2x | "
                         f"{bad.peak:,.0f} MB |")
        for fmt, (mb, ours, raw) in r.get("text", {}).items():
            reader = "read_csv" if fmt == "csv" else "read_json"
            lines.append(f"| {n} | ingest {'CSV' if fmt == 'csv' else 'JSON Lines'} "
                         f"({mb:,.0f} MB) | {ours.median:.2f} s | {raw.median:.2f} s "
                         f"({reader} CTAS) | {ours.median / raw.median:.2f}x | "
                         f"≤ {TEXT_TARGETS[fmt]:g}x | "
                         f"{ours.peak:,.0f} MB (DuckDB {raw.peak:,.0f} MB) |")
        if "otlp" in r:
            mb, traces, same = r["otlp"]
            lines.append(f"| {n} | ingest OpenTelemetry traces, OTLP/JSON ({mb:,.0f} MB, one "
                         f"model-call span per event, evaluations as span events) | "
                         f"{traces.median:.2f} s | {same.median:.2f} s (the same events as "
                         f"Parquet, ours) | {traces.median / same.median:.2f}x | "
                         f"≤ {OTLP_TARGET:g}x | "
                         f"{traces.peak:,.0f} MB |")
        m, b = r["metrics"], r["bare"]
        lines.append(f"| {n} | `scorecard metrics` (all metrics, every system) | "
                     f"{m.median:.2f} s | {b.median:.2f} s (one grouped aggregate) | "
                     f"{m.median / b.median:.2f}x | ≤ 2x | {m.peak:,.0f} MB |")
        t = r["trends"]
        lines.append(f"| {n} | `scorecard trends` (success rate, weekly) | {t.median:.2f} s | "
                     "| | | " + f"{t.peak:,.0f} MB |")
        if "paint" in r:
            target = "≤ 3 s" if r["rows"] >= 50_000_000 else "≤ 1.5 s"
            lines.append(f"| {n} | first paint after sign-in, cold (first sign-in after a "
                         f"server start) | {r['paint_cold'].median:.2f} s | | | {target} | "
                         f"{r['server_mb']:,.0f} MB (server) |")
            lines.append(f"| {n} | first paint after sign-in, warm (results cached) | "
                         f"{r['paint'].median:.2f} s | | | {target} | |")
            lines.append(f"| {n} | first paint, cold, signing in {TYPING_SECONDS} s after the "
                         f"page opens | {r['paint_typed'].median:.2f} s | | | | |")
        for fmt, (mb, m) in r.get("bounded", {}).items():
            lines.append(f"| {n} | ingest {'CSV' if fmt == 'csv' else 'JSON Lines'} "
                         f"({mb:,.0f} MB) with DuckDB limited to {BOUNDED_LIMIT} (1 run) | "
                         f"{m.median:.2f} s | | | | {m.peak:,.0f} MB |")
        lines.append(f"| {n} | store file | {r['store_mb']:,.0f} MB | | | | |")
    return "\n".join(lines + ["", "## Targets", "", *verdicts(results)]) + "\n"


def verdicts(results: dict[str, dict]) -> list[str]:
    """Each target of the performance issue, met or missed, by how much."""
    def line(what: str, value: float, limit: float, unit: str) -> str:
        met = value <= limit
        by = "" if met else f" ({value / limit:.1f} times the target)"
        return (f"- {what}: {value:.2f}{unit} against {limit:g}{unit}: "
                f"**{'met' if met else 'missed'}**{by}.")

    out = []
    for label, r in results.items():  # the ingest targets, at every size measured
        n = label.upper()
        ing, ctas = r["ingest"], r["ctas"]
        out.append(line(f"{n} Parquet ingest / DuckDB load", ing.median / ctas.median, 1.3, "x"))
        out.append(line(f"{n} Parquet ingest peak memory / DuckDB's own", ing.peak / ctas.peak,
                        1.5, "x"))
        for fmt, (_, ours, raw) in r.get("text", {}).items():
            name = "CSV" if fmt == "csv" else "JSON Lines"
            out.append(line(f"{n} {name} ingest / DuckDB's own read", ours.median / raw.median,
                            TEXT_TARGETS[fmt], "x"))
            out.append(line(f"{n} {name} ingest peak memory / DuckDB's own",
                            ours.peak / raw.peak, 1.5, "x"))
        if "otlp" in r:
            _, traces, same = r["otlp"]
            out.append(line(f"{n} OTLP/JSON traces / the same events as Parquet",
                            traces.median / same.median, OTLP_TARGET, "x"))
    if "5m" in results:
        r = results["5m"]
        if "invalid" in r:
            bad, good = r["invalid"]
            out.append(line("5M every row invalid / valid rows", bad.median / good.median, 2,
                            "x"))
        out.append(line("5M metrics / bare aggregate", r["metrics"].median / r["bare"].median,
                        2, "x"))
        if "paint" in r:
            out.append(line("5M first paint, warm", r["paint"].median, 1.5, " s"))
            out.append(line("5M first paint, cold", r["paint_cold"].median, 1.5, " s"))
    if "100m" in results:
        r = results["100m"]
        out.append(line("100M ingest peak memory", r["ingest"].peak / 1024, 8, " GB"))
        out.append(line("100M `scorecard metrics`", r["metrics"].median, 3, " s"))
        if "paint" in r:
            out.append(line("100M first paint, cold", r["paint_cold"].median, 3, " s"))
            out.append(line("100M first paint, warm", r["paint"].median, 1.5, " s"))
    if "50m" in results:
        r = results["50m"]
        peak = max(m.peak for m in (r["ingest"], r["metrics"], r["trends"]))
        peak = max(peak, r.get("server_mb", 0)) / 1024
        out.append(line("50M peak memory of any process", peak, 24, " GB"))
        if "paint" in r:
            out.append(line("50M first paint, warm", r["paint"].median, 3, " s"))
            out.append(line("50M first paint, cold", r["paint_cold"].median, 3, " s"))
    return out


def first_signin_section(runs: list[dict]) -> str:
    """How many first sign-ins after a fresh server start went through (target: all)."""
    seconds = sorted(r["seconds"] for r in runs)
    signed = sum(r["signed_in"] for r in runs)
    return (f"\n## First sign-in after a server start\n\n`python bench/first_signin.py`: "
            f"{len(runs)} fresh starts of `scorecard serve` on the demo store, Sign in clicked "
            f"the moment the form shows. **{signed} of {len(runs)} signed in** "
            f"({'met' if signed == len(runs) else 'missed'}: every one); median "
            f"{seconds[len(seconds) // 2]:.2f} s from the click to the signed-in page, "
            f"slowest {seconds[-1]:.2f} s.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,5m,50m,100m")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    browser = not args.no_browser and shutil.which("chromium") is not None
    started = time.perf_counter()
    results = {label: bench_size(label, SIZES[label], args.runs, browser)
               for label in args.sizes.split(",")}
    text = report(results, args.runs, time.perf_counter() - started)
    if browser:
        text += first_signin_section(first_signin.measure(20))
    kept = kept_sections(Path(args.out))  # bench/clickhouse.py and slices.py write their own
    Path(args.out).write_text(text + NOTES + (f"\n{kept}\n" if kept else ""), encoding="utf-8")
    print(text)


NOTES = """
## What the numbers mean

- *Ingest* validates every row against the contract in SQL, skips ids already stored or
  repeated, keeps rejects with reasons, sorts a file that is out of time order by day, logs
  the upload, and then brings the derived tables up to date (the daily rollup, the kept
  baseline deciles and the PSI's daily bin counts, see below); DuckDB's CTAS copies the file
  as it is.
- *Metrics* computes all metrics of SPEC section 3 for every system and for all systems
  together (window, weekly buckets, baseline test, PSI, incidents, segments, the estimated
  success rate and the label lag); the bare process runs one grouped aggregate over the whole
  table. Both include starting Python. Processes
  run as on an installed machine, with Python's compiled modules kept.
- *First paint* is the time from pressing Sign in to the drawn metric table, in a new browser
  session. Each run starts the server afresh (`scorecard serve` keeps the newest scorecard in
  the store at its start when it is stale): cold is its first sign-in, pressed as soon as the
  sign-in page has loaded; warm is a second sign-in, which reuses the results cached on the
  store's data version. The third row gives the first person a few seconds to type.
- *Ingest with a memory limit*: the same 5M events as CSV and as JSON Lines, with DuckDB
  limited to less than the file's size (`memory_limit` in `config/store.yaml`). The peak
  memory stays near the limit: text is staged in a temp table that spills to disk.

## How the metrics stay fast

After each ingest, a daily rollup per system and UTC day holds every windowed count and sum
that does not depend on a threshold (the measures `metrics.yaml` declares as counts or sums),
each scope's baseline decile edges and bin counts are kept for the PSI, and so are the events'
counts per day in those bins (`psi_daily`). The window, weekly, baseline and PSI queries read
those instead of the events. Each derived table records how many events it covers and is used
only when that equals the events stored (and, for the PSI, only under the kept baselines in
force); otherwise the queries read the events, and the tests check both ways give the same
numbers. Each system's calibration for the estimated success rate is kept too, refitted only
when its baseline's events change. What still reads events, and only in the window: the
exact latency quantiles, the counts against each system's latency SLO and confidence floor,
the segment rates, the unlabelled events the estimate prices and the label lag's median. The
queries run two at a time. In-process at 5M: the window query about 0.08 s, the PSI 0.015 s
(0.065 s when it binned the window's events), the rest 0.03 s together.

## Where the time goes, and what is left

Measured for the performance issue in this run.

- *First paint* (met but for 5M cold, 1.54 s against 1.5 s; 1.0-1.3 s when timed alone
  right before this run). `scorecard serve` keeps the newest scorecard in the store at start,
  so the first sign-in after a restart reads it instead of waiting for the queries; it now
  keeps the weekly trend table and the attention drivers too, which the landing page still
  computed before drawing its first table (5M cold: 2.0-2.8 s to 1.0-1.5 s; 100M: 6.1 s to
  1.4 s). The bench's data had grown since the run before that (release, team, feature and
  customer columns: 169 MB to 182 MB at 5M), which had made those two live steps slower.
  The sign-in page draws one of each element the scorecard uses, hidden and holding nothing
  from the store, so the browser fetches and compiles their code while the person types.
- *`scorecard metrics`* (1.93x at 5M before the estimated success rate and the label lag
  came in; they cost about 16 ms of the 125 ms in-process at 5M, measured with and without
  them, which puts it near 2.1x). At 1M the fixed cost of Python, the registry and the
  thresholds (imports 0.16 s against DuckDB's own 0.08 s) weighs most.
- *Ingest of real-world Parquet at 1M and 5M* (3.43x and 1.45x against 1.3x in this run;
  the 1M figure is this run's outlier: three ingests of the same file right after it took
  2.78-3.47 s against CTAS 1.36 s, about 2.2x, and `bench/formats.py` measured 1.94x at 1M and
  1.49x at 5M the same hour. The ingest code for valid Parquet rows did not change since the
  run before, which measured 1.92x and 1.46x). In-process
  at 5M (cProfile): the check-and-store pass 4.25 s (3.3-3.6 s with no sort at all), the
  in-file repeat check 0.41 s (a 64-bit hash of the trimmed identity, sorted and compared
  with its neighbour; grouping the hashes cost 0.55 s), the daily rollup 0.23 s, the PSI's
  daily bins 0.30 s (they take 0.05 s off every metrics run at 5M and 0.9 s at 100M), the
  kept PSI baselines 0.1 s, the estimate's calibration fit 0.19 s (0.6 s when Python rounded
  the points; only when a baseline's events change), and as a whole process about 0.4 s of
  Python start-up, imports and config. The file's SHA-256 is read beside the load.
- *Ingest at 50M and 100M* (2.99x and 2.19x in this run; 2.00x and 2.11x in the run before
  on the same ingest code for valid rows, so the 50M figure moved with the box, one run
  each). Three
  changes: a file out of time order is sorted by day in runs of 2M file rows, each sorted in
  memory, where one sort of the whole file spilled to disk (50M: the store pass 68 s to 49 s,
  peak memory 6.3 GB to 3.0 GB; windows prune as well: `scorecard metrics` at 50M 1.11 s
  against 1.07-1.29 s with one sort); the repeat check sorts the hashes instead of grouping
  them (50M: 7.3 s to 3.8 s); the calibration's rounding of many distinct confidences is done
  by the store instead of a Python loop over millions of points (50M: 8.4 s to under 1 s).
  What is left at 50M: the sort in the store pass about 15 s (the pass with no sort takes
  34 s, as long as DuckDB's CTAS of the same file: checking every rule costs almost nothing),
  the repeat check 3.8 s, the derived tables about 6 s (rollup 2.2 s, PSI baselines 1.1 s, PSI
  daily bins 3.0 s). Why the target is still missed: the day order is what keeps the metrics
  fast (an unsorted 50M store answers `scorecard metrics` in 1.9 s instead of 1.1 s), and the
  derived tables are what keep first paint and metrics inside their targets; dropping either
  would trade a read target for this write target.
- *OpenTelemetry traces* (3.39x the same events as Parquet in this run, against 2.5x; 3.28x
  earlier; 1M model-call spans, 829 MB of OTLP/JSON in lines of 10,000 spans,
  bench/otlp_export.py). In-process: parsing each line down to its spans' JSON and each span
  then on its own about 2.5 s (typing whole spans as part of the line took 5.4 s, and
  filtering out the lines that were not traces after parsing them cost 1.5 s more; reading
  lines of megabytes in buffers of up to 32 MB keeps the peak at 1.5 GB, where DuckDB's
  default batch of lines ran out of memory at 6 GB), the check for lines that are not traces
  0.35 s, the decisions (outcomes and people joined on) 0.5 s, then the same checks and store
  pass as any file (1.9 s here against 1.4 s for the Parquet file). A rejected span's JSON is
  read back from the file only when it is rejected (writing every span's JSON cost 3 s).
- *A file where every row breaks a rule* (2.13x the valid file against 2x; 4.92x in the run
  before). Keeping the rejects took 45 s of the 48 s load in-process at 5M: the privacy
  patterns ran over every value of every rejected row, numbers and times as text included
  (35 s, and a time came out as '2026-[phone]:00:00'). A rejected row is now tested once for
  any pattern over its text values joined, masked value by value only where that matched,
  and its typed times, numbers and flags are kept as read: keeping the rejects 45 s to 15 s.
  What is left: building 5M rows' original values as JSON objects about 2.5 s, and writing
  them, about 2.5 GB of text, 10.6 s (DuckDB's string compression), against 7 s for the
  valid rows' store pass.
- *CSV and JSON Lines* (2.49x and 3.09x here; 2.43x and 2.81x in `bench/formats.py`, whose
  notes say where the time goes). Both are read by DuckDB's own readers now (`read_csv`,
  `read_json`), with the per-line path only for what they cannot read; what is left is
  listing every JSON line's keys (4.6 s at 5M, so that no key first seen late is dropped),
  parsing each value from text, and CSV's staged table, which is why its peak is 2.9x
  DuckDB's own (bounded by the memory limit: 642 MB under 512MB).
- *NaN.* DuckDB 2.0.1 evaluates `NOT isnan(x)` as true for NaN read from a Parquet file in
  some plans, so NaN values are tested with `isfinite`/`isinf` (tests/test_integrity.py).
"""

if __name__ == "__main__":
    main()
