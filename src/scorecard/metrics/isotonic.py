"""Isotonic calibration of success on confidence, as scikit-learn's
`IsotonicRegression(out_of_bounds='clip')` fits and predicts it (SPEC section 3,
estimated_success_rate): pool adjacent violators over the distinct confidences (ties averaged,
weighted by their counts), then linear interpolation between the fitted points, clipped to
the fitted range. The fit runs on a grouped result (one row per distinct confidence), never
on the events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Calibration:
    """A fitted non-decreasing curve: knots (x, y) in x order, and the events it was fitted on."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    events: int

    def __call__(self, x: float) -> float:
        """The calibrated probability at x (what the SQL applying it computes)."""
        xs, ys = self.xs, self.ys
        if x <= xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        i = max(k for k in range(len(xs)) if xs[k] <= x)
        slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
        return slope * (x - xs[i]) + ys[i]

    def segments(self) -> list[tuple[float, float, float, float]]:
        """(from, x0, y0, slope) pieces: at x >= from (and below the next piece's from) the
        curve is y0 + slope * (x - x0). The first piece starts at -1, below any confidence."""
        xs, ys = self.xs, self.ys
        pieces = [(-1.0, xs[0], ys[0], 0.0)]
        for i in range(len(xs) - 1):
            pieces.append((xs[i], xs[i], ys[i], (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])))
        pieces.append((xs[-1], xs[-1], ys[-1], 0.0))
        return pieces


def fit(points: list[tuple[float, float, float]]) -> Calibration | None:
    """Fit on (confidence, events, successes) rows with distinct confidences in ascending
    order; None without events."""
    blocks: list[list[float]] = []  # [mean, weight, first x index, last x index]
    xs = [float(x) for x, _, _ in points]
    for i, (_, n, s) in enumerate(points):
        if not n:
            continue
        blocks.append([s / n, float(n), i, i])
        while len(blocks) > 1 and blocks[-2][0] >= blocks[-1][0]:
            mean, weight, _, last = blocks.pop()
            prev = blocks[-1]
            total = prev[1] + weight
            prev[0] = (prev[0] * prev[1] + mean * weight) / total
            prev[1], prev[3] = total, last
    if not blocks:
        return None
    fitted_x: list[float] = []
    fitted_y: list[float] = []
    for mean, _, first, last in blocks:  # a block's inner points add nothing to the curve
        fitted_x.append(xs[first])
        fitted_y.append(mean)
        if last != first:
            fitted_x.append(xs[last])
            fitted_y.append(mean)
    return Calibration(tuple(fitted_x), tuple(fitted_y), int(sum(n for _, n, _ in points)))
