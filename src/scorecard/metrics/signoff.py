"""Sign-offs of the answers to the questions for leaders, kept with their history."""

from __future__ import annotations

from datetime import date, datetime, timezone

from ..errors import BadInput
from ..store import records
from ..store.db import Store


def record_signoff(store: Store, *, actor: str, question: str, system: str | None, status: str,
                   note: str, as_of: date) -> None:
    """Keep a sign-off; one without a note, or the same one twice (a double click), is refused."""
    if not actor.strip():
        raise BadInput("A sign-off needs the name of the person signing.")
    if not note.strip():
        raise BadInput("Say in the note what was decided or what to watch; the note is what "
                       "the sign-off records.")
    added = records.add_signoff(
        store, recorded_at=datetime.now(timezone.utc).replace(tzinfo=None), actor=actor.strip(),
        question=question, system=system, status=status, note=note.strip(), as_of=as_of)
    if not added:
        raise BadInput("This sign-off, with this note, is already recorded.")
