"""The only quoting of identifiers and literals in the product."""

from __future__ import annotations

import math
from typing import Iterable


def identifier(name: str) -> str:
    """A column or table name, double-quoted, so any name is read as a name."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(value) -> str:
    """A value as an SQL literal: NULL, TRUE/FALSE, a number or a quoted string. A number that
    is not finite has no literal and is refused, rather than written as a bare word."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no SQL literal; only finite numbers do.")
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"No SQL literal for a {type(value).__name__}.")


def literal_list(values: Iterable) -> str:
    """A parenthesised list of literals for IN; refuses an empty list, which SQL has not."""
    items = [literal(v) for v in values]
    if not items:
        raise ValueError("An SQL list needs at least one value.")
    return "(" + ", ".join(items) + ")"
