"""Personal data masked at the door (`config/privacy.yaml`): the SQL that ingestion applies to
text before anything is stored, rejected rows included. E-mail addresses, phone numbers, card
numbers (those passing the Luhn check), IBANs and custom patterns become a marker ("[email]");
the columns listed under `hash` are stored as a keyed hash, so slices still group. Patterns run
on DuckDB's RE2 engine, whose time is linear in the text: a pattern RE2 cannot run that way
(a backreference, a lookaround) is refused when the file is read, before any load."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import BadInput
from ..settings import read_yaml, write_private
from ..sql import literal

FILE = "privacy.yaml"
KEY_FILE = "privacy.key"  # made beside privacy.yaml when no key is given in the environment
# the contract's free-text columns: where people's data can arrive
FREE_TEXT = ("input_ref", "output_ref", "segment", "release", "team", "feature", "customer",
             "summary")
# built-in patterns, in the order they are applied (an IBAN's digits are not a card's)
BUILT_IN = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "iban": r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b",
    "card": r"\b[0-9](?:[ -]?[0-9]){12,18}\b",
    "phone": r"(?:\+[1-9][0-9]{0,2}|\b0)[ ()./-]{0,2}[0-9]{1,5}(?:[ ()./-]{0,2}[0-9]{2,5}){2,4}\b",
}
_LUHN = ("CREATE OR REPLACE TEMP MACRO _luhn_ok(d) AS list_sum(list_transform("
         "range(length(d)), lambda i: CASE WHEN i % 2 = 1 THEN (CASE WHEN CAST(d[i + 1] AS "
         "INTEGER) * 2 > 9 THEN CAST(d[i + 1] AS INTEGER) * 2 - 9 ELSE CAST(d[i + 1] AS "
         "INTEGER) * 2 END) ELSE CAST(d[i + 1] AS INTEGER) END)) % 10 = 0")


class Custom(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    pattern: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,30}", value):
            raise ValueError("a custom pattern's name is lower-case letters, digits, - and _")
        if value in BUILT_IN:
            raise ValueError(f"'{value}' is a built-in pattern; list it under mask instead")
        return value


class Privacy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mask: list[Literal["email", "phone", "card", "iban"]] = []
    custom: list[Custom] = []
    columns: list[str] = list(FREE_TEXT)  # where the patterns are masked
    hash: list[str] = []  # columns stored as a keyed hash
    hash_key_env: str = "SCORECARD_HASH_KEY"
    key: str = ""  # read from the environment or the key file, never from privacy.yaml

    @field_validator("columns", "hash")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in FREE_TEXT]
        if unknown:
            raise ValueError(f"'{unknown[0]}' is not a free-text column ({', '.join(FREE_TEXT)})")
        return value

    @property
    def active(self) -> bool:
        return bool(self.mask or self.custom or self.hash)

    def patterns(self) -> list[tuple[str, str]]:
        """(marker name, RE2 pattern) in the order they are applied; cards come apart."""
        found = [(name, BUILT_IN[name]) for name in BUILT_IN if name in self.mask
                 and name != "card"]
        return found + [(c.name, c.pattern) for c in self.custom]

    def only_in(self, columns: list[str]) -> "Privacy":
        """These rules, applied to the given columns only (the others are stored as read)."""
        return self.model_copy(update={"columns": [c for c in self.columns if c in columns],
                                       "hash": [c for c in self.hash if c in columns]})

    # -- SQL ------------------------------------------------------------------------------------

    def prepare(self, cur) -> None:
        """The helpers the masking SQL uses, in this connection."""
        if "card" in self.mask:
            cur.execute(_LUHN)

    def masked(self, expr: str) -> str:
        """SQL: text with every pattern replaced by its marker: IBANs first, then card numbers
        (only those passing the Luhn check; a value without a long run of digits skips it),
        then the rest."""
        def replaced(text: str, name: str) -> str:
            return (f"regexp_replace({text}, {literal(self._pattern(name))}, "
                    f"{literal('[' + name + ']')}, 'g')")

        patterns = [name for name, _ in self.patterns()]
        out = expr
        if "iban" in patterns:  # an IBAN's digits are not a card number
            out = replaced(out, "iban")
            patterns.remove("iban")
        if "card" in self.mask:  # the engine reads the repeated text once (common terms)
            card = literal(BUILT_IN["card"])
            digits = "reverse(regexp_replace(c, '[^0-9]', '', 'g'))"
            valid = f"list_filter(regexp_extract_all({out}, {card}), lambda c: _luhn_ok({digits}))"
            out = (f"CASE WHEN regexp_matches({out}, {card}) THEN list_reduce(list_prepend("
                   f"{out}, {valid}), lambda acc, c: replace(acc, c, '[card]')) ELSE {out} END")
        for name in patterns:
            out = replaced(out, name)
        # Text no pattern matches is left as it is after one test of all patterns together
        # (most values hold no personal data, and no replacement can make a new match: a
        # marker's text matches no pattern). 1M events, the shipped rules: the whole load
        # 6.7 s to 5.0 s, counting the masked values 1.7 s to 0.6 s.
        every = self._every()
        if not every:  # nothing to mask (only columns to hash)
            return expr
        return f"CASE WHEN regexp_matches({expr}, {literal(every)}) THEN {out} ELSE {expr} END"

    def any_matches(self, texts: list[str]) -> str | None:
        """SQL: whether any pattern matches any of the texts, tested once over them joined by
        line ends, `^` and `$` matching at each (a row of many values with nothing to mask
        costs one test, not one per value). None when there is nothing to mask, or when a
        custom pattern anchors to the whole text (\\A, \\z), which joining would change."""
        every = self._every()
        if not every or not texts or any("\\A" in c.pattern or "\\z" in c.pattern
                                         for c in self.custom):
            return None
        return f"regexp_matches(concat_ws(chr(10), {', '.join(texts)}), {literal('(?m)' + every)})"

    def _every(self) -> str:
        """One pattern matching wherever any of the patterns does ('' when there are none)."""
        every = "|".join(f"(?:{self._pattern(name)})" for name, _ in self.patterns())
        if "card" in self.mask:
            every = "|".join(filter(None, [every, f"(?:{BUILT_IN['card']})"]))
        return every

    def _pattern(self, name: str) -> str:
        return BUILT_IN.get(name) or next(c.pattern for c in self.custom if c.name == name)

    def hashed(self, expr: str) -> str:
        """SQL: a keyed hash of the text (equal text, equal hash), 'h:' and 20 hex digits."""
        return (f"CASE WHEN {expr} IS NULL THEN NULL ELSE 'h:' || left(sha256("
                f"{literal(self.key)} || chr(0) || {expr}), 20) END")

    def protect(self, column: str, expr: str) -> str:
        """SQL for a contract column's text as it may be stored."""
        if column in self.hash:
            return self.hashed(expr)
        return self.masked(expr) if column in self.columns else expr


