"""Where things live: the store, the config directory, and the engine settings read from config."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_DB = PROJECT_ROOT / "var" / "scorecard.duckdb"


def config_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The config directory: the argument, else $SCORECARD_CONFIG, else the project's `config/`."""
    return Path(explicit or os.environ.get("SCORECARD_CONFIG") or DEFAULT_CONFIG_DIR)


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """The store file: the argument, else $SCORECARD_DB, else the embedded default store."""
    return Path(explicit or os.environ.get("SCORECARD_DB") or DEFAULT_DB)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser, when installed


def parse_yaml(text: str):
    """YAML text as Python data, with safe loading (libyaml's fast parser when available)."""
    return yaml.load(text, Loader=_LOADER)


def read_yaml(path: Path) -> dict:
    """A YAML mapping from a file, or {} when the file is absent or empty."""
    if not path.exists():
        return {}
    return parse_yaml(path.read_text(encoding="utf-8")) or {}


def engine_settings(cfg_dir: Path | None = None) -> dict:
    """DuckDB settings (memory_limit, threads) from `store.yaml` in the config directory."""
    data = read_yaml(config_dir(cfg_dir) / "store.yaml")
    return {k: v for k, v in data.items() if k in ("memory_limit", "threads") and v}
