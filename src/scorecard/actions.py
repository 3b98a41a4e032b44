"""Every write the web app makes, each re-checking the actor's role against the directory.

The browser session says who signed in; what that person may do is looked up here again, so a
forged or stale session cannot change thresholds, sign off or upload.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path
from typing import Callable

from . import sessions
from .metrics import threshold_changes
from .metrics.signoff import record_signoff
from .metrics.thresholds import Thresholds
from .service import Loading, take_back
from .store.db import Store
from .store.formats import ImportOptions
from .store.ingest import IngestResult, Progress
from .store.mapping import ColumnMap
from .store.preview import save_map
from .store.reading_copy import kept_while_loading
from .store.undo import UndoResult
from .upload_worker import UploadJob, run_upload
from .users import Directory


def change_threshold(store: Store, directory: Directory, username: str, path: Path,
                     proposal: threshold_changes.Proposal, reason: str) -> Thresholds:
    directory.require(username, "edit_thresholds")
    return threshold_changes.save_change(store, path, proposal, actor=username, reason=reason)


def revert_threshold(store: Store, directory: Directory, username: str, path: Path,
                     change: dict) -> Thresholds:
    directory.require(username, "edit_thresholds")
    when = f"{change['recorded_at']:%d %b %Y %H:%M}"
    return threshold_changes.save_change(
        store, path, threshold_changes.revert_proposal(change), actor=username,
        reason=f"Revert of the change by {change['actor']} on {when} UTC")


def sign_off(store: Store, directory: Directory, username: str, *, question: str,
             system: str | None, status: str, note: str, as_of: date) -> None:
    directory.require(username, "sign_off")
    record_signoff(store, actor=username, question=question, system=system, status=status,
                   note=note, as_of=as_of)


def upload(store: Store, directory: Directory, username: str, path: Path, *, display_name: str,
           kind: str, cmap: ColumnMap, cfg_dir: Path, progress: Progress | None = None,
           save_map_as: str | None = None,
           release: Callable[[], AbstractContextManager] = nullcontext,
           source_format: str = "auto",
           import_options: ImportOptions | None = None) -> IngestResult:
    """Load an uploaded extract in a child process with its own memory limit (no file can take
    the web server's memory); `save_map_as` keeps its map under that name first. The caller's
    hold on the store is let go (`release`) while the child writes; meanwhile the web server's
    readers read a copy of the store as it was (reading_copy)."""
    directory.require(username, "upload")
    directory.require_a_signin_after_load(username)
    if save_map_as:
        save_map(cfg_dir, save_map_as, cmap)
    job = UploadJob(db=str(store.path), config=str(cfg_dir), path=str(path),
                    display_name=display_name, kind=kind, cmap=cmap.model_dump(), actor=username,
                    source_format=source_format, import_options=(
                        import_options.model_dump(mode="json") if import_options else None))
    step = progress or (lambda fraction, text: None)
    with kept_while_loading(store) as loaded, release():
        try:
            result = run_upload(job, step)
        finally:
            loaded()  # readers turn back to the store before this run takes it again
    step(1.0, "Done")
    return result


def remove_upload(store: Store, directory: Directory, username: str, ingest_id: str,
                  reason: str, cfg_dir: Path) -> UndoResult:
    """Take an earlier upload back and bring the daily summaries in step."""
    directory.require(username, "upload")
    return take_back(store, ingest_id, Loading.from_config(cfg_dir), actor=username,
                     reason=reason, via="web")


def end_sessions(store: Store, directory: Directory, username: str,
                 whose: str | None) -> int:
    """An admin signs one user (or, with None, everyone) out everywhere, at once."""
    directory.require(username, "audit")
    return sessions.end_sessions(store, by=username, username=whose,
                                 reason="signed out everywhere by an administrator")


def save_digests(cfg_dir: Path, directory: Directory, username: str, config) -> None:
    """Write config/digests.yaml (checked again before it is written)."""
    from .digests.config import save

    directory.require(username, "digests")
    save(cfg_dir, config)


def send_test_digest(store: Store, cfg_dir: Path, directory: Directory, username: str,
                     name: str) -> str | None:
    """Send one subscription now, whatever its schedule; None when sent, else why not."""
    from .digests.run import send_test

    directory.require(username, "digests")
    return send_test(store, cfg_dir, name)


def keep_to_retention(store: Store, cfg_dir: Path, directory: Directory, username: str,
                      keep_days: int, force: bool):
    """Remove what is older than the retention (admins, from the Audit page)."""
    from .service import keep_to_retention as keep
    from .store.retention import check_days

    directory.require(username, "audit")
    check_days(keep_days, force)
    return keep(store, Loading.from_config(cfg_dir), keep_days, actor=username, via="web")
