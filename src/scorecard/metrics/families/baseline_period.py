"""Each scope's baseline period: pinned in the thresholds, or the first `baseline_days` days
of its events. Shared by the families that compare the window with the baseline."""

from __future__ import annotations

from dataclasses import replace

from ...sql import literal
from .base import Context, counts_source


def bounds(ctx: Context, rolled: bool | None = None) -> str:
    """CTEs `firsts` and `bounds(scope, b0, b1)`: each system's baseline and the overall one."""
    d = ctx.dialect
    rolled = ctx.rolled if rolled is None else rolled
    pins = [[literal(s), d.timestamp(pinned.start), d.timestamp(pinned.end)]
            for s in ctx.systems if (pinned := ctx.thresholds.baseline(s))]
    columns = [("system", "VARCHAR"), ("b0", "TIMESTAMP"), ("b1", "TIMESTAMP")]
    source, t, _ = counts_source(replace(ctx, rolled=rolled))
    days = int(ctx.baseline_days)
    return f"""
{d.values_cte("pins", columns, pins)},
firsts AS (SELECT system, {d.trunc('day', f'min({t})')} AS d0 FROM {source} GROUP BY system),
bounds AS (
  SELECT f.system AS scope, coalesce(p.b0, f.d0) AS b0,
         coalesce(p.b1, {d.add_days('f.d0', days)}) AS b1
  FROM firsts f LEFT JOIN pins p ON p.system = f.system
  UNION ALL
  SELECT '', min(d0), {d.add_days('min(d0)', days)} FROM firsts
)"""


def scoped(source: str, t: str, columns: str = "e.*") -> str:
    """Rows of `source` in each scope's baseline bounds (a system's own, and all systems)."""
    return f"""
  SELECT b.scope, {columns} FROM {source} e JOIN bounds b
    ON b.scope = e.system AND e.{t} >= b.b0 AND e.{t} < b.b1
  UNION ALL
  SELECT '' AS scope, {columns} FROM {source} e JOIN bounds b
    ON b.scope = '' AND e.{t} >= b.b0 AND e.{t} < b.b1"""
