"""The 80/20 rule: how much revenue the best customers bring; Lorenz curve and Gini."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

LORENZ_POINTS = 20


def top_share(revenue: NDArray[np.float64], top_fraction: float) -> float:
    """Share of revenue from the top ``top_fraction`` of customers (ceil of the count)."""
    ordered = np.sort(np.clip(revenue, 0.0, None))[::-1]
    total = ordered.sum()
    if total == 0:
        return 0.0
    count = int(np.ceil(top_fraction * len(ordered) - 1e-9))
    return float(ordered[:count].sum() / total)


def lorenz_curve(
    revenue: NDArray[np.float64], points: int = LORENZ_POINTS
) -> list[dict[str, float]]:
    """Cumulative share of revenue held by the poorest share of customers, at even steps."""
    ordered = np.sort(np.clip(revenue, 0.0, None))
    cumulative = np.concatenate([[0.0], np.cumsum(ordered)])
    total = cumulative[-1] or 1.0
    shares = np.linspace(0.0, 1.0, points + 1)
    positions = shares * len(ordered)
    held = np.interp(positions, np.arange(len(cumulative)), cumulative) / total
    return [
        {"customer_share": float(c), "revenue_share": float(r)}
        for c, r in zip(shares, held, strict=True)
    ]


def gini(revenue: NDArray[np.float64]) -> float:
    """G = 2 sum(i x_(i)) / (n sum x) - (n + 1)/n, x ascending, negatives set to 0."""
    ordered = np.sort(np.clip(revenue, 0.0, None))
    n = len(ordered)
    total = ordered.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.dot(ranks, ordered) / (n * total) - (n + 1) / n)


def pareto_report(revenue: NDArray[np.float64], tops: Sequence[float] = (0.2,)) -> dict[str, Any]:
    return {
        "customers": len(revenue),
        "revenue": round(float(revenue.sum()), 2),
        "top_shares": [{"top": t, "revenue_share": top_share(revenue, t)} for t in tops],
        "gini": gini(revenue),
        "lorenz": lorenz_curve(revenue),
    }
