"""Ingestion: a CSV, Parquet or JSON Lines extract into the store, validated by SQL inside DuckDB.

One file is one transaction. Rows that break a contract rule are kept in `rejected_rows` with
their reason and raw values. A row whose identity (system and event_id for events) is already
stored, or earlier in the file, is a duplicate when its values are the same (skipped and
counted) and a conflict when they differ (kept with the rejects); nothing is overwritten. A file
that cannot be read, or lacks a required column, stores nothing.
"""

from __future__ import annotations

import getpass
import gzip
import hashlib
import json
import re
import tempfile
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import duckdb

from ..errors import BadInput, ScorecardError
from ..sql import identifier, literal, literal_list
from .db import Store
from . import formats, lines
from .formats import ImportOptions
from .formats.decisions import CACHE_READ, CACHE_WRITE
from .loading_room import room_for
from .mapping import ColumnMap
from .pricing import Pricing, cost_sql
from .privacy import Privacy
from .schema import INGEST_ID, KINDS, Column, Kind

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".json": "jsonl"}
QUOTE = "'"  # around a value quoted in a reason
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
ROW = "__row"  # the staged row number column
SOURCE = "__src:"  # prefix of the source columns carried along for rejected rows
CHUNK_ROWS = 122_880  # one DuckDB row group
SORT_RUN_ROWS = 2_000_000  # file rows sorted together by day (see _load)

Progress = Callable[[float, str], None]
NAN_WORDS = ("nan", "+nan", "-nan")  # how pandas, numpy, polars and Spark write a missing number


@dataclass(frozen=True)
class IngestLimits:
    """What an ingest refuses: times a clock cannot have meant (SPEC section 1), later than
    `future_tolerance` after the load or before `earliest_time` (one such row would otherwise
    move every window), and a gzipped file that expands past `max_decompressed_bytes`."""

    future_tolerance: timedelta = timedelta(days=1)
    earliest_time: datetime = datetime(2000, 1, 1)
    max_decompressed_bytes: int | None = 10 * 10**9  # what a gzipped file may expand to

    @classmethod
    def from_settings(cls, settings: dict) -> "IngestLimits":
        """From `store.yaml`: `future_tolerance_hours`, `earliest_time` (an ISO date) and
        `max_decompressed_gb`."""
        limits = cls()
        hours = settings.get("future_tolerance_hours")
        earliest = settings.get("earliest_time")
        gigabytes = settings.get("max_decompressed_gb")
        try:
            return cls(
                timedelta(hours=float(hours)) if hours is not None else limits.future_tolerance,
                datetime.fromisoformat(str(earliest)) if earliest else limits.earliest_time,
                int(float(gigabytes) * 10**9) if gigabytes is not None
                else limits.max_decompressed_bytes)
        except ValueError:
            raise BadInput("store.yaml: future_tolerance_hours must be a number of hours, "
                           "earliest_time an ISO date such as 2000-01-01 and "
                           "max_decompressed_gb a number of gigabytes.") from None

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
        return self.earliest_time.replace(tzinfo=None), now + self.future_tolerance


@dataclass
class IngestResult:
    """What happened to one file, as `scorecard ingest` prints it. Every row read is exactly one
    of inserted, duplicate (same identity, same values), conflict (same identity, other values:
    kept with the rejects) or rejected (breaks a rule: kept with its reason)."""

    file: str
    rows_read: int
    inserted: int
    duplicates: int
    conflicts: int
    rejected: int
    ingest_id: str = ""
    masked: int | None = None  # values masked or hashed (None: no privacy rules in force)
    said: str = ""  # an export's import: what it read and what the load used, in a sentence

    def public(self) -> dict:
        data = asdict(self)
        data.pop("ingest_id")
        data.pop("said")
        if not data["masked"]:  # said only when something was masked (SPEC's keys first)
            data.pop("masked")
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


_hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")


