"""A first look at an extract before it is loaded: its columns and first rows, and the saved
map files that fit it."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb

from ..errors import BadInput
from ..sql import identifier, literal
from .ingest import (FALSE_WORDS, TRUE_WORDS, IngestLimits, _open_source,
                     _reader_error, detect_format)
from ..settings import write_private
from .mapping import ColumnMap, load_map
from . import lines
from .schema import KINDS, Column


READERS = {
    "csv": "read_csv({src}, all_varchar=true, header=true, ignore_errors=true{sized})",
    "parquet": "read_parquet({src})",
    "jsonl": "read_json({src}, format='newline_delimited', ignore_errors=true)",
}


def _reader(fmt: str, source: Path, packed: bool = False) -> str:
    """DuckDB's reader of the file. A plain CSV file's line may be as long as a load allows
    (when it has long lines); a gzipped one's keeps DuckDB's default, as its read buffer is 16
    times the longest line."""
    sized = "" if packed else lines.csv_line_room(source)
    return READERS[fmt].format(src=literal(str(source)), sized=sized)


CELL_CHARS = 200  # a longer preview cell is shown cut, ending in …
VALUE_CHARS = 200  # a longer text is no choice a map could translate


def _read(path: Path, display_name: str, query: str, params: list | None = None,
          memory_limit: int | None = None) -> tuple[list[str], list[tuple]]:
    """A query over the file (`{file}` in its text), its columns and rows, run by DuckDB in
    memory, within
    `memory_limit` bytes when given: the store is not touched. DuckDB reads the first rows of a
    gzipped CSV or JSON Lines file without unpacking the rest; Parquet has to be unpacked, up to
    the usual limit."""
    fmt, gz = detect_format(Path(display_name))
    config = {"memory_limit": f"{memory_limit}B"} if memory_limit else {}
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(config=config) as con:
        source = (_open_source(Path(path), fmt, gz, Path(tmp), display_name,
                               IngestLimits().max_decompressed_bytes)
                  if fmt == "parquet" else Path(path))
        try:
            try:
                found = con.execute(query.format(file=_reader(fmt, source, gz and fmt != "parquet")),
                                    params or [])
            except duckdb.InvalidInputException:
                if fmt != "csv":
                    raise
                # DuckDB's CSV reader wants one kind of line ending: a file mixing them is read
                # from a copy with LF alone (unpacked first when it is gzipped)
                plain = (_open_source(Path(path), fmt, gz, Path(tmp), display_name,
                                      IngestLimits().max_decompressed_bytes) if gz else source)
                if not lines.mixed_endings(plain):
                    raise
                source = lines.one_ending(plain, Path(tmp))
                found = con.execute(query.format(file=_reader(fmt, source)), params or [])
            return [str(d[0]) for d in found.description], found.fetchall()
        except duckdb.OutOfMemoryException:
            raise MemoryError from None
        except duckdb.Error as exc:
            raise _reader_error(Path(display_name), exc) from None


def preview_file(path: Path, display_name: str, rows: int = 20,
                 memory_limit: int | None = None) -> tuple[list[str], list[tuple]]:
    """The file's columns and first rows as text (None where empty), each cell cut to
    CELL_CHARS by the engine: a file of huge values previews as small as any other."""
    text = "CAST(COLUMNS(*) AS VARCHAR)"
    return _read(path, display_name,
                 f"SELECT CASE WHEN length({text}) > {CELL_CHARS} "
                 f"THEN left({text}, {CELL_CHARS}) || '…' ELSE {text} END "
                 "FROM (SELECT * FROM {file} LIMIT ?)", [int(rows)], memory_limit)


def known_values(col: Column) -> tuple[str, ...]:
    """The (lower-case) texts a choice or yes/no column takes as they are."""
    return col.choices if col.kind == "choice" else TRUE_WORDS + FALSE_WORDS


def unknown_values(path: Path, display_name: str, source: str, col: Column,
                   sample_rows: int = 100_000, limit: int = 20,
                   memory_limit: int | None = None) -> list[str]:
    """The values of a source column, among the file's first rows, that the contract column
    would not take as they are, most frequent first: the ones a map has to translate."""
    _, found = _read(
        path, display_name,
        f"SELECT v FROM (SELECT trim(CAST({identifier(source)} AS VARCHAR)) AS v FROM {{file}} "
        "LIMIT ?) WHERE v IS NOT NULL AND v <> '' AND length(v) <= ? "
        "AND NOT list_contains(?, lower(v)) GROUP BY v ORDER BY count(*) DESC, v LIMIT ?",
        [sample_rows, VALUE_CHARS, list(known_values(col)), limit], memory_limit)
    return [str(v) for (v,) in found]


def maps_dir(cfg_dir: Path) -> Path:
    return Path(cfg_dir) / "maps"


def saved_maps(cfg_dir: Path) -> dict[str, Path]:
    return {p.name.removesuffix(".map.yaml"): p
            for p in sorted(maps_dir(cfg_dir).glob("*.map.yaml"))}


def save_map(cfg_dir: Path, name: str, cmap: ColumnMap) -> Path:
    """Keep a map under the config directory so the next extract from the same tool needs none."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-.")
    if not slug:
        raise BadInput("Give the map a name made of letters or digits.")
    path = maps_dir(cfg_dir) / f"{slug}.map.yaml"
    write_private(path, cmap.to_yaml())
    return path


def best_map(cfg_dir: Path, columns: list[str], kind: str) -> str | None:
    """The saved map whose renamed columns all exist in this file and that covers the most of
    the contract's required columns; None if no saved map fits."""
    best, best_score = None, 0
    for name, path in saved_maps(cfg_dir).items():
        try:
            cmap = load_map(path)
        except BadInput:
            continue
        if not cmap.columns or any(src not in columns for src in cmap.columns.values()):
            continue
        score = len(KINDS[kind].required) - len(cmap.missing_required(kind, columns))
        if score > best_score:
            best, best_score = name, score
    return best
