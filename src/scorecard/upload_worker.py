"""Everything the web app does with an uploaded file (its first look, the values a map must
translate, an export's summary, the load) runs in a child process, so that no file can take the
web server's memory: the child has its own DuckDB memory limit and a cap on its address space.
If it runs out, it dies alone, a load's transaction is never committed, and the page says so.

The parent sends the job as JSON on standard input; the child answers with JSON lines:
`{"progress": 0.3, "text": "..."}` while it works and one `{"result": ...}` or
`{"error": "..."}` at the end.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from .errors import ScorecardError
from .settings import engine_settings, upload_memory_limit
from .store.ingest import IngestResult

HEADROOM = 2 << 30  # address space beyond DuckDB's limit: the interpreter, pandas, pyarrow


@dataclass(frozen=True)
class UploadJob:
    db: str
    config: str
    path: str
    display_name: str
    kind: str
    cmap: dict
    actor: str
    source_format: str = "auto"
    import_options: dict | None = None  # formats.ImportOptions, as JSON


def _bytes(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def _too_big(display_name: str, limit: int) -> str:
    return (f"Loading {display_name} needed more memory than an upload from the web may use "
            f"({_bytes(limit)}) and was stopped; nothing was stored. Load it with "
            "`scorecard ingest`, or raise upload_memory_limit in store.yaml.")


def _unreadable(display_name: str, limit: int) -> str:
    return (f"Reading {display_name} needed more memory than an upload from the web may use "
            f"({_bytes(limit)}) and was stopped; nothing was stored. Load it with "
            "`scorecard ingest`, or raise upload_memory_limit in store.yaml.")


def run_upload(job: UploadJob, progress: Callable[[float, str], None]) -> IngestResult:
    """Load the file in a child process and relay its progress; one sentence if it fails."""
    limit = upload_memory_limit(Path(job.config))
    answer = _in_child({"load": asdict(job)}, limit, progress,
                       _too_big(job.display_name, limit),
                       f"Loading {job.display_name} stopped unexpectedly; nothing was stored.")
    return IngestResult(**answer)


def read_upload(config: Path, display_name: str, task: str, **args):
    """One of READS over an uploaded file, in a child process; its answer as JSON values, or
    one sentence if it fails."""
    limit = upload_memory_limit(Path(config))
    job = {"read": task, "config": str(config), "display_name": display_name, "args": args}
    return _in_child(job, limit, lambda *_: None, _unreadable(display_name, limit),
                     f"Reading {display_name} stopped unexpectedly.")


def _in_child(job: dict, limit: int, progress: Callable[[float, str], None],
              too_big: str, stopped: str):
    """Run the job in a child process capped at twice the DuckDB limit plus headroom."""
    address_space = 2 * limit + HEADROOM

    def cap() -> None:  # runs in the child, before it starts Python
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    # the child's error output goes to a file: a pipe nobody reads while it runs could fill up
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "scorecard.upload_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=errors, text=True, preexec_fn=cap)
        child.stdin.write(json.dumps(job))
        child.stdin.close()
        answer: dict = {}
        for line in child.stdout:
            message = json.loads(line)
            if "progress" in message:
                progress(message["progress"], message["text"])
            else:
                answer = message
        child.wait()
        errors.seek(0)
        said = errors.read()
    if "result" in answer:
        return answer["result"]
    if "error" in answer:
        raise ScorecardError(answer["error"])
    if "MemoryError" in said or "Out of Memory" in said or child.returncode < 0:
        raise ScorecardError(too_big)
    raise ScorecardError(stopped)


def _emit(message: dict) -> None:
    print(json.dumps(message, default=str), flush=True)


def _first_look(path: str, display_name: str, kind: str, limit: int) -> dict:
    """Whose export the file is (events only), else its columns and first rows as text."""
    from .store import formats, preview
    from .store.ingest import detect_format

    if kind == "events":
        try:
            found = formats.detect(Path(path), detect_format(Path(display_name))[0])
        except (OSError, EOFError):  # unreadable: the preview's reader says why
            found = "contract"
        if found != "contract":
            return {"export": found}
    columns, rows = preview.preview_file(Path(path), display_name, memory_limit=limit)
    return {"export": None, "columns": columns, "rows": rows}


def _unknown_values(path: str, display_name: str, kind: str, sources: dict,
                    limit: int) -> dict:
    """For each contract column (key) the values of its source column (value) a map has to
    translate."""
    from .store import preview
    from .store.schema import KINDS

    columns = {c.name: c for c in KINDS[kind].columns}
    return {column: preview.unknown_values(Path(path), display_name, source, columns[column],
                                           memory_limit=limit)
            for column, source in sources.items()}


def _summary(path: str, display_name: str, fmt: str, options: dict, limit: int) -> dict:
    """What an observability tool's export holds."""
    from .store import formats
    from .store.ingest import detect_format

    found = formats.summarize(Path(path), fmt, detect_format(Path(display_name))[0],
                              formats.ImportOptions.model_validate(options),
                              memory_limit=f"{limit}B")
    return asdict(found)


READS = {"first_look": _first_look, "unknown_values": _unknown_values, "summary": _summary}


def _read(job: dict) -> int:
    limit = upload_memory_limit(Path(job["config"]))
    try:
        found = READS[job["read"]](display_name=job["display_name"], limit=limit, **job["args"])
    except ScorecardError as exc:
        _emit({"error": str(exc)})
        return 0
    except MemoryError:
        _emit({"error": _unreadable(job["display_name"], limit)})
        return 0
    _emit({"result": found})
    return 0


def main() -> int:
    from .service import Loading, load
    from .store.engines import open_store
    from .store.formats import ImportOptions
    from .store.mapping import ColumnMap

    message = json.loads(sys.stdin.read())
    if "read" in message:
        return _read(message)
    job = UploadJob(**message["load"])
    cfg = Path(job.config)
    settings = {**engine_settings(cfg), "memory_limit": f"{upload_memory_limit(cfg)}B"}
    try:
        loading = Loading.from_config(cfg)
        with open_store(job.db, settings=settings) as store:
            result = load(store, job.path, loading, kind=job.kind,
                          cmap=ColumnMap.model_validate(job.cmap), actor=job.actor, via="web",
                          display_name=job.display_name, source_format=job.source_format,
                          import_options=ImportOptions.model_validate(job.import_options or {}),
                          progress=lambda f, text: _emit({"progress": f, "text": text}))
    except ScorecardError as exc:
        _emit({"error": str(exc)})
        return 0
    except MemoryError:
        _emit({"error": _too_big(job.display_name, upload_memory_limit(cfg))})
        return 0
    _emit({"result": asdict(result)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