def file_fingerprint(path: Path) -> tuple[int, str]:
    """Size in bytes and sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


# -- reading ---------------------------------------------------------------------------------


def _read_csv(cur: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The CSV file into temp table `_raw`, every value as text; malformed rows into
    `_csv_errors` with their line and raw text. A field may be as long as a line may: a file
    with a long line is read allowing 1 GiB lines, and so is one the reader found malformed rows
    in, read again (with DuckDB's 2 MB, a quoted value of several lines longer than that is cut
    and its other lines taken for malformed rows)."""
    def read(room: str) -> None:
        for table in ("_csv_errors", "_csv_scans"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT * FROM read_csv("
                    f"{literal(str(path))}, all_varchar=true, header=true{room}, "
                    "store_rejects=true, rejects_table='_csv_errors', rejects_scan='_csv_scans')")

    room = lines.csv_line_room(path)
    read(room)
    if not room and cur.execute("SELECT count(*) FROM _csv_errors").fetchone()[0]:
        read(lines.long_lines())


def _stage(cur: duckdb.DuckDBPyConnection, path: Path, fmt: str,
           workdir: Path) -> list[tuple[str, str]]:
    """Expose the file as temp view `_stage` with a 1-based row number; return (column, type) pairs.

    CSV and JSON Lines are copied once into a temp table (insertion order gives the row number);
    Parquet is read in place, with the reader's own row numbers.
    """
    src = literal(str(path))
    if fmt == "csv":
        # DuckDB's CSV reader wants one kind of line ending (and a failed read ends the load)
        _read_csv(cur, lines.one_ending(path, workdir) if lines.mixed_endings(path) else path)
        view = f"SELECT {_csv_row_numbers(cur)} AS {ROW}, * FROM _raw"
    elif fmt == "parquet":
        view = (f"SELECT file_row_number + 1 AS {ROW}, * EXCLUDE (file_row_number) "
                f"FROM read_parquet({src}, file_row_number=true)")
    else:
        view = _read_json_whole(cur, path, workdir) or _read_json_lines(cur, path, workdir)
    cur.execute(f"CREATE OR REPLACE TEMP VIEW _stage AS {view}")
    return [(r[0], r[1]) for r in cur.execute("DESCRIBE _stage").fetchall()]


JSON_OBJECT_BYTES = 16 * 2**20  # DuckDB's reader's own default largest line
JSON_AS_READ = ("BIGINT", "UBIGINT", "HUGEINT", "DOUBLE", "BOOLEAN")  # kept as typed; else text


def _read_json_whole(cur, path: Path, workdir: Path) -> str | None:
    """JSON Lines read by DuckDB's own reader, in parallel, when every line is one JSON object
    whose keys can be columns: numbers and booleans as it types them, every other value as
    its text; the rows as the stage reads them, or None (nothing made) otherwise.

    The reading happens in a DuckDB of its own (an error there, such as a value of another
    type than the reader's sample showed, leaves the load's transaction as it was) and goes
    to a Parquet file in `workdir`, which the load then reads in place as any Parquet file.
    A rejected row's line is read back from the file afterwards (`_restore_json_lines`)."""
    limit = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    target = workdir / "read-whole.parquet"
    with duckdb.connect(config={"memory_limit": limit,
                                "temp_directory": str(workdir)}) as own:
        key_lists, longest = _json_key_lists(own, path) or ({}, 0)
        keys = list(dict.fromkeys(k for found in key_lists for k in found))
        if (not keys or any(not found or len(set(found)) < len(found) for found in key_lists)
                or len({k.lower() for k in keys}) < len(keys)
                or {"", ROW, JSON_ERROR, JSON_LINE} & {k.lower() for k in keys}):
            return None  # a line that is no record, or keys no column (or one column) takes
        src = f"{literal(str(path))}, format='newline_delimited', records=true, " \
              f"maximum_object_size={max(JSON_OBJECT_BYTES, 2 * longest)}"
        try:
            sampled = dict(own.execute(f"SELECT column_name, column_type FROM (DESCRIBE "
                                       f"SELECT * FROM read_json({src}))").fetchall())
        except duckdb.Error:
            sampled = {}
        typed = {k: sampled.get(k) if sampled.get(k) in JSON_AS_READ else "VARCHAR"
                 for k in keys}
        for types in dict.fromkeys([tuple(typed.items()), tuple((k, "VARCHAR") for k in keys)]):
            spec = ", ".join(f"{literal(k)}: {literal(t)}" for k, t in types)
            try:
                own.execute(f"COPY (SELECT * FROM read_json({src}, columns={{{spec}}})) TO "
                            f"{literal(str(target))} (FORMAT parquet)")
                break
            except duckdb.Error:  # a value of another type than the sample's: read as text
                continue
        else:
            return None
        rows = own.execute(f"SELECT count(*) FROM read_parquet({literal(str(target))})"
                           ).fetchone()[0]
    if rows != sum(key_lists.values()):  # the reader saw other lines than the splitter
        return None
    return (f"SELECT file_row_number + 1 AS {ROW}, NULL::VARCHAR AS {JSON_LINE}, * EXCLUDE "
            f"(file_row_number) FROM read_parquet({literal(str(target))}, "
            "file_row_number=true)")


def _json_key_lists(con, path: Path) -> tuple[dict[tuple[str, ...], int], int] | None:
    """How many lines have each list of keys (a line that is not an object has none), and the
    longest line's bytes; None when a line is blank or not JSON. DuckDB's own splitter reads
    the values (in parallel; half the time of parsing each line it reads as text), while
    this thread counts the lines it skips as blank."""
    with ThreadPoolExecutor(max_workers=1) as counter:
        physical = counter.submit(lines.count, path)
        try:
            found = con.execute(f"SELECT json_keys(json) AS k, count(*), max(strlen(json)) "
                                f"FROM read_ndjson_objects({literal(str(path))}) GROUP BY k"
                                ).fetchall()
        except duckdb.Error:
            return None
        if not found or sum(n for _, n, _ in found) != physical.result():
            return None  # a blank line: row numbers would not be line numbers
    return {tuple(k): n for k, n, _ in found}, max(size for _, _, size in found)


def _read_json_lines(cur, path: Path, workdir: Path) -> str:
    """JSON Lines into temp table `_json` line by line (its rows as the stage reads them):
    each line parsed on its own, so that lines of any shape and keys of any spelling load and
    a line that is not a record is kept verbatim with its reason."""
    guarded = lines.Guarded(path, workdir)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT {guarded.restored('line')} "
                f"AS line FROM {lines.read_sql(guarded.path)}")
    is_object = "coalesce(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' END, false)"
    keys = [r[0] for r in cur.execute(
        f"SELECT k FROM (SELECT unnest(json_keys(CASE WHEN {is_object} THEN line END)) AS k, "
        f"min(rowid) AS first FROM _raw WHERE {is_object} GROUP BY k) ORDER BY first"
    ).fetchall()]
    members = [k for k in keys if k not in ("", ROW, JSON_ERROR, JSON_LINE)]  # "" no column
    # every member in one parse of the line (a path per member, answered as a list)
    paths = ", ".join(literal(_json_path(k)) for k in members)
    values = (f", json_extract_string(CASE WHEN is_object THEN line END, [{paths}]) "
              "AS __members" if members else "")
    cols = "".join(f", __members[{i}] AS {identifier(k)}" for i, k in enumerate(members, 1))
    # parsed once into a temp table, which every later pass reads instead of the text
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE _json AS SELECT rid - (SELECT min(rowid) FROM _raw) "
        f"+ 1 AS {ROW}, CASE WHEN is_object THEN NULL ELSE 'line is not a JSON object' END "
        f"AS {JSON_ERROR}, line AS {JSON_LINE}{cols} FROM (SELECT rowid AS rid, line, "
        f"is_object{values} FROM (SELECT rowid, line, {is_object} AS is_object FROM _raw "
        f"WHERE line IS NOT NULL AND trim(line) <> ''))")
    cur.execute("DROP TABLE _raw")
    return "SELECT * FROM _json"


