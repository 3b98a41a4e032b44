"""Map files: how an extract from another tool is put onto the contract columns (SPEC section 4)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import BadInput
from ..settings import line_of, read_yaml
from .schema import KINDS


class ColumnMap(BaseModel):
    """`columns` renames (contract name: source name), `constants` fills, `values` translates."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str] = {}
    constants: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}

    @field_validator("constants", mode="before")
    @classmethod
    def _constants_as_text(cls, value: dict | None) -> dict:
        if value is not None and not isinstance(value, dict):
            raise ValueError("must map contract columns to values")
        return {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in (value or {}).items()}

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value: dict | None) -> dict:
        if value is not None and not (isinstance(value, dict)
                                      and all(isinstance(t, dict | None) for t in value.values())):
            raise ValueError("must map contract columns to {source value: contract value}")
        return {col: {str(k): str(v) for k, v in (table or {}).items()}
                for col, table in (value or {}).items()}

    def check_against(self, kind: str) -> None:
        """Every name the map uses must be a contract column of this kind."""
        known = {c.name for c in KINDS[kind].columns}
        for section in ("columns", "constants", "values"):
            unknown = sorted(set(getattr(self, section)) - known)
            if unknown:
                raise BadInput(
                    f"The map's {section} names {', '.join(unknown)}, which "
                    f"{'is not a' if len(unknown) == 1 else 'are not'} {kind} column"
                    f"{'' if len(unknown) == 1 else 's'} of the contract."
                )

    def missing_required(self, kind: str, columns) -> list[str]:
        """The kind's required columns that neither a source column nor a constant supplies."""
        return [name for name in KINDS[kind].required
                if name not in self.constants and self.columns.get(name, name) not in columns]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(exclude_defaults=True), sort_keys=False)


def _plain(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip().lower())


def same_name(name: str, columns) -> str | None:
    """The file's column that is the contract column `name` written another way (Event_ID,
    "Event ID", event-id), if exactly one is."""
    found = [c for c in columns if _plain(str(c)) == _plain(name)]
    return found[0] if len(found) == 1 else None


def load_map(path: str | Path | None) -> ColumnMap:
    """Read a map file; a missing path gives the identity map."""
    if path is None:
        return ColumnMap()
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"The map file {path} does not exist.")
    data = read_yaml(path, "map file")
    try:
        return ColumnMap.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        line = line_of(path, first["loc"])
        raise BadInput(f"The map file {path} is malformed at '{where}'"
                       f"{f' (line {line})' if line else ''}: {first['msg']}.") from None
