"""Sign-offs of the answers to the questions for leaders, kept with their history."""

from __future__ import annotations

from datetime import date, datetime, timezone

from ..errors import BadInput
from ..store.db import Store


def record_signoff(store: Store, *, actor: str, question: str, system: str | None, status: str,
                   note: str, as_of: date) -> None:
    """Keep a sign-off; one without a note, or the same one twice (a double click), is refused."""
    if not actor.strip():
        raise BadInput("A sign-off needs the name of the person signing.")
    if not note.strip():
        raise BadInput("Say in the note what was decided or what to watch; the note is what "
                       "the sign-off records.")
    with store.transaction(changes_data=False) as cur:
        same = cur.execute(
            "SELECT count(*) FROM signoffs WHERE actor = ? AND question = ? AND system IS NOT "
            "DISTINCT FROM ? AND status = ? AND note = ? AND as_of = ?",
            [actor.strip(), question, system, status, note.strip(), as_of]).fetchone()[0]
        if same:
            raise BadInput("This sign-off, with this note, is already recorded.")
        cur.execute("INSERT INTO signoffs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [datetime.now(timezone.utc).replace(tzinfo=None), actor.strip(), question,
                     system, status, note.strip(), as_of])


def signoff_history(store: Store, question: str | None = None) -> list[dict]:
    return store.query_dicts(
        "SELECT recorded_at, actor, question, coalesce(system, 'all systems') AS system, status,"
        " note, as_of FROM signoffs WHERE $q IS NULL OR question = $q ORDER BY recorded_at DESC",
        {"q": question})