def _restore_json_lines(cur, path: Path, workdir: Path, ingest_id: str,
                        columns: dict[str, str], cmap: ColumnMap,
                        privacy: Privacy | None) -> None:
    """Rejected rows of a JSON Lines file read whole (`_read_json_whole`) get their line as it
    was, read back from the file: only when there are any."""
    pending = "SELECT row_number FROM rejected_rows WHERE ingest_id = $id AND raw IS NULL"
    if not cur.execute(f"SELECT count(*) FROM ({pending})", {"id": ingest_id}).fetchone()[0]:
        return
    guarded = lines.Guarded(path, workdir)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _lines AS SELECT {guarded.restored('line')} "
                f"AS {JSON_LINE} FROM {lines.read_sql(guarded.path)}")
    raw = _raw_value(columns, cmap, privacy)  # masked or hashed as the rules say
    cur.execute(
        f"UPDATE rejected_rows r SET raw = f.raw FROM (SELECT n, {raw} AS raw FROM (SELECT "
        f"rowid - (SELECT min(rowid) FROM _lines) + 1 AS n, {JSON_LINE} FROM _lines) "
        f"WHERE n IN ({pending})) f "
        "WHERE r.ingest_id = $id AND r.raw IS NULL AND r.row_number = f.n", {"id": ingest_id})
    cur.execute("DROP TABLE _lines")


def _export_format(path: Path, file_type: str, asked: str, kind: str, name: str) -> str | None:
    """The observability tool whose export the file is (formats.READERS), or None for a file
    in the contract's shape."""
    if asked not in formats.FORMATS:
        raise BadInput(f"--format {asked} is not known; use one of {', '.join(formats.FORMATS)}.")
    found = formats.detect(path, file_type) if asked == "auto" else asked
    if found == "contract":
        return None
    if kind != "events":
        raise BadInput(f"{name} is a {found} export, which holds events, not {kind}.")
    return found


def _stage_export(cur, path: Path, file_type: str, fmt: str, options: ImportOptions,
                  cmap: ColumnMap, name: str,
                  pricing: Pricing | None) -> tuple[list[tuple[str, str]], str]:
    """An observability tool's export as temp view `_stage` of decisions in the contract's
    columns (formats.decisions), read by the same checks as any file; with a sentence on what
    was read and used (BadInput when nothing is usable)."""
    decisions = formats.stage(cur, path, fmt, file_type, options)
    if options.unit == "trace" and pricing is not None:
        _price_calls(cur, pricing)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _export AS {decisions}")
    named, records = cur.execute(f"SELECT count(system), count(*) FILTER (WHERE {JSON_ERROR} "
                                 "IS NULL) FROM _export").fetchone()
    if "system" not in cmap.constants and "system" not in cmap.columns and records and not named:
        raise BadInput(f"{name} does not name the AI system its calls belong to; give it a "
                       "name (constants: {system: NAME} in a map file, or the System box on "
                       "the Upload page).")
    said = formats.account(cur, fmt, options, name)
    # a raw value the reader left out is made only for the rows read as rejects
    pending = formats.raw_until_rejected(fmt)
    cur.execute("CREATE OR REPLACE TEMP VIEW _stage AS SELECT * " + (
        f"REPLACE (coalesce({JSON_LINE}, {pending}) AS {JSON_LINE}) " if pending else "")
        + "FROM _export")
    return [(r[0], r[1]) for r in cur.execute("DESCRIBE _stage").fetchall()], said


def _price_calls(cur, pricing: Pricing) -> None:
    """Each model call the export gives no cost priced at its own model, before a trace sums
    them (a trace priced as a whole would take its first call's model for every call)."""
    pricing.register(cur, "_spans", "model")
    cached = [f"coalesce(s.{c}, 0)" for c in ("cache_read_tokens", "cache_write_tokens")]
    priced = cost_sql("s.input_tokens", "s.output_tokens", *cached)
    cur.execute(f"UPDATE _spans s SET cost = {priced} FROM _prices p "
                "WHERE p.model = s.model AND s.is_call AND s.cost IS NULL")
    cur.execute("DROP TABLE _prices")


JSON_ERROR = "__json_error"  # why a JSON Lines line is not a row
BROKEN = "__broken"  # whether a checked row breaks a rule (its reason is built only if so)
JSON_LINE = "__line"  # the line as it was, kept when the row is rejected


