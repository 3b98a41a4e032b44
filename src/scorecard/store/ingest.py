"""Ingestion: a CSV, Parquet or JSON Lines extract into the store, validated by SQL inside DuckDB.

One file is one transaction. Rows that break a contract rule are kept in `rejected_rows` with
their reason and raw values; ids already stored (or repeated in the file) are skipped and
counted; a file that cannot be read, or lacks a required column, stores nothing.
"""

from __future__ import annotations

import getpass
import gzip
import hashlib
import shutil
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from ..errors import BadInput, ScorecardError
from .db import Store
from .mapping import ColumnMap
from .pricing import Pricing
from .schema import KINDS, Column, Kind

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".json": "jsonl"}
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
ROW = "__row"  # the staged row number column
SOURCE = "__src:"  # prefix of the source columns carried along for rejected rows
CHUNK_ROWS = 122_880  # one DuckDB row group

Progress = Callable[[float, str], None]


@dataclass
class IngestResult:
    """What happened to one file, as `scorecard ingest` prints it."""

    file: str
    rows_read: int
    inserted: int
    duplicates: int
    rejected: int
    ingest_id: str = ""

    def public(self) -> dict:
        data = asdict(self)
        data.pop("ingest_id")
        return data


def detect_format(path: Path) -> tuple[str, bool]:
    """The file's format and whether it is gzipped, from its extension."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    ext = suffixes[-2] if gz and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    if ext not in FORMATS:
        raise BadInput(
            f"{path.name} has an extension scorecard does not read; use .csv, .parquet or "
            f".jsonl (optionally gzipped, as .csv.gz or .jsonl.gz)."
        )
    return FORMATS[ext], gz


def file_fingerprint(path: Path) -> tuple[int, str]:
    """Size in bytes and sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- reading ---------------------------------------------------------------------------------


def _stage(cur: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> list[tuple[str, str]]:
    """Expose the file as temp view `_stage` with a 1-based row number; return (column, type) pairs.

    CSV and JSON Lines are copied once into a temp table (insertion order gives the row number);
    Parquet is read in place, with the reader's own row numbers.
    """
    src = _literal(str(path))
    if fmt == "csv":
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT * FROM read_csv({src}, "
                    "all_varchar=true, header=true, store_rejects=true, "
                    "rejects_table='_csv_errors', rejects_scan='_csv_scans')")
        view = f"SELECT rowid - (SELECT min(rowid) FROM _raw) + 1 AS {ROW}, * FROM _raw"
    elif fmt == "parquet":
        view = (f"SELECT file_row_number + 1 AS {ROW}, * EXCLUDE (file_row_number) "
                f"FROM read_parquet({src}, file_row_number=true)")
    else:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT line FROM read_csv({src}, "
                    "columns={'line': 'VARCHAR'}, delim='\x1f', quote='', escape='', "
                    "header=false, auto_detect=false, strict_mode=false)")
        is_object = "coalesce(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' END, false)"
        keys = [r[0] for r in cur.execute(
            f"SELECT k FROM (SELECT unnest(json_keys(CASE WHEN {is_object} THEN line END)) AS k, min(rowid) AS first FROM _raw "
            f"WHERE {is_object} GROUP BY k) ORDER BY first"
        ).fetchall()]
        obj = f"CASE WHEN {is_object} THEN line END"
        cols = "".join(f", json_extract_string({obj}, {_literal('$.' + _quote(k))}) AS {_quote(k)}"
                       for k in keys)
        view = (f"SELECT rowid - (SELECT min(rowid) FROM _raw) + 1 AS {ROW}, CASE WHEN {is_object} THEN NULL ELSE "
                f"'line is not a JSON object' END AS __json_error{cols} FROM _raw "
                "WHERE line IS NOT NULL AND trim(line) <> ''")
    cur.execute(f"CREATE OR REPLACE TEMP VIEW _stage AS {view}")
    return [(r[0], r[1]) for r in cur.execute("DESCRIBE _stage").fetchall()]


def _structural_rejects(fmt: str) -> str | None:
    """SQL selecting (row_number, reason, raw) for lines the reader could not parse, if any."""
    if fmt != "csv":
        return None
    return ("SELECT line AS row_number, 'row has ' || lower(replace(error_type, '_', ' ')) "
            "|| ': ' || error_message AS reason, csv_line AS raw FROM _csv_errors")


# -- validation as SQL -----------------------------------------------------------------------


NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
           "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL")
INTEGER = NUMERIC[:9]
TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")


