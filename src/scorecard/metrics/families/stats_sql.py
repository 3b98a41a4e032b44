"""Statistics written as SQL expressions: the Wilson interval and a two-sided p-value."""

from __future__ import annotations

from ...sql import Dialect

Z95 = 1.959964


def wilson(num: str, den: str, d: Dialect, z: float = Z95) -> tuple[str, str, str]:
    """SQL for (value, ci_low, ci_high) of num/den with the Wilson score interval."""
    p = f"{d.double(num)} / NULLIF({den}, 0)"
    n = d.double(f"NULLIF({den}, 0)")
    z2 = z * z
    centre = f"(({p}) + {z2} / (2 * {n})) / (1 + {z2} / {n})"
    half = f"({z} * sqrt(({p}) * (1 - ({p})) / {n} + {z2} / (4 * {n} * {n})) / (1 + {z2} / {n}))"
    # exact bounds at the edges, where floating point would leave 1 - 2e-16
    low = f"CASE WHEN ({num}) = 0 THEN 0.0 ELSE greatest(0.0, {centre} - {half}) END"
    high = f"CASE WHEN ({num}) = ({den}) THEN 1.0 ELSE least(1.0, {centre} + {half}) END"
    return p, low, high


def two_sided_p(z: str) -> str:
    """SQL for the two-sided normal p-value of z: erfc(|z|/sqrt 2), Abramowitz-Stegun 7.1.26."""
    x = f"(abs({z}) / sqrt(2))"
    t = f"(1 / (1 + 0.3275911 * {x}))"
    poly = (f"({t} * (0.254829592 + {t} * (-0.284496736 + {t} * (1.421413741 + {t} * "
            f"(-1.453152027 + {t} * 1.061405429)))))")
    return f"least(1.0, {poly} * exp(-{x} * {x}))"