def _json_path(key: str) -> str:
    """The JSON path of one member of an object, whatever characters its key holds."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _csv_row_numbers(cur) -> str:
    """The data row number (1 = the row after the header) of each row the CSV reader kept: its
    position among kept rows, shifted past the malformed rows before it."""
    first = "(_raw.rowid - (SELECT min(rowid) FROM _raw))"
    cur.execute("CREATE OR REPLACE TEMP TABLE _csv_gaps AS SELECT row_number - "
                "row_number() OVER (ORDER BY row_number) AS kept_before FROM "
                "(SELECT DISTINCT line - 1 AS row_number FROM _csv_errors)")
    if not cur.execute("SELECT count(*) FROM _csv_gaps").fetchone()[0]:
        return f"{first} + 1"
    return f"{first} + 1 + (SELECT count(*) FROM _csv_gaps WHERE kept_before <= {first})"


def _structural_rejects(fmt: str) -> str | None:
    """SQL selecting (row_number, reason, raw) for rows the reader could not parse, if any: one
    row each, with every reason the reader gave and the line as it was."""
    if fmt != "csv":
        return None
    return ("SELECT line - 1 AS row_number, string_agg(DISTINCT 'row has ' || "
            "lower(replace(error_type, '_', ' ')) || ': ' || error_message, '; ') AS reason, "
            "any_value(csv_line) AS raw FROM _csv_errors GROUP BY line")


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
    src, dtype = identifier(source), columns[source].upper()
    base = dtype.split("(")[0]
    if col.kind == "float" and base in NUMERIC:
        # NaN is missing; infinities stay, to be rejected. (Not `NOT isnan(x)`: on a DOUBLE
        # read from Parquet, DuckDB 2.0.1 evaluates it as true for NaN in some plans.)
        number = f"CAST({src} AS DOUBLE)"
        return f"CASE WHEN isfinite({number}) OR isinf({number}) THEN {number} END"
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
        return literal(cmap.constants[col.name])
    source = cmap.columns.get(col.name, col.name)
    if source not in columns:
        if col.name in cmap.columns:
            raise BadInput(
                f"The map takes {col.name} from a column '{source}' that the file does not have."
            )
        return "NULL"
    expr = f"trim(CAST({identifier(source)} AS VARCHAR))"
    if col.name in cmap.values and cmap.values[col.name]:
        cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}"
                         for k, v in cmap.values[col.name].items())
        expr = f"(CASE {expr} {cases} ELSE {expr} END)"
    if col.kind in ("float", "int"):
        nan = literal_list(NAN_WORDS)  # NaN is missing
        expr = f"(CASE WHEN lower({expr}) NOT IN {nan} THEN {expr} END)"
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
        return (f"CASE WHEN lower({raw}) IN {literal_list(TRUE_WORDS)} THEN true "
                f"WHEN lower({raw}) IN {literal_list(FALSE_WORDS)} THEN false END")
    if col.kind == "timestamp":
        return f"timezone('UTC', TRY_CAST({raw} AS TIMESTAMPTZ))"
    raise ValueError(col.kind)


def _rule_checks(col: Column, typed: bool, limits: IngestLimits) -> list[tuple[str, str]]:
    """(condition that breaks the rule, reason) pairs over `r_<name>` raw and `v_<name>` value;
    a `typed` source column needs no parsing checks."""
    raw, val, name = f"r_{col.name}", f"v_{col.name}", col.name
    checks: list[tuple[str, str]] = []
    if col.required:
        checks.append((f"{raw} IS NULL", literal(f"{name} is missing")))
    if col.kind == "text":
        checks.append((f"strlen({raw}) > {col.max_length} AND length({raw}) > {col.max_length}",
                       literal(f"{name} is longer than {col.max_length:,} characters")))

    def value_is(words: str) -> str:
        """The reason: the column, the value as read (cut to 40 characters), then `words`."""
        return (f"{literal(name + ' ' + QUOTE)} || left(CAST({raw} AS VARCHAR), 40) || "
                f"{literal(QUOTE + ' ' + words)}")

    if col.kind == "choice":
        checks.append((f"{raw} IS NOT NULL AND {val} NOT IN {literal_list(col.choices)}",
                       value_is(f"is not one of {', '.join(col.choices)}")))
    elif col.kind in ("float", "int"):
        what = "a whole number" if col.kind == "int" else "a number"
        bad_number = f"{val} IS NULL"
        if col.kind == "int" and not typed:
            bad_number += f" OR TRY_CAST({raw} AS DECIMAL(38, 6)) <> {val}"
        checks.append((f"{raw} IS NOT NULL AND ({bad_number} OR NOT isfinite({val}::DOUBLE))",
                       value_is(f"is not {what}")))
        if col.non_negative:
            checks.append((f"{val} < 0", value_is("is negative")))
        if col.unit_interval:
            checks.append((f"{val} < 0 OR {val} > 1", value_is("is outside [0, 1]")))
    elif col.kind == "bool" and not typed:
        checks.append((f"{raw} IS NOT NULL AND {val} IS NULL",
                       value_is("is not true/false, 1/0 or yes/no")))
    elif col.kind == "timestamp":
        if not typed:
            checks.append((f"{raw} IS NOT NULL AND {val} IS NULL",
                           value_is("is not an ISO 8601 time")))
        earliest, latest = limits.bounds()
        hours = limits.future_tolerance.total_seconds() / 3600
        checks.append((f"{val} > TIMESTAMP {literal(latest.isoformat(sep=' '))}",
                       value_is(f"is more than {hours:g} hours after the time of loading "
                                "(a wrong clock?)")))
        checks.append((f"{val} < TIMESTAMP {literal(earliest.isoformat(sep=' '))}",
                       value_is(f"is before {earliest.date().isoformat()} (a wrong clock?)")))
    return checks


CROSS_CHECKS = {
    "events": [
        ("v_outcome_at < v_timestamp", literal("outcome_at is before timestamp")),
    ],
    "incidents": [
        ("v_detected_at < v_started_at", literal("detected_at is before started_at")),
        ("v_resolved_at < v_detected_at", literal("resolved_at is before detected_at")),
    ],
}


def _source_columns(columns: dict[str, str]) -> list[str]:
    return [c for c in columns if c not in (JSON_ERROR, JSON_LINE, CACHE_READ, CACHE_WRITE)]


def _text_source(col: Column, columns: dict[str, str], cmap: ColumnMap,
                 privacy: Privacy | None) -> str:
    """A column's raw value from the file as it may be stored: masked or hashed where the
    privacy rules say so."""
    expr = _source_expr(col, columns, cmap)
    return privacy.protect(col.name, expr) if privacy and col.kind == "text" else expr


def _checked_sql(kind: Kind, columns: dict[str, str], cmap: ColumnMap,
                 limits: IngestLimits, privacy: Privacy | None = None) -> str:
    """SQL over `_stage` giving row number, typed values and a reason (NULL when valid)."""
    typed = {c.name: e for c in kind.columns if (e := _typed_source(c, columns, cmap))}
    raws = [f"{typed.get(c.name) or _text_source(c, columns, cmap, privacy)} AS r_{c.name}"
            for c in kind.columns]
    vals = [f"{'r_' + c.name if c.name in typed else _typed_expr(c, 'r_' + c.name)} AS v_{c.name}"
            for c in kind.columns]
    checks = [chk for c in kind.columns for chk in _rule_checks(c, c.name in typed, limits)]
    checks += CROSS_CHECKS.get(kind.name, [])
    reasons = ", ".join(f"CASE WHEN {cond} THEN {reason} END" for cond, reason in checks)
    reason = f"NULLIF(concat_ws('; ', {reasons}), '')"
    if JSON_ERROR in columns:  # a line that is not a record has that reason alone
        checks.insert(0, (f"{JSON_ERROR} IS NOT NULL", JSON_ERROR))
        reason = f"coalesce({JSON_ERROR}, {reason})"
    broken = " OR ".join(f"({cond})" for cond, _ in checks)  # a NULL condition breaks nothing
    extra = f", {JSON_ERROR}" if JSON_ERROR in columns else ""
    carried = "".join(f", {identifier(c)}" for c in (CACHE_READ, CACHE_WRITE) if c in columns)
    sources = "".join(f", {c}" for c in _source_names(columns)) + carried
    # Each level computes what the next reads, once: raw values, then typed values (a value
    # named in the same list is computed again in every rule that reads it: counting the
    # broken rows of 1M rows of text took 2.75 s that way, 2.05 s this way), then whether a
    # row breaks a rule. The reason's text is built only for rows that do; the source values
    # as they were are read only by the statements that keep rejected rows.
    # `random() < 0` is never true; being volatile, it keeps the engine from pushing a filter
    # on the broken flag down through the levels, where it would compute every typed value
    # again inside the filter (1M rows of text, every valid value: 2.57 s to 1.47 s; Parquet
    # unchanged). A filter on the row number is still pushed down.
    names = [f"v_{c.name}" for c in kind.columns]
    return (f"SELECT {ROW}, {', '.join(names)}, {BROKEN}, CASE WHEN {BROKEN} THEN {reason} END "
            f"AS reason{sources} FROM (SELECT *, coalesce({broken}, false) OR random() < 0 "
            f"AS {BROKEN} FROM "
            f"(SELECT *, {', '.join(vals)} FROM (SELECT {ROW}{extra}, {', '.join(raws)}"
            f"{_source_columns_sql(columns)}{carried} FROM _stage)))")


def _source_names(columns: dict[str, str]) -> list[str]:
    """The names under which `_checked` carries each row's source values as they were."""
    if JSON_LINE in columns:  # a JSON Lines line is kept as it was
        return [JSON_LINE]
    return [identifier(SOURCE + c) for c in _source_columns(columns)]


