"""The ledger's arithmetic, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patronage.domain.ledger import (
    Lot,
    balance_of,
    lot_expiry,
    plan_spend,
    points_for_amount,
    repay_debt,
    reversal_for_refund,
)
from patronage.domain.program import default_program
from patronage.errors import RuleViolation

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def lot(id: int, remaining: int, days_to_expiry: int | None, earned_days_ago: int = 0) -> Lot:
    earned = T0 - timedelta(days=earned_days_ago)
    expires = None if days_to_expiry is None else T0 + timedelta(days=days_to_expiry)
    return Lot(id, remaining, earned, earned, expires)


@pytest.mark.parametrize(
    ("amount", "rate", "multiplier", "points"),
    [
        (8880, "1", "1", 88),
        (8880, "1", "1.25", 111),
        (99, "1", "1.5", 1),
        (50, "1", "1.5", 0),
        (10000, "0.5", "1", 50),
        (1, "1", "1", 0),
    ],
)
def test_points_round_down_once(amount: int, rate: str, multiplier: str, points: int) -> None:
    assert points_for_amount(amount, Decimal(rate), Decimal(multiplier)) == points


def test_expiry_policies_in_program_time() -> None:
    program = default_program()
    assert lot_expiry(program, T0) == datetime(2027, 3, 11, tzinfo=UTC)
    shanghai = replace(program, timezone="Asia/Shanghai")
    # 2026-03-10T20:00Z is already 2026-03-11 in Shanghai
    late = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    assert lot_expiry(shanghai, late) == datetime(2027, 3, 12, tzinfo=UTC) - timedelta(hours=8)
    month = replace(program, expiry_policy="end_of_month")
    assert lot_expiry(month, T0) == datetime(2026, 4, 1, tzinfo=UTC)
    assert lot_expiry(replace(month, expiry_policy="end_of_year"), T0) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert lot_expiry(replace(program, expiry_policy="never"), T0) is None
    december = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert lot_expiry(month, december) == datetime(2027, 1, 1, tzinfo=UTC)


def test_spend_soonest_expiry_first_ties_by_older_lot() -> None:
    lots = [
        lot(1, 50, None),
        lot(2, 30, 100, earned_days_ago=1),
        lot(3, 30, 100, earned_days_ago=5),
        lot(4, 20, 10),
    ]
    assert plan_spend(lots, 70, T0) == [(4, 20), (3, 30), (2, 20)]


def test_spend_ignores_pending_and_expired_and_refuses_whole() -> None:
    pending = Lot(1, 100, T0, T0 + timedelta(days=14), None)
    expired = lot(2, 100, -1)
    live = lot(3, 10, 30)
    with pytest.raises(RuleViolation) as err:
        plan_spend([pending, expired, live], 11, T0)
    assert err.value.details == {"requested": 11, "available": 10}
    balance = balance_of([pending, expired, live], debt=4, now=T0)
    assert (balance.available, balance.pending, balance.debt, balance.total) == (10, 100, 4, 106)
    assert balance.expiring_soon == 10


def test_refund_reversal_is_cumulative_and_exact_on_full_refund() -> None:
    assert reversal_for_refund(25000, 0, 10000, 250, 0) == 100
    assert reversal_for_refund(25000, 10000, 15000, 250, 100) == 150
    with pytest.raises(RuleViolation):
        reversal_for_refund(25000, 25000, 1, 250, 250)


@given(st.integers(1, 10**7), st.integers(0, 10**5), st.lists(st.integers(1, 10**6), min_size=1))
def test_partial_refunds_never_exceed_and_sum_to_earned(
    amount: int, earned: int, parts: list[int]
) -> None:
    refunded = reversed_ = 0
    for part in parts:
        part = min(part, amount - refunded)
        if part <= 0:
            break
        step = reversal_for_refund(amount, refunded, part, earned, reversed_)
        assert step >= 0
        refunded, reversed_ = refunded + part, reversed_ + step
        assert reversed_ <= earned
    if refunded < amount:
        reversed_ += reversal_for_refund(amount, refunded, amount - refunded, earned, reversed_)
    assert reversed_ == earned


def test_debt_is_repaid_first() -> None:
    assert repay_debt(100, 30) == (30, 70)
    assert repay_debt(10, 30) == (10, 0)
    assert repay_debt(10, 0) == (0, 10)
