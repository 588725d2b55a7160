"""LEDGER_SEMANTICS.md, example by example, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.factories import Shop

from patronage.errors import Conflict, RuleViolation
from patronage.services.balances import explain_balance, get_balance
from patronage.services.expiry import expire_due_lots
from patronage.services.points import adjust_points, redeem_points, transfer_points
from patronage.storage.invariants import find_violations


@pytest.fixture
def shop(engine, clock) -> Shop:
    return Shop(engine, clock)


def balance(shop: Shop, member) -> int:
    return get_balance(shop.uow(), member.id).available


def test_purchase_earns_rounded_down(shop: Shop) -> None:
    alice = shop.member()
    result = shop.buy(alice, "88.80")
    assert result.points_earned == 88
    assert balance(shop, alice) == 88
    assert find_violations(shop.engine) == {}


def test_tier_applies_before_the_event(shop: Shop) -> None:
    alice = shop.member()
    first = shop.buy(alice, "1000.00")
    assert (first.points_earned, first.tier) == (1000, "silver")
    second = shop.buy(alice, "100.00")
    assert second.points_earned == 125


def test_lot_expires_at_end_of_365th_day(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "100.00")  # 2026-03-10T15:00Z
    assert expire_due_lots(shop.uow(), "default", datetime(2027, 3, 10, 23, 59, tzinfo=UTC)) == 0
    assert expire_due_lots(shop.uow(), "default", datetime(2027, 3, 11, 0, 0, tzinfo=UTC)) == 1
    assert expire_due_lots(shop.uow(), "default", datetime(2027, 3, 11, 0, 0, tzinfo=UTC)) == 0
    shop.clock.now = datetime(2027, 3, 12, tzinfo=UTC)
    assert balance(shop, alice) == 0
    assert find_violations(shop.engine) == {}


def test_expired_points_not_spendable_before_the_job(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "100.00")
    shop.clock.now = datetime(2027, 3, 11, 0, 0, tzinfo=UTC)
    with pytest.raises(RuleViolation) as err:
        redeem_points(shop.uow(), alice.id, 10)
    assert err.value.code == "insufficient_points"


def test_redeem_soonest_expiring_first(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "30.00")
    shop.clock.advance(days=10)
    shop.buy(alice, "50.00")
    result = redeem_points(shop.uow(), alice.id, 40)
    assert [lot["points"] for lot in result.lots] == [30, 10]
    assert result.available == 40


def test_redeem_more_than_available_refused_whole(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "30.00")
    with pytest.raises(RuleViolation):
        redeem_points(shop.uow(), alice.id, 31)
    assert balance(shop, alice) == 30


def test_partial_then_full_refund(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "250.00", order_id="A")
    assert shop.refund(alice, "A", "100.00").points_reversed == 100
    assert shop.refund(alice, "A", "150.00").points_reversed == 150
    assert balance(shop, alice) == 0
    with pytest.raises(RuleViolation) as err:
        shop.refund(alice, "A", "0.01")
    assert err.value.code == "refund_exceeds_order"


def test_rounding_on_partial_refunds_sums_to_earned(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "10.00", order_id="B")
    parts = [shop.refund(alice, "B", "3.33").points_reversed for _ in range(3)]
    parts.append(shop.refund(alice, "B", "0.01").points_reversed)
    assert sum(parts) == 10


def test_refund_of_spent_points_becomes_debt_repaid_by_next_earning(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "100.00", order_id="A")
    redeem_points(shop.uow(), alice.id, 80)
    result = shop.refund(alice, "A", "100.00")
    assert (result.points_reversed, result.debt_added) == (100, 80)
    view = get_balance(shop.uow(), alice.id)
    assert (view.available, view.debt, view.balance) == (0, 80, -80)
    later = shop.buy(alice, "100.00")
    assert later.debt_repaid == 80
    assert get_balance(shop.uow(), alice.id).available == 20
    assert find_violations(shop.engine) == {}


def test_unknown_order_refund_refused(shop: Shop) -> None:
    alice = shop.member()
    with pytest.raises(RuleViolation) as err:
        shop.refund(alice, "nope", "1.00")
    assert err.value.code == "unknown_order"


def test_duplicate_order_and_idempotency(shop: Shop) -> None:
    alice = shop.member()
    first = shop.buy(alice, "10.00", order_id="X", key="k1")
    again = shop.buy(alice, "10.00", order_id="X", key="k1")
    assert again == first
    with pytest.raises(Conflict) as err:
        shop.buy(alice, "11.00", order_id="X", key="k1")
    assert err.value.code == "idempotency_key_reused"
    with pytest.raises(Conflict) as err:
        shop.buy(alice, "10.00", order_id="X", key="k2")
    assert err.value.code == "duplicate_order"
    assert balance(shop, alice) == 10


def test_transfer_keeps_expiry(shop: Shop) -> None:
    alice, bob = shop.member("a"), shop.member("b")
    shop.buy(alice, "100.00")
    transfer_points(shop.uow(), alice.id, bob.id, 60)
    explained = explain_balance(shop.uow(), bob.id)
    assert [lot["remaining"] for lot in explained["lots"]] == [60]
    assert explained["lots"][0]["expires_at"] == datetime(2027, 3, 11, tzinfo=UTC)
    assert balance(shop, alice) == 40
    assert find_violations(shop.engine) == {}


def test_adjustment_needs_reason_and_is_audited(shop: Shop) -> None:
    from patronage.errors import InvalidInput

    alice = shop.member()
    with pytest.raises(InvalidInput):
        adjust_points(shop.uow(), alice.id, 50, " ", "admin")
    result = adjust_points(shop.uow(), alice.id, 50, "goodwill", "apikey:1")
    assert result.balance == 50
    with shop.uow() as uow:
        [row] = uow.audit.list("member", str(alice.id), 10)
        assert (row.actor, row.reason, row.after["balance"]) == ("apikey:1", "goodwill", 50)


def test_explanation_names_sources_and_reductions(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "100.00", order_id="A")
    redeem_points(shop.uow(), alice.id, 30)
    explained = explain_balance(shop.uow(), alice.id)
    assert explained["lots"][0]["source"]["order_id"] == "A"
    assert explained["lots"][0]["remaining"] == 70
    assert explained["reductions"][0]["kind"] == "redeem"
    assert explained["reductions"][0]["lots"][0]["points"] == 30