def _source_columns_sql(columns: dict[str, str]) -> str:
    """The select-list items over `_stage` that give those names."""
    if JSON_LINE in columns:
        return f", {JSON_LINE}"
    return "".join(f", {identifier(c)} AS {identifier(SOURCE + c)}"
                   for c in _source_columns(columns))


# -- the load --------------------------------------------------------------------------------


def _open_source(path: Path, fmt: str, gz: bool, workdir: Path, display_name: str,
                 max_bytes: int | None) -> Path:
    """A gzipped file unpacked to a temporary file, stopping at `max_bytes`: a few megabytes
    of gzip can expand to gigabytes. Unpacked, DuckDB also reads a CSV in parallel."""
    if not gz:
        return path
    target = workdir / (path.name[:-3] if path.name.lower().endswith(".gz") else path.name)
    written = 0
    try:
        with gzip.open(path, "rb") as src, target.open("wb") as dst:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if max_bytes is not None and written > max_bytes:
                    raise BadInput(
                        f"{display_name} expands to more than {max_bytes / 1e9:g} GB when "
                        "unzipped; raise max_decompressed_gb in store.yaml to load it.")
                dst.write(chunk)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInput(f"{display_name} could not be read as its extension says (not a readable "
                       f"gzip file: {exc}).") from None
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
    limits: IngestLimits | None = None,
    actor: str | None = None,
    via: str = "cli",
    display_name: str | None = None,
    progress: Progress | None = None,
    source_format: str = "auto",
    import_options: ImportOptions | None = None,
    privacy: Privacy | None = None,
) -> IngestResult:
    """Validate and load one file in one transaction; raise BadInput (storing nothing) if unusable.
    `source_format` is `contract`, an observability tool's export (formats.READERS) or `auto`
    (decided from the content); `import_options` tell an export's reader what to count;
    `privacy` masks personal data in SQL before anything is stored."""
    privacy = privacy if privacy is not None and privacy.active else None
    path = Path(path)
    name = display_name or path.name
    kind_spec = KINDS[kind]
    cmap = cmap or ColumnMap()
    limits = limits or IngestLimits()
    actor = actor or whoami()
    ingest_id = uuid.uuid4().hex
    step = progress or (lambda fraction, text: None)
    fingerprint: Future | None = None  # size and sha256 for the log, read beside the load
    try:
        if not path.is_file():
            raise BadInput(f"{name} does not exist or is not a file.")
        fingerprint = _hasher.submit(file_fingerprint, path)  # 3.4 GB: about 2 s
        cmap.check_against(kind)
        in_place = store.events_in_place if kind == "events" else None
        if in_place is not None:
            raise BadInput(f"This store reads its events in place from "
                           f"{in_place.source.split()[0]}; load them into that tool, and they "
                           "are scored from there.")
        fmt, gz = detect_format(Path(name))
        if path.stat().st_size == 0:
            raise BadInput(f"{name} is empty.")
        step(0.1, "Reading the file")
        with tempfile.TemporaryDirectory() as tmp, room_for(store, Path(tmp)) as room:
            cur = room.cur
            source = _open_source(path, fmt, gz, Path(tmp), name, limits.max_decompressed_bytes)
            export = _export_format(source, fmt, source_format, kind, name)
            try:
                said = ""
                if export:
                    staged, said = _stage_export(cur, source, fmt, export,
                                                 import_options or ImportOptions(), cmap, name,
                                                 pricing)
                    columns = dict(staged)
                else:
                    columns = dict(_stage(cur, source, fmt, Path(tmp)))
            except duckdb.OutOfMemoryException:
                raise
            except duckdb.Error as exc:
                raise _reader_error(Path(name), exc) from None
            columns.pop(ROW, None)
            missing = cmap.missing_required(kind, columns)
            if missing:
                raise BadInput(
                    f"{name} has no {', '.join(missing)} column"
                    f"{'s' if len(missing) > 1 else ''} (it has: "
                    f"{', '.join(_source_columns(columns)) or 'none'}); "
                    "map one of its columns onto each (a map file given with --map, or the "
                    "column mapper on the Upload page)."
                )
            result = _load(room, kind_spec, columns, cmap, pricing, limits, ingest_id, name,
                           export or fmt, step, privacy)
            result.said = said
            if fmt == "jsonl" and not export:
                _restore_json_lines(cur, source, Path(tmp), ingest_id, columns, cmap, privacy)
            if export:
                formats.fill_raw(cur, export, source, ingest_id)
                if privacy:  # a rejected span read back from the file is masked too
                    cur.execute(f"UPDATE rejected_rows SET raw = {privacy.masked('raw')} "
                                "WHERE ingest_id = ?", [ingest_id])
            step(0.9, "Recording the upload")
            _log(cur, ingest_id, actor, via, kind, name, *fingerprint.result(), result, "ok",
                 None)
            room.send(ingest_id)
        step(1.0, "Done")
        return result
    except BadInput as exc:
        _log_failure(store, ingest_id, actor, via, kind, name, fingerprint, str(exc))
        raise
    except duckdb.OutOfMemoryException:
        message = (f"{name} needed more memory than this process may use; raise memory_limit "
                   "(upload_memory_limit for uploads from the web) in store.yaml, or load it "
                   "with `scorecard ingest`.")
        _log_failure(store, ingest_id, actor, via, kind, name, fingerprint, message)
        raise ScorecardError(message) from None
    except duckdb.Error as exc:
        message = f"{name} could not be stored: {str(exc).splitlines()[0]}"
        _log_failure(store, ingest_id, actor, via, kind, name, fingerprint, message)
        raise ScorecardError(message) from None


