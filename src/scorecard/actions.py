"""Every write the web app makes, each re-checking the actor's role against the directory.

The browser session says who signed in; what that person may do is looked up here again, so a
forged or stale session cannot change thresholds, sign off or upload.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .metrics import rollups, threshold_changes
from .metrics.signoff import record_signoff
from .metrics.thresholds import Thresholds
from .store.db import Store
from .store.ingest import IngestLimits, IngestResult, Progress, ingest_file
from .store.mapping import ColumnMap
from .store.preview import save_map
from .store.pricing import Pricing
from .store.undo import UndoResult, undo_ingest
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
           kind: str, cmap: ColumnMap, pricing: Pricing, limits: IngestLimits | None = None,
           progress: Progress | None = None,
           save_map_as: tuple[Path, str] | None = None) -> IngestResult:
    """Load an uploaded extract; `save_map_as` (config dir, name) keeps its map first."""
    directory.require(username, "upload")
    if save_map_as:
        save_map(*save_map_as, cmap)
    step = progress or (lambda fraction, text: None)
    # the ingest's own "Done" waits until the daily summaries are updated too
    result = ingest_file(store, path, kind=kind, cmap=cmap, pricing=pricing, limits=limits,
                         actor=username, via="web", display_name=display_name,
                         progress=lambda f, text: step(f, text) if f < 1 else None)
    step(0.95, "Updating the daily summaries")
    rollups.refresh(store)
    step(1.0, "Done")
    return result


def remove_upload(store: Store, directory: Directory, username: str, ingest_id: str,
                  reason: str) -> UndoResult:
    """Take an earlier upload back and bring the daily summaries in step."""
    directory.require(username, "upload")
    undone = undo_ingest(store, ingest_id, actor=username, reason=reason, via="web")
    rollups.refresh(store)
    return undone