def _typed_source(col: Column, columns: dict[str, str], cmap: ColumnMap) -> str | None:
    """The value straight from a source column that already has the right type (as Parquet
    columns usually do), skipping the round trip through text; None when it must be parsed."""
    source = cmap.columns.get(col.name, col.name)
    if col.name in cmap.constants or col.name in cmap.values or source not in columns:
        return None
    src, dtype = _quote(source), columns[source].upper()
    base = dtype.split("(")[0]
    if col.kind == "float" and base in NUMERIC:
        return f"CAST({src} AS DOUBLE)"
    if col.kind == "int" and base in INTEGER:
        return f"CAST({src} AS BIGINT)"
    if col.kind == "bool" and base == "BOOLEAN":
        return src
    if col.kind == "timestamp" and base in TIMESTAMPS:
        return f"CAST({src} AS TIMESTAMP)"  # a time without a zone is taken as UTC
    if col.kind == "timestamp" and dtype == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {src})"
    return None


def _source_expr(col: Column, columns: dict[str, str], cmap: ColumnMap) -> str:
    """The SQL (as text) that yields the raw value of a contract column from the staged file."""
    if col.name in cmap.constants:
        return _literal(cmap.constants[col.name])
    source = cmap.columns.get(col.name, col.name)
    if source not in columns:
        if col.name in cmap.columns:
            raise BadInput(
                f"The map takes {col.name} from a column '{source}' that the file does not have."
            )
        return "NULL"
    expr = f"trim(CAST({_quote(source)} AS VARCHAR))"
    if col.name in cmap.values and cmap.values[col.name]:
        cases = " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}"
                         for k, v in cmap.values[col.name].items())
        expr = f"(CASE {expr} {cases} ELSE {expr} END)"
    return f"NULLIF({expr}, '')"


def _typed_expr(col: Column, raw: str) -> str:
    """Parse a raw text value into the column's type; NULL when it does not parse."""
    if col.kind == "text":
        return raw
    if col.kind == "choice":
        return f"lower({raw})"
    if col.kind == "float":
        return f"TRY_CAST({raw} AS DOUBLE)"
    if col.kind == "int":
        return f"TRY_CAST(TRY_CAST({raw} AS DECIMAL(38, 6)) AS BIGINT)"
    if col.kind == "bool":
        return (f"CASE WHEN lower({raw}) IN {TRUE_WORDS} THEN true "
                f"WHEN lower({raw}) IN {FALSE_WORDS} THEN false END")
    if col.kind == "timestamp":
        return f"timezone('UTC', TRY_CAST({raw} AS TIMESTAMPTZ))"
    raise ValueError(col.kind)


def _rule_checks(col: Column, typed: bool) -> list[tuple[str, str]]:
    """(condition that breaks the rule, reason) pairs over `r_<name>` raw and `v_<name>` value;
    a `typed` source column needs no parsing checks."""
    raw, val, name = f"r_{col.name}", f"v_{col.name}", col.name
    checks: list[tuple[str, str]] = []
    if col.required:
        checks.append((f"{raw} IS NULL", f"'{name} is missing'"))
    shown = f"' ''' || left(CAST({raw} AS VARCHAR), 40) || ''''"
    if col.kind == "choice":
        allowed = ", ".join(col.choices)
        checks.append((f"{raw} IS NOT NULL AND {val} NOT IN {col.choices}",
                       f"'{name}' || {shown} || ' is not one of {allowed}'"))
    elif col.kind in ("float", "int"):
        what = "a whole number" if col.kind == "int" else "a number"
        bad_number = f"{val} IS NULL"
        if col.kind == "int" and not typed:
            bad_number += f" OR TRY_CAST({raw} AS DECIMAL(38, 6)) <> {val}"
        checks.append((f"{raw} IS NOT NULL AND ({bad_number} OR NOT isfinite({val}::DOUBLE))",
                       f"'{name}' || {shown} || ' is not {what}'"))
        if col.non_negative:
            checks.append((f"{val} < 0", f"'{name}' || {shown} || ' is negative'"))
        if col.unit_interval:
            checks.append((f"{val} < 0 OR {val} > 1",
                           f"'{name}' || {shown} || ' is outside [0, 1]'"))
    elif col.kind == "bool" and not typed:
        checks.append((f"{raw} IS NOT NULL AND {val} IS NULL",
                       f"'{name}' || {shown} || ' is not true/false, 1/0 or yes/no'"))
    elif col.kind == "timestamp" and not typed:
        checks.append((f"{raw} IS NOT NULL AND {val} IS NULL",
                       f"'{name}' || {shown} || ' is not an ISO 8601 time'"))
    return checks


CROSS_CHECKS = {
    "incidents": [
        ("v_detected_at < v_started_at", "'detected_at is before started_at'"),
        ("v_resolved_at < v_detected_at", "'resolved_at is before detected_at'"),
    ],
}


def _source_columns(columns: dict[str, str]) -> list[str]:
    return [c for c in columns if c != "__json_error"]