def _differences(kind: Kind, earlier: Callable[[str], str]) -> str:
    """SQL naming, comma-separated, the columns where an earlier row (`earlier(column)` gives
    its SQL) and the incoming row `c` differ ('' when they are the same row). A cost the file
    leaves out is not compared: it may have been priced from tokens when it was stored."""
    parts = []
    for col in kind.columns:
        if col.name in kind.identity:
            continue
        theirs, ours = earlier(col.name), f"c.v_{col.name}"
        differs = f"{theirs} IS DISTINCT FROM {ours}"
        if col.name == "cost_usd":
            differs = f"{ours} IS NOT NULL AND {differs}"
        parts.append(f"CASE WHEN {differs} THEN {literal(col.name)} END")
    return f"concat_ws(', ', {', '.join(parts)})"


def _identity_words(kind: Kind, alias: str) -> str:
    """SQL text naming a row by its identity: system 'a' event_id 'b'."""
    return " || ' ' || ".join(f"{literal(c + ' ' + QUOTE)} || {alias}.v_{c} || {literal(QUOTE)}"
                              for c in kind.identity)


def _find_repeats(cur, kind: Kind, stored_rows: int, raw_identity: str) -> int:
    """Fill `_skips` (row number, conflict reason or NULL for a duplicate) with the valid rows
    whose identity is already stored, or appears earlier in the file; return how many.
    `raw_identity` is SQL over `_stage` for the identity columns as the rules read them."""
    ident = ", ".join(f"v_{c}" for c in kind.identity)
    picked = ", ".join([f"c.{ROW}", *(f"c.v_{c}" for c in kind.identity)])

    def same(a: str, b: str) -> str:
        return " AND ".join(f"{a}.v_{c} = {b}.v_{c}" for c in kind.identity)

    named = _identity_words(kind, "c")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _skips ({ROW} BIGINT, conflict VARCHAR)")
    if stored_rows:
        stored_on = " AND ".join(f"t.{identifier(c)} = c.v_{c}" for c in kind.identity)
        differs = _differences(kind, lambda col: f"t.{identifier(col)}")
        cur.execute(
            f"INSERT INTO _skips SELECT {ROW}, CASE WHEN differs <> '' THEN {named} || ' is "
            f"already stored with other values (' || differs || ')' END FROM (SELECT {picked}, "
            f"{differs} AS differs FROM _checked c JOIN {kind.table} t "
            f"ON {stored_on} WHERE NOT c.{BROKEN}) c")
    # identities repeated within the file: the first valid row counts (usually there are none).
    # A 64-bit hash of each row's identity, read straight from the file, is sorted first and
    # compared with its neighbour: far cheaper than checking every rule and grouping the text,
    # and than grouping the hashes (50M rows: 3.8 s against 7.3 s). Only the rows whose hash
    # repeats are then checked and grouped exactly, so a hash collision changes nothing.
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _candidates AS SELECT DISTINCT h FROM (SELECT "
                f"h, lag(h) OVER (ORDER BY h) AS before FROM (SELECT hash({raw_identity}) AS h "
                f"FROM _stage)) WHERE h = before")
    typed = ", ".join(f"v_{c} VARCHAR" for c in kind.identity)  # identities are text
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _repeats ({typed}, keep BIGINT)")
    if cur.execute("SELECT count(*) FROM _candidates").fetchone()[0]:
        cur.execute(f"INSERT INTO _repeats SELECT {ident}, min({ROW}) AS keep FROM _checked "
                    f"WHERE hash({ident}) IN (SELECT h FROM _candidates) AND NOT {BROKEN} "
                    f"GROUP BY ALL HAVING count(*) > 1")
    if cur.execute("SELECT count(*) FROM _repeats").fetchone()[0]:
        differs = _differences(kind, lambda col: f"k.v_{col}")
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _repeated AS SELECT c.* FROM _checked c "
                    f"SEMI JOIN _repeats r ON {same('c', 'r')} WHERE NOT c.{BROKEN}")
        cur.execute(
            f"INSERT INTO _skips SELECT {ROW}, CASE WHEN differs <> '' THEN {named} || "
            f"' appears earlier in this file (row ' || keep || ') with other values (' || "
            f"differs || ')' END FROM (SELECT {picked}, r.keep, {differs} "
            f"AS differs FROM _repeated c JOIN _repeats r ON {same('c', 'r')} "
            f"JOIN _repeated k ON k.{ROW} = r.keep WHERE c.{ROW} <> r.keep) c "
            f"WHERE {ROW} NOT IN (SELECT {ROW} FROM _skips)")
    return cur.execute("SELECT count(*) FROM _skips").fetchone()[0]


