"""Sign-offs of the answers to the questions for leaders, kept with their history."""

from __future__ import annotations

from datetime import date, datetime, timezone

from ..errors import BadInput
from ..store.db import Store


def record_signoff(store: Store, *, actor: str, question: str, system: str | None, status: str,
                   note: str, as_of: date) -> None:
    if not actor.strip():
        raise BadInput("A sign-off needs the name of the person signing.")
    with store.transaction(changes_data=False) as cur:
        cur.execute("INSERT INTO signoffs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [datetime.now(timezone.utc).replace(tzinfo=None), actor.strip(), question,
                     system, status, note.strip(), as_of])


def signoff_history(store: Store, question: str | None = None) -> list[dict]:
    return store.query_dicts(
        "SELECT recorded_at, actor, question, coalesce(system, 'all systems') AS system, status,"
        " note, as_of FROM signoffs WHERE $q IS NULL OR question = $q ORDER BY recorded_at DESC",
        {"q": question})
