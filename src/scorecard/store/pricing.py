"""List prices per model, used to price events that carry tokens but no cost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from ..settings import read_yaml


@dataclass(frozen=True)
class Pricing:
    """USD per million tokens by model-name prefix (longest prefix wins): input, output, and
    input read from or written to the provider's prompt cache (as input when not given)."""

    models: dict[str, tuple[float, float, float, float]]

    @classmethod
    def load(cls, path: Path) -> "Pricing":
        try:
            raw = read_yaml(path).get("models") or {}
            return cls({str(k): (float(v["input"]), float(v["output"]),
                                 float(v.get("cache_read", v["input"])),
                                 float(v.get("cache_write", v["input"])))
                        for k, v in raw.items()})
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BadInput(f"The pricing file {path} needs 'input' and 'output' numbers for every "
                           "model (and numbers for cache_read and cache_write where given)."
                           ) from None

    def price_of(self, model: str) -> tuple[float, float, float, float] | None:
        matches = [key for key in self.models if model.startswith(key)]
        return self.models[max(matches, key=len)] if matches else None

    def register(self, cur, table: str, model_column: str) -> str:
        """Create temp table `_prices` for the models in `table`; return the join clause to use."""
        models = [r[0] for r in cur.execute(
            f"SELECT DISTINCT {model_column} FROM {table} WHERE {model_column} IS NOT NULL"
        ).fetchall()]
        rows = [(m, *p) for m in models if (p := self.price_of(m))]
        cur.execute("CREATE OR REPLACE TEMP TABLE _prices (model VARCHAR, input DOUBLE, "
                    "output DOUBLE, cache_read DOUBLE, cache_write DOUBLE)")
        if rows:
            cur.executemany("INSERT INTO _prices VALUES (?, ?, ?, ?, ?)", rows)
        return f"LEFT JOIN _prices p ON p.model = c.{model_column}"


def cost_sql(input_tokens: str, output_tokens: str, cache_read: str, cache_write: str,
             prices: str = "p") -> str:
    """SQL: the USD a call's tokens cost at a `_prices` row (`prices`), or NULL without
    tokens. Input tokens include the cache's reads and writes (as the GenAI conventions count
    them), which are priced at the cache's own rates; `cache_read` and `cache_write` are SQL
    that is never NULL."""
    return (f"CASE WHEN {input_tokens} IS NOT NULL OR {output_tokens} IS NOT NULL THEN "
            f"((coalesce({input_tokens}, 0) - {cache_read} - {cache_write}) * {prices}.input "
            f"+ {cache_read} * {prices}.cache_read + {cache_write} * {prices}.cache_write "
            f"+ coalesce({output_tokens}, 0) * {prices}.output) / 1e6 END")