def _checked_sql(kind: Kind, columns: dict[str, str], cmap: ColumnMap) -> str:
    """SQL over `_stage` giving row number, typed values, a reason (NULL when valid) and the
    source columns as they were (named `__src:<name>`, for the rejected rows)."""
    typed = {c.name: e for c in kind.columns if (e := _typed_source(c, columns, cmap))}
    raws = [f"{typed.get(c.name) or _source_expr(c, columns, cmap)} AS r_{c.name}"
            for c in kind.columns]
    vals = [f"{'r_' + c.name if c.name in typed else _typed_expr(c, 'r_' + c.name)} AS v_{c.name}"
            for c in kind.columns]
    checks = [chk for c in kind.columns for chk in _rule_checks(c, c.name in typed)]
    checks += CROSS_CHECKS.get(kind.name, [])
    if "__json_error" in columns:
        checks.insert(0, ("__json_error IS NOT NULL", "__json_error"))
    reasons = ", ".join(f"CASE WHEN {cond} THEN {reason} END" for cond, reason in checks)
    extra = ", __json_error" if "__json_error" in columns else ""
    sources = "".join(f", {_quote(c)} AS {_quote(SOURCE + c)}" for c in _source_columns(columns))
    carried = "".join(f", {_quote(SOURCE + c)}" for c in _source_columns(columns))
    return (f"SELECT {ROW}{extra}, {', '.join(vals)}, "
            f"NULLIF(concat_ws('; ', {reasons}), '') AS reason{carried} "
            f"FROM (SELECT {ROW}{extra}, {', '.join(raws)}{sources} FROM _stage)")


# -- the load --------------------------------------------------------------------------------


