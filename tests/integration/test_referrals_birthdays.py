"""Referrals reward both sides once; abuse is refused; birthday bonus once a year."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.factories import Shop

from patronage.errors import Conflict, NotFound, RuleViolation
from patronage.services.balances import get_balance
from patronage.services.birthdays import award_birthday_points
from patronage.services.referrals import refer, referral_code, reward_referrals
from patronage.storage.invariants import find_violations


@pytest.fixture
def shop(engine, clock) -> Shop:  # type: ignore[no-untyped-def]
    return Shop(engine, clock)


def points(shop: Shop, member) -> int:  # type: ignore[no-untyped-def]
    return get_balance(shop.uow(), member.id).available


def test_referral_rewards_both_once_after_a_qualifying_purchase(shop: Shop) -> None:
    alice, bob = shop.member("alice"), shop.member("bob")
    code = referral_code(shop.uow(), alice.id)
    assert referral_code(shop.uow(), alice.id) == code
    refer(shop.uow(), bob.id, code.lower())
    shop.buy(bob, "20.00")  # below the 50.00 minimum
    assert reward_referrals(shop.uow(), "default") == 0
    shop.buy(bob, "60.00", order_id="big")
    assert reward_referrals(shop.uow(), "default") == 1
    assert reward_referrals(shop.uow(), "default") == 0
    assert points(shop, alice) == 200
    assert points(shop, bob) == 20 + 60 + 100
    assert find_violations(shop.engine) == {}


def test_referral_abuse_is_refused(shop: Shop) -> None:
    alice = shop.member("alice", phone="13800000001")
    twin = shop.member("alice-2", phone="13800000001")
    buyer, carol = shop.member("buyer"), shop.member("carol")
    code = referral_code(shop.uow(), alice.id)
    cases = [(alice.id, "self_referral"), (twin.id, "duplicate_identity")]
    shop.buy(buyer, "10.00")
    cases.append((buyer.id, "not_new"))
    for member_id, expected in cases:
        with pytest.raises(RuleViolation) as err:
            refer(shop.uow(), member_id, code)
        assert err.value.code == expected
    refer(shop.uow(), carol.id, code)
    with pytest.raises(Conflict):
        refer(shop.uow(), carol.id, code)
    with pytest.raises(RuleViolation) as err:
        refer(shop.uow(), alice.id, referral_code(shop.uow(), carol.id))
    assert err.value.code == "mutual_referral"
    with pytest.raises(NotFound):
        refer(shop.uow(), carol.id, "NOSUCHCODE")


def test_birthday_bonus_once_a_year_with_consent(shop: Shop) -> None:
    fan = shop.member("fan", birthday=date(1990, 3, 25), consents={"email": True})
    quiet = shop.member("quiet", birthday=date(1991, 3, 2), consents={"email": False})
    other = shop.member("other", birthday=date(1992, 7, 1), consents={"sms": True})
    when = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert award_birthday_points(shop.uow(), "default", when) == 1
    assert award_birthday_points(shop.uow(), "default", when) == 0
    assert [points(shop, m) for m in (fan, quiet, other)] == [100, 0, 0]
    assert award_birthday_points(shop.uow(), "default", datetime(2027, 3, 1, tzinfo=UTC)) == 1
    assert find_violations(shop.engine) == {}
