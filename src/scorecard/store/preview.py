"""A first look at an extract before it is loaded: its columns and first rows, and the saved
map files that fit it."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import BadInput
from .ingest import IngestLimits, _literal, _open_source, _reader_error, detect_format
from ..settings import write_private
from .mapping import ColumnMap, load_map
from .schema import KINDS


def preview_file(path: Path, display_name: str, rows: int = 20) -> tuple[list[str], pd.DataFrame]:
    """The file's columns and first rows, read by DuckDB in memory (the store is not touched)."""
    fmt, gz = detect_format(Path(display_name))
    readers = {
        "csv": "read_csv({src}, all_varchar=true, header=true, ignore_errors=true)",
        "parquet": "read_parquet({src})",
        "jsonl": "read_json({src}, format='newline_delimited', ignore_errors=true)",
    }
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect() as con:
        # DuckDB reads the first rows of a gzipped CSV or JSON Lines file without unpacking
        # the rest; Parquet has to be unpacked, up to the usual limit
        source = (_open_source(Path(path), fmt, gz, Path(tmp), display_name,
                               IngestLimits().max_decompressed_bytes)
                  if fmt == "parquet" else Path(path))
        sql = f"SELECT * FROM {readers[fmt].format(src=_literal(str(source)))} LIMIT {int(rows)}"
        try:
            frame = con.execute(sql).df()
        except duckdb.Error as exc:
            raise _reader_error(Path(display_name), exc) from None
    return [str(c) for c in frame.columns], frame.astype("string")


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
