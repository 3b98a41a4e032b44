"""The audit trail in words: metric and question ids as their titles, statuses as icon and word,
threshold entries as numbers with units, and the few coded values spelled out."""

from __future__ import annotations

import json

import pandas as pd

from ..users import ROLE_TITLES
from .checklist import QUESTIONS
from .formatting import format_value, status_label
from .registry import registry

WORDS = {
    "Through": {"web": "Upload page", "cli": "command line", "demo": "demo data"},
    "Holds": {"events": "inference events", "incidents": "incidents"},
    "Result": {"ok": "loaded", "failed": "failed"},
    "Role": ROLE_TITLES,
    "What happened": {"sign_in": "signed in", "resumed": "came back (remembered sign-in)",
                      "sign_out": "signed out", "failed": "wrong password",
                      "locked": "locked out", "unlocked": "lockout lifted",
                      "refused": "sign-in cookie refused"},
}


def _threshold(entry: str | None, metric_id: str) -> str:
    value = json.loads(entry) if entry else None
    if value is None:
        return "all-systems threshold"
    metric = registry().get(metric_id) if metric_id in registry().ids else None
    shown = (lambda v: format_value(metric, v)) if metric else (lambda v: f"{v:g}")
    return f"{shown(value['target'])} / {shown(value['limit'])}"


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """An audit table (as store.audit gives it) as people read it."""
    out = frame.copy()
    if "Before (target / limit)" in out:
        for column in ("Before (target / limit)", "After"):
            out[column] = [_threshold(e, m) for e, m in zip(out[column], out["Metric"])]
    if "Metric" in out:
        out["Metric"] = [registry().get(m).title if m in registry().ids else m
                         for m in out["Metric"]]
    if "Question" in out:
        out["Question"] = [QUESTIONS.get(q, q) for q in out["Question"]]
    if "Status then" in out:
        out["Status then"] = [status_label(s) for s in out["Status then"]]
    for column, words in WORDS.items():
        if column in out:
            out[column] = [words.get(v, v) if v is not None else "" for v in out[column]]
    return out


def _moments(column: pd.Series) -> list[str]:
    """Times as the page writes them everywhere: "22 Nov 2026 10:05"."""
    return [f"{t:%d %b %Y %H:%M}" if pd.notna(t) else "" for t in column]


def upload_history_view(history: pd.DataFrame) -> pd.DataFrame:
    """store.audit.upload_history as the Upload page shows it."""
    removed = _moments(history["removed_at"])
    return readable(pd.DataFrame({
        "When (UTC)": _moments(history["recorded_at"]), "Who": history["actor"],
        "Through": history["via"], "Holds": history["kind"], "File": history["file"],
        "Result": history["status"], "Stored": history["inserted"],
        "Duplicates": history["duplicates"], "Conflicts": history["conflicts"],
        "Rejected": history["rejected"], "Removed (UTC)": removed,
        "Removed by": history["removed_by"].fillna(""),
        "Why removed": history["removed_because"].fillna(""),
        "Message": history["message"].fillna("")}))
