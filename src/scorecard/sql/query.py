"""A query value: its text and the parameters it uses, travelling together."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

# the one placeholder style, $name, or quoted text (a literal or a name, which may hold a `$`)
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$([A-Za-z_]\w*)")


def placeholders(text: str) -> set[str]:
    """The parameter names a query text uses; a `$` inside quoted text (a system named
    `pay$tier` written as a literal) is text, not a placeholder."""
    return {m.group(1) for m in _TOKENS.finditer(text) if m.group(1)}


@dataclass(frozen=True)
class Query:
    """SQL text with `$name` placeholders and exactly the values they need."""

    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        used, given = placeholders(self.text), set(self.params)
        if used != given:
            missing, unused = sorted(used - given), sorted(given - used)
            raise ValueError(f"Query parameters do not match its text: missing {missing}, "
                             f"unused {unused}.")

    @classmethod
    def using(cls, text: str, available: Mapping[str, Any]) -> "Query":
        """The query with those of `available` its text uses (a missing one is an error)."""
        return cls(text, {k: v for k, v in available.items() if k in placeholders(text)})