def _check_patterns(privacy: Privacy, path: Path) -> None:
    """Each custom pattern compiled by the engine that will run it."""
    con = duckdb.connect()
    try:
        for custom in privacy.custom:
            try:
                con.execute("SELECT regexp_matches('', ?)", [custom.pattern])
            except duckdb.Error as exc:
                detail = str(exc).split(":", 1)[-1].strip().splitlines()[0][:120]
                raise BadInput(f"{path}: the pattern '{custom.name}' cannot be used ({detail}); "
                               "patterns run in linear time, so backreferences and lookaround "
                               "are not available.") from None
    finally:
        con.close()


def _key(privacy: Privacy, folder: Path) -> str:
    """The hash key: from the environment, else the key file (made on first use, private)."""
    given = os.environ.get(privacy.hash_key_env)
    if given:
        return given
    key_file = folder / KEY_FILE
    if not key_file.exists():
        write_private(key_file, secrets.token_hex(32) + "\n")
    return key_file.read_text(encoding="utf-8").strip()


def load(cfg_dir: Path) -> Privacy:
    """The masking rules of the config folder (none when it has no privacy.yaml)."""
    path = Path(cfg_dir) / FILE
    if not path.exists():
        return Privacy()
    data = read_yaml(path, "privacy settings") or {}
    if "key" in data:
        raise BadInput(f"{path}: the hash key is not kept in this file; set it in the "
                       f"environment variable hash_key_env names, or let the key file be made.")
    try:
        privacy = Privacy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInput(f"The privacy settings {path} are invalid at {where}: "
                       f"{first['msg'].removeprefix('Value error, ')}.") from None
    _check_patterns(privacy, path)
    if privacy.hash:
        privacy.key = _key(privacy, path.parent)
    return privacy
