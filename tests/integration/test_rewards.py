"""The reward catalog on SQLite and PostgreSQL: prices per tier, stock, limits, visibility."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.domain.coupons import Discount
from patronage.errors import Conflict, InvalidInput, PatronageError, RuleViolation
from patronage.services.balances import get_balance
from patronage.services.coupons import redeem_coupon, validate_coupon
from patronage.services.members import NewMember, enroll_member
from patronage.services.rewards import (
    NewReward,
    add_reward,
    change_reward,
    get_reward,
    list_rewards,
    redeem_reward,
)
from patronage.services.tiers import override_tier
from patronage.storage.invariants import find_violations
from patronage.storage.tables import LedgerEntryRow
from patronage.storage.uow import UnitOfWork

COFFEE = Discount("free_item", sku="COF-1")


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    return Shop(engine, clock)


def reward(shop: Shop, code: str = "coffee", points: int = 100, **fields: Any) -> int:
    request = NewReward(code=code, name=code.title(), points=points, discount=COFFEE, **fields)
    return add_reward(shop.uow(), request, actor="admin").id


def available(shop: Shop, member_id: int) -> int:
    return get_balance(shop.uow(), member_id).available


def test_redeem_spends_points_takes_stock_and_issues_a_coupon(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "250.00")
    reward_id = reward(shop, stock=2, category="drinks")
    done = redeem_reward(shop.uow(), alice.id, reward_id, actor="app")
    assert (done.points, done.available) == (100, 150)
    assert available(shop, alice.id) == 150
    assert get_reward(shop.uow(), reward_id).stock == 1
    coupon = validate_coupon(shop.uow(), done.coupon_code, member_id=alice.id)
    assert coupon.valid and coupon.discount["sku"] == "COF-1"
    assert coupon.expires_at == shop.clock() + timedelta(days=30)
    with shop.engine.connect() as conn:
        points, details = conn.execute(
            select(LedgerEntryRow.points, LedgerEntryRow.details).where(
                LedgerEntryRow.kind == "redeem"
            )
        ).one()
    assert points == -100 and details["reward_id"] == reward_id
    # the coupon is the member's own
    with pytest.raises(RuleViolation) as other:
        redeem_coupon(shop.uow(), done.coupon_code, member_id=shop.member("b").id)
    assert other.value.code == "coupon_not_for_member"
    assert redeem_coupon(shop.uow(), done.coupon_code, member_id=alice.id).redemptions_left == 0
    assert find_violations(shop.engine) == {}


def test_tier_price(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "300.00")
    override_tier(shop.uow(), alice.id, "gold", shop.clock() + timedelta(days=90), "vip", "admin")
    reward_id = reward(shop, points=200, tier_prices={"gold": 120})
    assert list_rewards(shop.uow(), member_id=alice.id)[0].price == 120
    assert redeem_reward(shop.uow(), alice.id, reward_id).points == 120
    assert available(shop, alice.id) == 180


def test_short_of_points_writes_nothing(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "50.00")
    reward_id = reward(shop, stock=1)
    with pytest.raises(RuleViolation) as short:
        redeem_reward(shop.uow(), alice.id, reward_id)
    assert short.value.code == "insufficient_points"
    assert get_reward(shop.uow(), reward_id).stock == 1
    assert available(shop, alice.id) == 50


def test_out_of_stock_refunds_nothing_because_nothing_was_spent(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "500.00")
    reward_id = reward(shop, stock=1)
    redeem_reward(shop.uow(), alice.id, reward_id)
    with pytest.raises(RuleViolation) as gone:
        redeem_reward(shop.uow(), alice.id, reward_id)
    assert gone.value.code == "out_of_stock"
    assert available(shop, alice.id) == 400
    change_reward(shop.uow(), reward_id, "admin", add_stock=3, reason="delivery")
    assert get_reward(shop.uow(), reward_id).stock == 3


def test_per_member_limit_and_validity_window(shop: Shop, clock: FixedClock) -> None:
    alice = shop.member()
    shop.buy(alice, "900.00")
    now = clock()
    reward_id = reward(shop, per_member_limit=2, valid_from=now, valid_to=now + timedelta(days=7))
    redeem_reward(shop.uow(), alice.id, reward_id)
    redeem_reward(shop.uow(), alice.id, reward_id)
    with pytest.raises(RuleViolation) as limit:
        redeem_reward(shop.uow(), alice.id, reward_id)
    assert limit.value.code == "reward_member_limit"
    later = reward(shop, "later", valid_from=now + timedelta(days=1))
    with pytest.raises(RuleViolation) as early:
        redeem_reward(shop.uow(), alice.id, later)
    assert early.value.code == "reward_not_on_offer"
    clock.advance(days=8)
    with pytest.raises(RuleViolation):
        redeem_reward(shop.uow(), alice.id, reward_id)


def test_member_exclusive_offers(shop: Shop) -> None:
    plain = shop.member("plain")
    vip = enroll_member(
        shop.uow(), NewMember(external_id="vip", attributes={"segments": ["coffee-lovers"]})
    )
    for m in (plain, vip):
        shop.buy(m, "500.00")
    override_tier(shop.uow(), vip.id, "gold", shop.clock() + timedelta(days=90), "vip", "admin")
    reward(shop, "everyone")
    gold_only = reward(shop, "gold-lounge", visible_tiers=("gold",))
    segment_only = reward(shop, "beans", visible_segment="coffee-lovers")
    assert [r.code for r in list_rewards(shop.uow(), member_id=plain.id)] == ["everyone"]
    assert {r.code for r in list_rewards(shop.uow(), member_id=vip.id)} == {
        "everyone",
        "gold-lounge",
        "beans",
    }
    assert len(list_rewards(shop.uow())) == 3
    for hidden in (gold_only, segment_only):
        with pytest.raises(RuleViolation) as refused:
            redeem_reward(shop.uow(), plain.id, hidden)
        assert refused.value.code == "reward_not_visible"
    assert redeem_reward(shop.uow(), vip.id, segment_only).points == 100


def test_switched_off_reward_is_not_listed_for_members(shop: Shop) -> None:
    alice = shop.member()
    reward_id = reward(shop)
    change_reward(shop.uow(), reward_id, "admin", active=False)
    assert list_rewards(shop.uow(), member_id=alice.id) == []
    assert list_rewards(shop.uow())[0].on_offer is False


def test_idempotent_redemption(shop: Shop) -> None:
    alice = shop.member()
    shop.buy(alice, "500.00")
    reward_id = reward(shop, stock=5)
    first = redeem_reward(shop.uow(), alice.id, reward_id, idempotency_key="r-1")
    again = redeem_reward(shop.uow(), alice.id, reward_id, idempotency_key="r-1")
    assert again == first
    assert available(shop, alice.id) == 400 and get_reward(shop.uow(), reward_id).stock == 4


def test_bad_catalog_entries_name_the_field(shop: Shop) -> None:
    reward(shop, "taken")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"points": 0}, "points"),
        ({"tier_prices": {"platinum": 5}}, "tier_prices.platinum"),
        ({"tier_prices": {"gold": -1}}, "tier_prices.gold"),
        ({"stock": -1}, "stock"),
        ({"per_member_limit": 0}, "per_member_limit"),
        ({"visible_tiers": ("diamond",)}, "visible_tiers"),
        ({"discount": Discount("percent", 150)}, "discount.value"),
    ]
    for fields, field in cases:
        request = NewReward(
            **{"code": "x", "name": "X", "points": 10, "discount": COFFEE, **fields}
        )
        with pytest.raises(InvalidInput) as bad:
            add_reward(shop.uow(), request, "admin")
        assert bad.value.details["field"] == field
    with pytest.raises(Conflict):
        reward(shop, "taken")


def test_20_members_race_for_the_last_5_units(shop: Shop) -> None:
    members = [shop.member(f"m{i}") for i in range(20)]
    for m in members:
        shop.buy(m, "150.00")
    reward_id = reward(shop, stock=5)

    def redeem(member_id: int) -> str:
        try:
            redeem_reward(UnitOfWork(shop.engine, shop.clock), member_id, reward_id)
        except PatronageError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(redeem, [m.id for m in members]))
    assert outcomes.count("ok") == 5
    assert set(outcomes) == {"ok", "out_of_stock"}
    assert get_reward(shop.uow(), reward_id).stock == 0
    balances = sorted(available(shop, m.id) for m in members)
    assert balances == [50] * 5 + [150] * 15  # the losers kept their points
    assert find_violations(shop.engine) == {}
