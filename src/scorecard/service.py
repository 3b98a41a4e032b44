"""Changes to the stored data, each followed by bringing the derived tables in step: the one
way the command line and the web app load an extract and take one back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .metrics import rollups
from .metrics.thresholds import Thresholds, load_thresholds, store_layer, with_store_layer
from .settings import read_yaml
from .store.db import Store
from .store.formats import ImportOptions
from .store.ingest import IngestLimits, IngestResult, Progress, ingest_file
from .store.mapping import ColumnMap
from .store.pricing import Pricing
from .store import privacy as privacy_rules
from .store import retention
from .store.privacy import Privacy
from .store.undo import UndoResult, undo_ingest

REFRESHING = "Updating the daily summaries"


@dataclass(frozen=True)
class Loading:
    """What loading reads from the config folder, read (and checked) before anything is stored:
    prices, the ingest limits, the thresholds whose pinned baselines are kept, and what
    personal data to mask."""

    pricing: Pricing
    limits: IngestLimits
    thresholds: Thresholds
    privacy: Privacy = field(default_factory=Privacy)

    @classmethod
    def from_config(cls, cfg_dir: Path) -> "Loading":
        return cls(Pricing.load(cfg_dir / "pricing.yaml"),
                   IngestLimits.from_settings(read_yaml(cfg_dir / "store.yaml")),
                   load_thresholds(cfg_dir / "thresholds.yaml"),
                   privacy_rules.load(cfg_dir))


def refresh(store: Store, loading: Loading) -> str:
    """Bring the daily rollup and the kept baselines in step with the stored events."""
    return rollups.refresh(store, with_store_layer(loading.thresholds, store_layer(store)))


def load(store: Store, path: str | Path, loading: Loading, *, kind: str = "events",
         cmap: ColumnMap | None = None, actor: str | None = None, via: str = "cli",
         display_name: str | None = None, progress: Progress | None = None,
         source_format: str = "auto", import_options: ImportOptions | None = None
         ) -> IngestResult:
    """Validate and load one file in one transaction, then refresh the derived tables."""
    step = progress or (lambda fraction, text: None)
    rollups.feed(store)
    result = ingest_file(store, path, kind=kind, cmap=cmap, pricing=loading.pricing,
                         limits=loading.limits, actor=actor, via=via,
                         display_name=display_name, source_format=source_format,
                         import_options=import_options, privacy=loading.privacy,
                         progress=lambda fraction, text: step(min(fraction, 0.9), text))
    step(0.95, REFRESHING)
    refresh(store, loading)
    return result


def take_back(store: Store, ingest_id: str, loading: Loading, *, actor: str, reason: str,
              via: str) -> UndoResult:
    """Remove the rows of one earlier ingest, recorded with who and why, then refresh."""
    undone = undo_ingest(store, ingest_id, actor=actor, reason=reason, via=via)
    refresh(store, loading)
    return undone


def keep_to_retention(store: Store, loading: Loading, keep_days: int, *, actor: str, via: str,
                      dry_run: bool = False) -> retention.RetentionRun:
    """Remove what is older than the retention (or, dry, count it), then refresh."""
    if dry_run:
        return retention.plan(store, keep_days)
    run = retention.apply(store, keep_days, actor=actor, via=via)
    refresh(store, loading)
    return run
