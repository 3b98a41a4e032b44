"""Loading an upload from the web app in a child process, so that no file can take the web
server's memory: the child has its own DuckDB memory limit and a cap on its address space. If
it runs out, it dies alone, its transaction is never committed, and the page says so.

The parent sends the job as JSON on standard input; the child answers with JSON lines:
`{"progress": 0.3, "text": "..."}` while it works and one `{"result": {...}}` or
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


def _too_big(display_name: str, limit: int) -> str:
    return (f"Loading {display_name} needed more memory than an upload from the web may use "
            f"({limit / 2**30:.1f} GiB) and was stopped; nothing was stored. Load it with "
            "`scorecard ingest`, or raise upload_memory_limit in store.yaml.")


def run_upload(job: UploadJob, progress: Callable[[float, str], None]) -> IngestResult:
    """Load the file in a child process and relay its progress; one sentence if it fails."""
    limit = upload_memory_limit(Path(job.config))
    address_space = 2 * limit + HEADROOM

    def cap() -> None:  # runs in the child, before it starts Python
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    # the child's error output goes to a file: a pipe nobody reads while it runs could fill up
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "scorecard.upload_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=errors, text=True, preexec_fn=cap)
        child.stdin.write(json.dumps(asdict(job)))
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
        return IngestResult(**answer["result"])
    if "error" in answer:
        raise ScorecardError(answer["error"])
    if "MemoryError" in said or "Out of Memory" in said or child.returncode < 0:
        raise ScorecardError(_too_big(job.display_name, limit))
    raise ScorecardError(f"Loading {job.display_name} stopped unexpectedly; nothing was stored.")


def _emit(message: dict) -> None:
    print(json.dumps(message, default=str), flush=True)


def main() -> int:
    from .service import Loading, load
    from .store.engines import open_store
    from .store.formats import ImportOptions
    from .store.mapping import ColumnMap

    job = UploadJob(**json.loads(sys.stdin.read()))
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
