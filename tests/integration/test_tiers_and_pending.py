"""Tier moves and pending points on real databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.factories import Shop

from patronage.domain.program import default_program
from patronage.errors import RuleViolation
from patronage.services.balances import get_balance
from patronage.services.points import redeem_points
from patronage.services.programs import create_program
from patronage.services.tiers import override_tier, review_tiers
from patronage.storage.invariants import find_violations


@pytest.fixture
def shop(engine, clock) -> Shop:  # type: ignore[no-untyped-def]
    return Shop(engine, clock)


def history(shop: Shop, member_id: int) -> list[tuple[str, str]]:
    with shop.uow() as uow:
        return [(h["tier"], h["reason"]) for h in uow.members.tier_history(member_id)]


def test_upgrade_at_once_downgrade_at_review(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "1200.00")
    assert get_balance(shop.uow(), alice.id).tier == "silver"
    # the next review (2027-01-01) is within a year of earning: still qualified
    assert review_tiers(shop.uow(), "default", datetime(2027, 1, 2, tzinfo=UTC)) == 0
    # by the 2028 review the points earned in the window are gone
    shop.clock.now = datetime(2028, 1, 2, tzinfo=UTC)
    assert review_tiers(shop.uow(), "default", shop.clock()) == 1
    assert get_balance(shop.uow(), alice.id).tier == "member"
    assert review_tiers(shop.uow(), "default", shop.clock()) == 0  # repeat does nothing
    assert [t for t, _ in history(shop, alice.id)] == ["member", "silver", "member"]
    assert find_violations(shop.engine) == {}


def test_refunds_reduce_qualifying_points(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "900.00", order_id="A")
    shop.refund(alice, "A", "900.00")
    shop.buy(alice, "200.00")
    assert get_balance(shop.uow(), alice.id).tier == "member"


def test_override_expires_and_is_not_a_floor(shop: Shop) -> None:
    alice = shop.member()
    until = shop.clock() + timedelta(days=30)
    override_tier(shop.uow(), alice.id, "gold", until, "VIP guest", "admin")
    assert get_balance(shop.uow(), alice.id).tier == "gold"
    assert review_tiers(shop.uow(), "default", until + timedelta(hours=1)) == 1
    assert get_balance(shop.uow(), alice.id).tier == "member"
    reasons = [r for _, r in history(shop, alice.id)]
    assert reasons[-2:] == ["manual override: VIP guest", "manual override expired"]
    assert find_violations(shop.engine) == {}


def test_pending_points_not_spendable_and_cancelled_by_refund(engine, clock) -> None:  # type: ignore[no-untyped-def]
    from patronage.storage.uow import UnitOfWork

    base = default_program()
    create_program(UnitOfWork(engine, clock), replace(base, code="cafe", pending_days=14))
    shop = Shop(engine, clock)
    from patronage.services.members import NewMember, enroll_member

    alice = enroll_member(shop.uow(), NewMember(external_id="a", program="cafe"))
    shop.buy(alice, "100.00", order_id="P", program="cafe")
    view = get_balance(shop.uow(), alice.id)
    assert (view.available, view.pending) == (0, 100)
    with pytest.raises(RuleViolation):
        redeem_points(shop.uow(), alice.id, 1)
    from decimal import Decimal

    from patronage.services.events import EventRequest, record_event

    record_event(
        shop.uow(),
        EventRequest(
            type="refund",
            program="cafe",
            member_id=alice.id,
            original_order_id="P",
            amount=Decimal("40.00"),
            occurred_at=clock(),
        ),
    )
    view = get_balance(shop.uow(), alice.id)
    assert (view.available, view.pending, view.debt) == (0, 60, 0)
    clock.advance(days=14)
    assert get_balance(shop.uow(), alice.id).available == 60
    assert find_violations(engine) == {}
