"""The complaints report's statistics against published and hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patronage.domain.care_report import (
    PurchaseHistory,
    match_and_compare,
    newcombe_difference,
    percentile,
)


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), table II, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    difference, (low, high) = newcombe_difference(56, 70, 48, 80)
    assert difference == pytest.approx(0.2)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_percentile_interpolates_between_order_statistics() -> None:
    assert percentile([1.0, 3.0], 50) == 2.0
    assert percentile([1.0, 3.0], 90) == pytest.approx(2.8)
    assert percentile([], 50) is None


def test_matching_needs_the_same_cell_and_takes_the_closest_spend() -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    joined = {1: day - timedelta(days=400), 2: day - timedelta(days=400),
              3: day - timedelta(days=400), 4: day - timedelta(days=10)}  # fmt: skip
    histories = {
        1: PurchaseHistory.of([(day - timedelta(days=5), 300_000), (day + timedelta(days=3), 1)]),
        2: PurchaseHistory.of([(day - timedelta(days=5), 120_000)]),  # same band, 1000-4999
        3: PurchaseHistory.of([(day - timedelta(days=5), 290_000), (day + timedelta(days=9), 5)]),
        4: PurchaseHistory.of([(day - timedelta(days=5), 300_000)]),  # tenure <90: no match
    }
    result = match_and_compare([(1, day)], [2, 3, 4], joined, histories, days=30)
    assert (result.matched_controls, result.unmatched) == (1, 0)
    assert (result.recovered_rate, result.control_rate) == (1.0, 1.0)  # matched 3, who bought
    alone = match_and_compare([(1, day)], [4], joined, histories, days=30)
    assert (alone.matched_controls, alone.unmatched, alone.difference) == (0, 1, None)
