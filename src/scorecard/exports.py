"""Files written for people to open: CSV that a spreadsheet cannot mistake for formulas."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection
_LINE_THEN_FORMULA = re.compile(r"\n(?=[=+\-@\t])")


def _neutral(value):
    """A text cell a spreadsheet shows as text: an apostrophe before a formula's first mark,
    at the start and after every line break (a spreadsheet may start a row at a lone CR)."""
    if not isinstance(value, str):
        return value
    if "\r" in value or "\n" in value:
        value = _LINE_THEN_FORMULA.sub("\n'", value.replace("\r\n", "\n").replace("\r", "\n"))
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV, each text cell that a spreadsheet would run as a formula prefixed
    with an apostrophe. Numbers stay numbers."""
    text_columns = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    out = frame.copy()
    for column in text_columns:
        out[column] = out[column].map(_neutral)
    out.columns = [_neutral(str(c)) for c in out.columns]
    return out.to_csv(index=False)