def _open_source(path: Path, fmt: str, gz: bool, workdir: Path) -> Path:
    """Parquet cannot be read gzipped, so it is unpacked to a temporary file first."""
    if not (gz and fmt == "parquet"):
        return path
    target = workdir / (path.name[:-3] if path.name.lower().endswith(".gz") else path.name)
    with gzip.open(path, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return target


def _reader_error(path: Path, exc: Exception) -> BadInput:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return BadInput(f"{path.name} could not be read as its extension says ({first.rstrip('.')}).")


def ingest_file(
    store: Store,
    path: str | Path,
    *,
    kind: str = "events",
    cmap: ColumnMap | None = None,
    pricing: Pricing | None = None,
    actor: str | None = None,
    via: str = "cli",
    display_name: str | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Validate and load one file in one transaction; raise BadInput (storing nothing) if unusable."""
    path = Path(path)
    name = display_name or path.name
    kind_spec = KINDS[kind]
    cmap = cmap or ColumnMap()
    actor = actor or _whoami()
    ingest_id = uuid.uuid4().hex
    step = progress or (lambda fraction, text: None)
    try:
        if not path.is_file():
            raise BadInput(f"{name} does not exist or is not a file.")
        cmap.check_against(kind)
        fmt, gz = detect_format(Path(name))
        size, sha = file_fingerprint(path)
        if size == 0:
            raise BadInput(f"{name} is empty.")
        step(0.1, "Reading the file")
        with tempfile.TemporaryDirectory() as tmp, store.transaction() as cur:
            source = _open_source(path, fmt, gz, Path(tmp))
            try:
                columns = dict(_stage(cur, source, fmt))
            except duckdb.Error as exc:
                raise _reader_error(Path(name), exc) from None
            columns.pop(ROW, None)
            missing = cmap.missing_required(kind, columns)
            if missing:
                raise BadInput(
                    f"{name} has no {', '.join(missing)} column"
                    f"{'s' if len(missing) > 1 else ''} (it has: {', '.join(columns) or 'none'}); "
                    "rename it with a map file (--map)."
                )
            result = _load(cur, kind_spec, columns, cmap, pricing, ingest_id, name, fmt, step)
            step(0.9, "Recording the upload")
            _log(cur, ingest_id, actor, via, kind, name, size, sha, result, "ok", None)
        step(1.0, "Done")
        return result
    except BadInput as exc:
        _log_failure(store, ingest_id, actor, via, kind, name, path, str(exc))
        raise
    except duckdb.Error as exc:
        message = f"{name} could not be stored: {str(exc).splitlines()[0]}"
        _log_failure(store, ingest_id, actor, via, kind, name, path, message)
        raise ScorecardError(message) from None


def _load(cur, kind: Kind, columns: dict[str, str], cmap: ColumnMap, pricing: Pricing | None,
          ingest_id: str, name: str, fmt: str, step: Progress) -> IngestResult:
    """Stream the checked rows into the store, without materialising them: one pass finds ids
    repeated in the file, one inserts the valid rows, one keeps the rejected ones."""
    cur.execute(f"CREATE OR REPLACE TEMP VIEW _checked AS {_checked_sql(kind, columns, cmap)}")
    rows_read = cur.execute("SELECT count(*) FROM _stage").fetchone()[0]

    values = {c.name: f"v_{c.name}" for c in kind.columns}
    price_join = ""
    if kind.name == "events" and pricing is not None:
        price_join = pricing.register(cur, "_checked", "v_model")
        values["cost_usd"] = (
            "coalesce(v_cost_usd, CASE WHEN v_input_tokens IS NOT NULL OR v_output_tokens IS NOT "
            "NULL THEN (coalesce(v_input_tokens, 0) * p.input + coalesce(v_output_tokens, 0) "
            "* p.output) / 1e6 END)")
    select = ", ".join(f"{expr} AS {_quote(col)}" for col, expr in values.items())
    key = f"v_{kind.key}"
    # ids repeated within the file: the first valid row counts (usually there are none)
    step(0.3, "Checking every row against the contract")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _repeats AS SELECT {key} AS id, min({ROW}) AS "
                f"keep FROM _checked WHERE reason IS NULL GROUP BY 1 HAVING count(*) > 1")
    repeats = cur.execute("SELECT count(*) FROM _repeats").fetchone()[0]
    stored = cur.execute(f"SELECT count(*) FROM {kind.table}").fetchone()[0]
    skip_repeats = (f" AND NOT EXISTS (SELECT 1 FROM _repeats r WHERE r.id = c.{key} "
                    f"AND r.keep <> c.{ROW})" if repeats else "")
    skip_stored = (f" AND NOT EXISTS (SELECT 1 FROM {kind.table} t "
                   f"WHERE t.{_quote(kind.key)} = c.{key})" if stored else "")
    order = f" ORDER BY v_{kind.order_by}" if _out_of_order(cur, f"v_{kind.order_by}") else ""
    step(0.5, "Storing the valid rows")
    inserted = cur.execute(
        f"INSERT INTO {kind.table} SELECT {select} FROM _checked c {price_join} "
        f"WHERE c.reason IS NULL{skip_repeats}{skip_stored}{order}"
    ).fetchone()[0]

    raw_cols = ", ".join(f"{_quote(c)} := {_quote(SOURCE + c)}" for c in _source_columns(columns))
    raw = f"to_json(struct_pack({raw_cols}))" if raw_cols else "NULL"
    step(0.8, "Keeping the rejected rows with their reasons")
    rejected = cur.execute(
        f"INSERT INTO rejected_rows SELECT ?, ?, ?, {ROW}, reason, {raw} FROM _checked "
        f"WHERE reason IS NOT NULL ORDER BY {ROW}",
        [ingest_id, kind.name, name],
    ).fetchone()[0]
    structural = _structural_rejects(fmt)
    if structural:
        extra = cur.execute(
            f"INSERT INTO rejected_rows SELECT ?, ?, ?, row_number, reason, raw FROM ({structural})",
            [ingest_id, kind.name, name],
        ).fetchone()[0]
        rows_read += extra
        rejected += extra
    for view in ("_checked", "_stage"):
        cur.execute(f"DROP VIEW IF EXISTS {view}")
    for table in ("_repeats", "_raw", "_prices", "_csv_errors", "_csv_scans"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return IngestResult(name, rows_read, inserted, rows_read - rejected - inserted, rejected,
                        ingest_id)


def _out_of_order(cur, time_column: str) -> bool:
    """Whether the file's rows overlap in time from one row group to the next. Stored in file
    order, a file in time order keeps time windows pruning; any other file is sorted first."""
    return cur.execute(
        f"SELECT count(*) FROM (SELECT lo, lag(hi) OVER (ORDER BY chunk) AS before FROM "
        f"(SELECT {ROW} // {CHUNK_ROWS} AS chunk, min({time_column}) AS lo, "
        f"max({time_column}) AS hi FROM _checked GROUP BY chunk)) WHERE lo < before"
    ).fetchone()[0] > 0


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _log(cur, ingest_id, actor, via, kind, name, size, sha, result, status, message) -> None:
    counts = ([result.rows_read, result.inserted, result.duplicates, result.rejected]
              if result else [None] * 4)
    cur.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ingest_id, datetime.now(timezone.utc).replace(tzinfo=None), actor, via, kind, name, size,
         sha, *counts, status, message],
    )


def _log_failure(store, ingest_id, actor, via, kind, name, path, message) -> None:
    """Record a refused file in the ingest log (its rows are not stored)."""
    size, sha = (None, None)
    if path.is_file():
        size, sha = file_fingerprint(path)
    try:
        with store.transaction(changes_data=False) as cur:
            _log(cur, ingest_id, actor, via, kind, name, size, sha, None, "failed", message)
    except duckdb.Error:
        pass
