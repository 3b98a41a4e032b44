"""Taking an upload back: remove exactly the rows one earlier ingest stored, and record who did
it, when and why. The ingest's own log line and its rejected rows stay, as the record of what
was tried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import BadInput
from ..sql import identifier
from .db import Store
from .schema import INGEST_ID, KINDS


CUT_SHORT = "(a load cut short before it was logged)"


@dataclass(frozen=True)
class UndoResult:
    ingest_id: str
    file: str
    events_removed: int
    incidents_removed: int

    def public(self) -> dict:
        return {"undone": self.ingest_id, "file": self.file,
                "events_removed": self.events_removed,
                "incidents_removed": self.incidents_removed}


def find_ingest(store: Store, ingest_id: str) -> tuple[str, str]:
    """The full id and file name of the ingest an id (or a unique prefix of at least 8
    characters) names; BadInput when none, several, or one already taken back."""
    given = (ingest_id or "").strip().lower()
    if len(given) < 8:
        raise BadInput("Give the upload's id (at least its first 8 characters), as the ingest "
                       "output or the upload history shows it.")
    rows = store.query("SELECT ingest_id, file, status FROM ingest_log WHERE substring("
                       "ingest_id, 1, length($given)) = $given ORDER BY recorded_at",
                       {"given": given})
    if not rows:
        cut_short = [i for i in store.sends_in_flight() if i.startswith(given)]
        if len(cut_short) == 1:
            return cut_short[0], CUT_SHORT
        raise BadInput(f"No upload has the id {given}.")
    if len(rows) > 1:
        raise BadInput(f"Several uploads have ids starting {given}; give more of the id.")
    full, name, status = rows[0]
    if status != "ok":
        raise BadInput(f"The upload {full} of {name} stored nothing (it was refused), so there "
                       "is nothing to remove.")
    undone = store.scalar("SELECT max(recorded_at) FROM ingest_undos WHERE ingest_id = ?", [full])
    if undone is not None:
        raise BadInput(f"The upload {full} of {name} was already removed on "
                       f"{undone:%d %b %Y %H:%M} UTC.")
    return full, name


def undo_ingest(store: Store, ingest_id: str, *, actor: str, reason: str,
                via: str = "cli") -> UndoResult:
    """Remove the rows of one ingest and record it, in one transaction. The caller brings the
    derived tables (rollups) back in step afterwards; until then readers see them as behind."""
    if not (reason or "").strip():
        raise BadInput("Say why the upload is removed; the reason is kept in the audit log.")
    full, name = find_ingest(store, ingest_id)
    if name == CUT_SHORT:  # sent in part by a process that died (ClickHouse only)
        removed = store.take_back_send(full, actor, via, reason.strip())
        return UndoResult(full, name, removed[KINDS["events"].table],
                          removed[KINDS["incidents"].table])
    with store.transaction() as cur:
        removed = remove_ingest_rows(cur, [kind.table for kind in KINDS.values()], full, actor,
                                     via, reason.strip())
    return UndoResult(full, name, removed[KINDS["events"].table],
                      removed[KINDS["incidents"].table])


def remove_ingest_rows(cur, tables, ingest_id: str, actor: str, via: str,
                       reason: str) -> dict[str, int]:
    """Delete one ingest's rows from each table and record it in `ingest_undos`; the rows
    removed per table (counted first: not every engine says what it deleted)."""
    removed = {}
    for table in tables:
        where = f"FROM {identifier(table)} WHERE {INGEST_ID} = ?"
        removed[table] = cur.execute(f"SELECT count(*) {where}", [ingest_id]).fetchone()[0] or 0
        if removed[table]:
            cur.execute(f"DELETE {where}", [ingest_id])
    cur.execute("INSERT INTO ingest_undos VALUES (?, ?, ?, ?, ?, ?, ?)",
                [ingest_id, datetime.now(timezone.utc).replace(tzinfo=None), actor, via, reason,
                 removed.get(KINDS["events"].table, 0), removed.get(KINDS["incidents"].table, 0)])
    return removed
