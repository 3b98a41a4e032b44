"""Files written for people to open: CSV that a spreadsheet cannot mistake for formulas."""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection


def _neutral(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as text; the stored value is unchanged
    return value


def safe_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV, each text cell that a spreadsheet would run as a formula prefixed
    with an apostrophe. Numbers stay numbers."""
    text_columns = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    out = frame.copy()
    for column in text_columns:
        out[column] = out[column].map(_neutral)
    out.columns = [_neutral(str(c)) for c in out.columns]
    return out.to_csv(index=False)