def _load(room, kind: Kind, columns: dict[str, str], cmap: ColumnMap, pricing: Pricing | None,
          limits: IngestLimits, ingest_id: str, name: str, fmt: str,
          step: Progress, privacy: Privacy | None = None) -> IngestResult:
    """Stream the checked rows into the store, without materialising them: one pass finds
    identities already stored or repeated in the file, one inserts the valid new rows, one keeps
    the rejected and conflicting ones with their reasons."""
    cur = room.cur
    masked, storing = None, None
    if privacy:
        privacy.prepare(cur)
        step(0.2, "Looking for personal data to mask")
        changed = _masked_counts(cur, kind, columns, cmap, privacy)
        masked = sum(changed.values())
        storing = privacy.only_in([c for c, n in changed.items() if n])
    # every rule as SQL over the file; the passes below ask it only for what they need (the
    # time order reads one column), and the insert checks every rule as it stores the rows
    cur.execute("CREATE OR REPLACE TEMP VIEW _checked AS "
                f"{_checked_sql(kind, columns, cmap, limits, storing)}")
    rows_read = cur.execute("SELECT count(*) FROM _stage").fetchone()[0]

    values = {c.name: f"v_{c.name}" for c in kind.columns}
    price_join = ""
    if kind.name == "events" and pricing is not None:
        price_join = pricing.register(cur, "_checked", "v_model")
        cached = {c: f"coalesce(c.{identifier(c)}, 0)" if c in columns else "0"
                  for c in (CACHE_READ, CACHE_WRITE)}
        priced = cost_sql("v_input_tokens", "v_output_tokens", cached[CACHE_READ],
                          cached[CACHE_WRITE])
        values["cost_usd"] = f"coalesce(v_cost_usd, {priced})"
    select = ", ".join(f"{expr} AS {identifier(col)}" for col, expr in values.items())
    step(0.3, "Checking every row against the contract and the stored rows")
    identities = ", ".join(f"v_{c} AS {c}" for c in kind.identity)
    room.bring_stored_twins(kind, f"SELECT DISTINCT {identities} FROM _checked WHERE NOT {BROKEN}")
    stored = cur.execute(f"SELECT count(*) FROM {kind.table}").fetchone()[0]
    by_name = {c.name: c for c in kind.columns}
    raw_identity = ", ".join(_source_expr(by_name[c], columns, cmap) for c in kind.identity)
    skips = _find_repeats(cur, kind, stored, raw_identity)
    skip = f" AND NOT EXISTS (SELECT 1 FROM _skips s WHERE s.{ROW} = c.{ROW})" if skips else ""
    step(0.5, "Storing the valid rows")
    names = ", ".join(identifier(c) for c in [*values, INGEST_ID])
    insert = (f"INSERT INTO {kind.table} ({names}) SELECT {select}, ? FROM _checked c "
              f"{price_join} WHERE NOT c.{BROKEN}{skip}")
    time_column = f"v_{kind.order_by}"
    if _out_of_order(cur, time_column):
        # A file out of time order is stored sorted by day, in runs of SORT_RUN_ROWS file rows:
        # every window starts and ends on a day, so day order keeps windows pruning row groups
        # as well as time order would and sorts faster, and runs sort in memory where one sort
        # of a large file spills to disk (50M events: 49 s against 68 s).
        last = cur.execute(f"SELECT max({ROW}) FROM _stage").fetchone()[0]
        inserted = 0
        for first in range(1, last + 1, SORT_RUN_ROWS):
            inserted += cur.execute(
                f"{insert} AND c.{ROW} BETWEEN ? AND ? ORDER BY CAST({time_column} AS DATE)",
                [ingest_id, first, first + SORT_RUN_ROWS - 1]).fetchone()[0]
            done = min(first + SORT_RUN_ROWS - 1, last)
            step(0.5 + 0.3 * done / last, f"Storing the valid rows ({done:,} of {last:,})")
    else:
        inserted = cur.execute(insert, [ingest_id]).fetchone()[0]

    raw = _raw_value(columns, cmap, privacy)
    reason = privacy.masked("c.reason") if privacy else "c.reason"
    step(0.8, "Keeping the rejected rows with their reasons")
    rejected = 0
    if rows_read - inserted - skips:  # some rows broke a rule: check again to keep them
        rejected = cur.execute(
            f"INSERT INTO rejected_rows SELECT ?, ?, ?, c.{ROW}, {reason}, {raw} FROM _checked "
            f"c WHERE c.{BROKEN}",
            [ingest_id, kind.name, name],
        ).fetchone()[0]
    conflicts = 0
    if skips:
        conflicts = cur.execute(
            f"INSERT INTO rejected_rows SELECT ?, ?, ?, c.{ROW}, s.conflict, {raw} FROM "
            f"_checked c JOIN _skips s ON s.{ROW} = c.{ROW} "
            f"WHERE s.conflict IS NOT NULL ORDER BY c.{ROW}",
            [ingest_id, kind.name, name],
        ).fetchone()[0]
    structural = _structural_rejects(fmt)
    if structural:
        text = ((privacy.masked("reason"), privacy.masked("raw")) if privacy
                else ("reason", "raw"))
        extra = cur.execute(
            f"INSERT INTO rejected_rows SELECT ?, ?, ?, row_number, {text[0]}, {text[1]} "
            f"FROM ({structural})",
            [ingest_id, kind.name, name],
        ).fetchone()[0]
        rows_read += extra
        rejected += extra
    for view in ("_checked", "_stage"):
        cur.execute(f"DROP VIEW IF EXISTS {view}")
    for table in ("_candidates", "_skips", "_repeats", "_repeated", "_raw", "_json", "_prices",
                  "_csv_errors", "_csv_scans", "_csv_gaps", "_export", "_spans", "_evals"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return IngestResult(name, rows_read, inserted, rows_read - rejected - conflicts - inserted,
                        conflicts, rejected, ingest_id, masked)


MASK_SAMPLE_ROWS = 100_000  # rows looked at to tell a column of few values from one of many


def _masked_counts(cur, kind: Kind, columns: dict[str, str], cmap: ColumnMap,
                   privacy: Privacy) -> dict[str, int]:
    """How many of each text column's values the privacy rules change, read before anything is
    stored. A column where they change nothing is stored as it was read, so the patterns run
    over the file once, not twice (5M events, the shipped rules, no personal data: 6 s to 1 s).
    A column whose first rows hold few distinct values (a segment, a team) is counted per
    distinct value, the patterns run once per value (5M rows of a 6-value column: 0.18 s to
    0.03 s); a column of many (an input reference) is tested value by value."""
    exprs = {c.name: e for c in kind.columns if c.kind == "text"
             and (e := _source_expr(c, columns, cmap)) != "NULL"
             and (c.name in privacy.hash or c.name in privacy.columns)}
    if not exprs:
        return {}

    def changed(name: str, value: str) -> str:
        return f"({privacy.protect(name, value)}) IS DISTINCT FROM {value}"

    distinct = cur.execute(
        f"SELECT {', '.join(f'approx_count_distinct({e})' for e in exprs.values())}, count(*) "
        f"FROM (SELECT * FROM _stage LIMIT {MASK_SAMPLE_ROWS})").fetchone()
    few = {name for name, n in zip(exprs, distinct) if n * 10 <= distinct[-1]}
    counts = {name: cur.execute(
        f"SELECT coalesce(sum(n) FILTER (WHERE {changed(name, 'v')}), 0) FROM "
        f"(SELECT {exprs[name]} AS v, count(*) AS n FROM _stage GROUP BY ALL)").fetchone()[0]
        for name in few}
    many = [name for name in exprs if name not in few]
    if many:
        row = cur.execute(f"SELECT {', '.join(f'count_if({changed(n, exprs[n])})' for n in many)} "
                          "FROM _stage").fetchone()
        counts.update(zip(many, row))
    return {name: int(counts[name]) for name in exprs}


def _raw_value(columns: dict[str, str], cmap: ColumnMap | None = None,
               privacy: Privacy | None = None) -> str:
    """SQL for a rejected row as it was: a JSON Lines line verbatim, else its source columns as
    a JSON object; with privacy rules, hashed columns hashed and every text value masked. A row
    is tested once for any pattern over all its text values and masked value by value only
    when something matched (5M rejected events, the shipped rules: 35 s to 4 s)."""
    hashed = {(cmap or ColumnMap()).columns.get(c, c) for c in (privacy.hash if privacy else [])}
    if JSON_LINE in columns:
        line = JSON_LINE
        for key in sorted(hashed):  # hashed in a record; in a broken line, redacted
            path = literal(f'$."{key}"')
            field = literal(f'"{re.escape(key)}"' + r'\s*:\s*"(?:[^"\\]|\\.)*"')
            redacted = literal(json.dumps(key) + ': "[redacted]"')
            line = (f"CASE WHEN json_valid({line}) AND json_exists({line}, {path}) THEN "
                    f"CAST(json_merge_patch({line}, json_object({literal(key)}, "
                    f"{privacy.hashed(f'json_extract_string({line}, {path})')})) AS VARCHAR) "
                    f"WHEN NOT json_valid({line}) THEN regexp_replace({line}, {field}, "
                    f"{redacted}, 'g') ELSE {line} END")
        return privacy.masked(line) if privacy else line

    names = _source_columns(columns)
    if not names:
        return "NULL"
    if not privacy:
        return _as_json({c: identifier(SOURCE + c) for c in names})
    text = {c: f"CAST({identifier(SOURCE + c)} AS VARCHAR)" for c in names}
    kept = {c: privacy.hashed(text[c]) if c in hashed else identifier(SOURCE + c)
            for c in names}  # typed times, measures and flags, as read: no text to mask
    screened = [c for c in names if c not in hashed and not _read_as_measure(columns[c])]
    masked = _as_json(kept | {c: privacy.masked(text[c]) for c in screened})
    any_personal = privacy.any_matches([text[c] for c in screened])
    if any_personal is None:
        return masked
    as_read = _as_json(kept | {c: text[c] for c in screened})
    return f"CASE WHEN {any_personal} THEN {masked} ELSE {as_read} END"


def _as_json(values: dict[str, str]) -> str:
    """SQL: a JSON object of the named values."""
    packed = ", ".join(f"{identifier(c)} := {v}" for c, v in values.items())
    return f"to_json(struct_pack({packed}))"


def _read_as_measure(dtype: str) -> bool:
    """Whether the reader typed a column as a time, a date, a flag or a number: its values are
    no free text, so the privacy patterns skip them (as text, a time reads as a phone number to
    them: '2026-01-01 10:00' would be kept as '2026-[phone]:00')."""
    return dtype.upper().split("(")[0] in NUMERIC + TIMESTAMPS + (
        "TIMESTAMP WITH TIME ZONE", "DATE", "BOOLEAN")


def _out_of_order(cur, time_column: str) -> bool:
    """Whether the file's rows overlap in time from one row group to the next. Stored in file
    order, a file in time order keeps time windows pruning; any other file is sorted by day."""
    return cur.execute(
        f"SELECT count(*) FROM (SELECT lo, lag(hi) OVER (ORDER BY chunk) AS before FROM "
        f"(SELECT {ROW} // {CHUNK_ROWS} AS chunk, min({time_column}) AS lo, "
        f"max({time_column}) AS hi FROM _checked GROUP BY chunk)) WHERE lo < before"
    ).fetchone()[0] > 0


def whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _log(cur, ingest_id, actor, via, kind, name, size, sha, result, status, message) -> None:
    counts = ([result.rows_read, result.inserted, result.duplicates, result.conflicts,
               result.rejected] if result else [None] * 5)
    cur.execute(
        "INSERT INTO ingest_log (ingest_id, recorded_at, actor, via, kind, file, size_bytes, "
        "sha256, rows_read, inserted, duplicates, conflicts, rejected, status, message) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ingest_id, datetime.now(timezone.utc).replace(tzinfo=None), actor, via, kind, name, size,
         sha, *counts, status, message],
    )


def _log_failure(store, ingest_id, actor, via, kind, name, fingerprint: Future | None,
                 message) -> None:
    """Record a refused file in the ingest log (its rows are not stored); `fingerprint` is
    None when there was no file to read."""
    try:
        size, sha = fingerprint.result() if fingerprint is not None else (None, None)
    except OSError:  # the file went away while it was read
        size, sha = None, None
    try:
        with store.transaction(changes_data=False) as cur:
            _log(cur, ingest_id, actor, via, kind, name, size, sha, None, "failed", message)
    except duckdb.Error:
        pass
