"""Ingest of each file format against DuckDB's own read of the same file, in one run: the same
events as Parquet, CSV and JSON Lines, each loaded by `scorecard ingest` (with the shipped
privacy rules, and with none) and by DuckDB's CREATE TABLE AS over its own reader. Written to
its own section of bench/RESULTS.md.

    python bench/formats.py [--sizes 1m,5m] [--runs 3]      (or: make bench-formats)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from run import (CTAS, PY, READ_TEXT, SIZES, TEXT_CTAS, Measure, as_text_file,  # noqa: E402
                 generated, machine, run_process, scorecard)
from sections import write_section  # noqa: E402

TARGETS = {"parquet": 1.3, "csv": 1.5, "jsonl": 2.0}  # ratio to DuckDB's own read (the issue)
NAMES = {"parquet": "Parquet", "csv": "CSV", "jsonl": "JSON Lines"}


def no_privacy_config(folder: Path) -> Path:
    """The shipped config with no masking rules: what the checks cost without them."""
    cfg = folder / "config-no-privacy"
    shutil.copytree(ROOT / "config", cfg)
    (cfg / "privacy.yaml").write_text("mask: []\n", encoding="utf-8")
    return cfg


def bench_format(fmt: str, source: Path, tmp: Path, runs: int, plain: Path) -> dict:
    path = source if fmt == "parquet" else as_text_file(source, fmt)
    ours, unmasked, duck = Measure(), Measure(), Measure()
    for i in range(runs):
        print(f"[{fmt}] run {i + 1}/{runs}", flush=True)
        for into, extra in ((ours, []), (unmasked, ["--config", str(plain)])):
            db = tmp / f"{fmt}-{i}.duckdb"
            run_process(scorecard("ingest", str(path), "--db", str(db), *extra), into)
            db.unlink()
        raw = tmp / f"{fmt}-raw-{i}.duckdb"
        if fmt == "parquet":
            run_process([PY, "-c", CTAS, str(raw), str(path)], duck)
        else:
            run_process([PY, "-c", TEXT_CTAS, str(raw), READ_TEXT[fmt].format(src=path)], duck)
        raw.unlink()
    return {"mb": path.stat().st_size / 1e6, "ours": ours, "unmasked": unmasked, "duck": duck}


NOTES = """
Where the time goes (5M events, each step timed in one process while building this; the
same box's speed varies from one session to the next, so compare ratios, not seconds):

- *Privacy masking* (the shipped rules): the rules first count, per column, the values they
  would change, and the store pass masks only the columns where they change something. With
  no personal data in the file, the patterns run over it once instead of twice (once to store,
  once to count): 6 s of the 16.8 s load to about 1 s. A column whose first 100,000 rows hold
  few distinct values (segment, team, feature, release, customer) is counted per distinct
  value: 0.18 s to 0.03 s a column. A column of unique values (an input reference) is tested
  value by value, 0.2 s each; the pattern engine's cost is per value, about the same for any
  pattern.
- *The store pass on text* (CSV, JSON Lines read as text): the engine pushed the filter on
  the broken-row flag down through the levels that compute each typed value once, computing
  every value again inside the filter. A volatile term in the flag keeps the filter where it
  is (1M rows of text: 2.57 s to 1.47 s; 5M CSV: the store pass 19 s to 14 s; Parquet
  unchanged). What is left on CSV is parsing text: per 1M rows, timestamps 0.16 s, the two
  whole-number columns 0.23 s (through DECIMAL, so that 3053.5 is refused where a BIGINT cast
  rounds it), the four numbers 0.26 s, the rest 0.5 s.
- *CSV staging*: the text is read into a temporary table with the reader's rejects kept.
  DuckDB sizes its read buffer to the longest line allowed, so the file is read with its
  default (2 MB) unless a 512 KiB stretch of it holds no line end, and again allowing 1 GiB
  only if the reader finds malformed rows (a quoted value of several lines past 2 MB): read
  alone at 5M, 4.6-5.6 s and 1.7 GB instead of 6.9-9.6 s and 2.5 GB when every file allowed
  1 GiB. The stage stays in memory, which is why CSV's peak is 2.8x DuckDB's own; the load's
  memory_limit bounds it (642 MB under 512MB in `bench/run.py`). Written to a Parquet file
  instead, as JSON Lines are, it took 7.7-8.3 s: less memory, more time; left as it is.
  Reading CSV typed was tried before and left out: given one row with an extra field,
  DuckDB's sniffer took the whole file for one column.
- *JSON Lines* are read by DuckDB's `read_json`, in parallel, when every line is one JSON
  object, and written to a Parquet file the load reads in place. At 5M: the first pass that
  lists every line's keys 4.6 s (the reader's sample would drop a key first seen after line
  20,480 without a word; sampling the whole file instead took 15.5 s), the read and the
  Parquet file 5.3 s (4.6 s into a table), then the same checks and store pass as Parquet.
  Reading the keys and the values in one pass over `read_ndjson_objects` took 13.4 s.
- *The sort by day*: about 1.1 s of the 5M Parquet load (runs of 0.5M, 1M or 2M file rows
  all within noise; one sort of the whole file 1.2 s slower). Kept: it is what keeps the
  windows pruning.
- *The derived tables* are already brought up to date from the new rows only (the rollup and
  the PSI's daily bins add the rows past those they cover); after a first load into an empty
  store, as here, that is every row: 1.1 s at 5M.
"""


def report(results: dict[str, dict], runs: int) -> str:
    sizes = ",".join(results)
    lines = ["## Ingest by file format", "",
             f"`python bench/formats.py --sizes {sizes}`, {machine()}; medians of {runs} runs "
             f"up to 1M events, one run above, whole processes. The same events "
             "(bench/generate.py: unsorted, 2% NaN) as each format; DuckDB's own is CREATE "
             "TABLE AS over read_parquet, read_csv (every value as text) and read_json. "
             "`scorecard ingest` with the shipped config masks e-mail addresses, phone "
             "numbers, card numbers and IBANs in seven text columns.", "",
             "| events | format | file | scorecard | scorecard, no masking | DuckDB's own | "
             "ratio | ratio, no masking | target | peak memory (DuckDB's own) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for label, by_format in results.items():
        for fmt, r in by_format.items():
            ours, plain, duck = r["ours"], r["unmasked"], r["duck"]
            ratio = ours.median / duck.median
            verdict = "met" if ratio <= TARGETS[fmt] else "missed"
            lines.append(
                f"| {SIZES[label] / 1e6:g}M | {NAMES[fmt]} | {r['mb']:,.0f} MB | "
                f"{ours.median:.2f} s | {plain.median:.2f} s | {duck.median:.2f} s | "
                f"{ratio:.2f}x | {plain.median / duck.median:.2f}x | ≤ {TARGETS[fmt]:g}x: "
                f"**{verdict}** | {ours.peak:,.0f} MB ({duck.peak:,.0f} MB) |")
    return "\n".join(lines + ["", NOTES.strip()]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="parquet,csv,jsonl")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    results = {}
    for label in args.sizes.split(","):
        source = generated(label, SIZES[label])
        runs = args.runs if SIZES[label] <= 1_000_000 else 1
        with tempfile.TemporaryDirectory(dir=source.parent) as folder:
            plain = no_privacy_config(Path(folder))
            results[label] = {fmt: bench_format(fmt, source, Path(folder), runs, plain)
                              for fmt in args.formats.split(",")}
    section = report(results, args.runs)
    write_section("formats", section, Path(args.out))
    print(section)


if __name__ == "__main__":
    main()
