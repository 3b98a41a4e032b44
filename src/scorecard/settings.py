"""Where things live (the store, the config directory) and how the project reads its YAML files:
safely, without aliases, and with a plain sentence naming the file and line when one is wrong."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from .errors import BadInput

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_DB = PROJECT_ROOT / "var" / "scorecard.duckdb"
DEFAULT_CHDB = PROJECT_ROOT / "var" / "ch"  # the demo on embedded ClickHouse: chdb://var/ch


def config_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The config directory: the argument, else $SCORECARD_CONFIG, else the project's `config/`."""
    return Path(explicit or os.environ.get("SCORECARD_CONFIG") or DEFAULT_CONFIG_DIR)


def store_address(explicit: str | os.PathLike | None = None) -> str:
    """The store: the argument, else $SCORECARD_DB, else the embedded default store. A DuckDB
    file's path, or a ClickHouse address (chdb://DIR, clickhouse://USER@HOST:PORT/DATABASE)."""
    return str(explicit or os.environ.get("SCORECARD_DB") or DEFAULT_DB)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser, when installed


def parse_yaml(text: str, source: str = "The YAML text"):
    """YAML text as Python data, loaded safely. Aliases are refused: nested ones expand into
    gigabytes from a few hundred bytes, and no file of this project needs them."""
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise BadInput(f"{source} uses a YAML alias (*{event.anchor}) at line "
                               f"{event.start_mark.line + 1}; write the values out instead.")
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it cannot be parsed"
        raise BadInput(f"{source} is not valid YAML{where}: {problem}.") from None


def read_yaml(path: Path, what: str = "file") -> dict:
    """A YAML mapping from a file, or {} when the file is absent or empty; BadInput naming the
    file (and line) when it cannot be read, is not YAML or is not a mapping."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "it is not UTF-8 text"
        raise BadInput(f"The {what} {path} could not be read ({reason}).") from None
    data = parse_yaml(text, f"The {what} {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"The {what} {path} must hold named sections (a YAML mapping) at line 1.")
    return data


def line_of(path: Path, location: tuple) -> int | None:
    """The line (1-based) where a key path such as ('defaults', 'success_rate', 'target') sits
    in a YAML file, as far as the path exists; None when the file cannot say."""
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for key in location:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) \
                and 0 <= key < len(node.value):
            match = (node.value[key], node.value[key])
        else:
            match = None
        if match is None:
            break
        line, node = match[0].start_mark.line + 1, match[1]
    return line if line is not None else (node.start_mark.line + 1 if node is not None else None)


def write_private(path: Path, text: str) -> None:
    """Write a file atomically, readable by its owner only (users, secrets, maps)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def machine_memory() -> int:
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _bytes(value, what: str) -> int:
    """'3GB', '512MB', '2GiB' or a number of bytes, as bytes."""
    text = str(value).strip().upper().replace(" ", "")
    units = {"TIB": 2**40, "GIB": 2**30, "MIB": 2**20, "KIB": 2**10, "TB": 10**12, "GB": 10**9,
             "MB": 10**6, "KB": 10**3, "B": 1}
    for unit, factor in units.items():
        if text.endswith(unit):
            try:
                return int(float(text[: -len(unit)]) * factor)
            except ValueError:
                break
    try:
        return int(float(text))
    except ValueError:
        raise BadInput(f"store.yaml: {what} '{value}' is not an amount of memory such as "
                       "4GB.") from None


def engine_settings(cfg_dir: Path | None = None) -> dict:
    """DuckDB settings from `store.yaml` in the config directory: `memory_limit` (default a
    quarter of this machine's memory, so the web app, an ingest and an upload fit side by
    side) and `threads` (default every core)."""
    data = read_yaml(config_dir(cfg_dir) / "store.yaml", "store settings file")
    limit = data.get("memory_limit")
    amount = _bytes(limit, "memory_limit") if limit else machine_memory() // 4
    settings = {"memory_limit": f"{amount}B"}
    if data.get("threads"):
        settings["threads"] = data["threads"]
    return settings


def upload_memory_limit(cfg_dir: Path | None = None) -> int:
    """Bytes DuckDB may use for one upload from the web app (`upload_memory_limit` in
    store.yaml, default an eighth of this machine's memory)."""
    data = read_yaml(config_dir(cfg_dir) / "store.yaml", "store settings file")
    limit = data.get("upload_memory_limit")
    return _bytes(limit, "upload_memory_limit") if limit else machine_memory() // 8
