"""Tier rules, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from patronage.domain.program import default_program
from patronage.domain.tiers import (
    at_review,
    on_activity,
    qualifying_tier,
    review_dates,
    window_start,
)

PROGRAM = default_program()
MEMBER, SILVER, GOLD = PROGRAM.tiers
REVIEW = datetime(2027, 1, 1, tzinfo=UTC)


def test_qualifying_tier_by_threshold() -> None:
    assert qualifying_tier(PROGRAM, 999) == MEMBER
    assert qualifying_tier(PROGRAM, 1000) == SILVER
    assert qualifying_tier(PROGRAM, 5000) == GOLD


def test_upgrade_on_activity_only_upwards_and_not_under_override() -> None:
    assert on_activity(PROGRAM, MEMBER, SILVER, False).tier == SILVER  # type: ignore[union-attr]
    assert on_activity(PROGRAM, GOLD, SILVER, False) is None
    assert on_activity(PROGRAM, MEMBER, GOLD, True) is None


def test_downgrade_only_at_review_after_grace() -> None:
    long_ago = REVIEW - timedelta(days=200)
    assert at_review(PROGRAM, GOLD, SILVER, long_ago, REVIEW, None).tier == SILVER  # type: ignore[union-attr]
    recent = REVIEW - timedelta(days=10)
    assert at_review(PROGRAM, GOLD, SILVER, recent, REVIEW, None) is None


def test_override_holds_until_it_ends_then_falls_back() -> None:
    since = REVIEW - timedelta(days=300)
    assert at_review(PROGRAM, GOLD, MEMBER, since, REVIEW, REVIEW + timedelta(days=1)) is None
    ended = at_review(PROGRAM, GOLD, MEMBER, since, REVIEW, REVIEW - timedelta(days=1))
    assert ended is not None and ended.tier == MEMBER


def test_windows_and_review_dates() -> None:
    now = datetime(2026, 6, 15, tzinfo=UTC)
    assert window_start(PROGRAM, now) == now - timedelta(days=365)
    calendar = replace(PROGRAM, tier_window="calendar_year")
    assert window_start(calendar, now) == datetime(2026, 1, 1, tzinfo=UTC)
    dates = review_dates(
        PROGRAM, datetime(2025, 6, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert dates == [datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)]
