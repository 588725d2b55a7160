"""Coupons on SQLite and PostgreSQL: generation, import, validation, redemption, reversal."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.domain.coupon_codes import check_character, is_well_formed
from patronage.domain.coupons import Discount
from patronage.errors import Conflict, InvalidInput, NotFound, PatronageError, RuleViolation
from patronage.services.coupon_batches import (
    NewBatch,
    batch_codes,
    create_batch,
    generate_codes,
    import_codes,
)
from patronage.services.coupons import redeem_coupon, reverse_redemption, validate_coupon
from patronage.storage.tables import AuditRow, CouponRow
from patronage.storage.uow import UnitOfWork


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    return Shop(engine, clock)


def batch(shop: Shop, count: int = 0, **rules: object) -> int:
    request = NewBatch(name="spring", discount=Discount("percent", 10), **rules)  # type: ignore[arg-type]
    return create_batch(shop.uow(), request, count=count, actor="admin").id


def codes_of(shop: Shop, batch_id: int) -> list[str]:
    return [code for _, code, _ in batch_codes(shop.uow(), batch_id, limit=10_000)]


def test_generate_100000_unique_codes(shop: Shop) -> None:
    batch_id = batch(shop)
    seen: list[int] = []
    codes = generate_codes(shop.uow(), batch_id, 100_000, progress=seen.append)
    assert len(set(codes)) == 100_000
    assert seen[-1] == 100_000 and seen == sorted(seen)
    with shop.engine.connect() as conn:
        stored = conn.scalar(select(func.count(func.distinct(CouponRow.code))))
    assert stored == 100_000
    assert all(is_well_formed(code) for code in codes[:1000])


def test_percent_coupon_validates_and_redeems_once(shop: Shop) -> None:
    code = codes_of(shop, batch(shop, count=3))[0]
    check = validate_coupon(shop.uow(), code.lower(), amount_minor=8880)
    assert check.valid and check.discount_minor == 888 and check.redemptions_left == 1
    # validating twice writes nothing
    assert validate_coupon(shop.uow(), code).redemptions_left == 1
    done = redeem_coupon(shop.uow(), code, order_id="o-1", amount_minor=8880, actor="till-1")
    assert (done.discount_minor, done.redemptions_left) == (888, 0)
    with pytest.raises(RuleViolation) as again:
        redeem_coupon(shop.uow(), code)
    assert again.value.code == "coupon_used_up"
    check = validate_coupon(shop.uow(), code)
    assert not check.valid and check.reason == "coupon_used_up"


def test_fixed_and_free_item_discounts(shop: Shop) -> None:
    fixed = create_batch(shop.uow(), NewBatch("ten off", Discount("fixed", 1000)), count=1).id
    free = create_batch(
        shop.uow(), NewBatch("free coffee", Discount("free_item", sku="COF-1")), 1
    ).id
    small = validate_coupon(shop.uow(), codes_of(shop, fixed)[0], amount_minor=600)
    assert small.discount_minor == 600  # never more than the order
    coffee = redeem_coupon(shop.uow(), codes_of(shop, free)[0], amount_minor=600)
    assert coffee.discount == {"type": "free_item", "value": None, "sku": "COF-1"}
    assert coffee.discount_minor is None


def test_multi_use_code_with_a_per_member_limit(shop: Shop) -> None:
    alice, bob = shop.member("a"), shop.member("b")
    code = codes_of(shop, batch(shop, count=1, max_redemptions=3, per_member_limit=1))[0]
    redeem_coupon(shop.uow(), code, member_id=alice.id)
    with pytest.raises(RuleViolation) as limit:
        redeem_coupon(shop.uow(), code, member_id=alice.id)
    assert limit.value.code == "coupon_member_limit"
    with pytest.raises(RuleViolation) as anonymous:
        redeem_coupon(shop.uow(), code)
    assert anonymous.value.code == "member_required"
    assert redeem_coupon(shop.uow(), code, member_id=bob.id).redemptions_left == 1
    assert not validate_coupon(shop.uow(), code, member_id=alice.id).valid
    assert validate_coupon(shop.uow(), code, member_id=shop.member("c").id).valid


def test_expiry_and_start(shop: Shop, clock: FixedClock) -> None:
    now = clock()
    code = codes_of(
        shop,
        batch(
            shop, count=1, valid_from=now + timedelta(days=1), expires_at=now + timedelta(days=2)
        ),
    )[0]
    assert validate_coupon(shop.uow(), code).reason == "coupon_not_yet_valid"
    clock.advance(days=1)
    assert validate_coupon(shop.uow(), code).valid
    clock.advance(days=1)
    with pytest.raises(RuleViolation) as expired:
        redeem_coupon(shop.uow(), code)
    assert expired.value.code == "coupon_expired"


def test_reverse_gives_the_use_back_once_and_is_audited(shop: Shop) -> None:
    code = codes_of(shop, batch(shop, count=1))[0]
    used = redeem_coupon(shop.uow(), code, order_id="o-9")
    reversed_ = reverse_redemption(shop.uow(), code, used.id, "order cancelled", "staff:7")
    assert reversed_.reversed_at is not None and reversed_.redemptions_left == 1
    with pytest.raises(Conflict) as twice:
        reverse_redemption(shop.uow(), code, used.id, "again", "staff:7")
    assert twice.value.code == "already_reversed"
    assert redeem_coupon(shop.uow(), code).redemptions_left == 0
    with shop.engine.connect() as conn:
        actions = conn.scalars(select(AuditRow.action)).all()
    assert "coupon_redemption_reversed" in actions
    with pytest.raises(InvalidInput):
        reverse_redemption(shop.uow(), code, used.id, " ", "staff:7")


def test_typo_unknown_and_malformed_codes(shop: Shop) -> None:
    code = codes_of(shop, batch(shop, count=1))[0]
    typo = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    with pytest.raises(InvalidInput) as mistyped:
        validate_coupon(shop.uow(), typo)
    assert mistyped.value.code == "mistyped_code"
    with pytest.raises(NotFound):
        validate_coupon(shop.uow(), "SHOP-0001")  # not ours: no check character to test
    with pytest.raises(NotFound):
        validate_coupon(shop.uow(), "ZZZZZZZZ" + check_character("ZZZZZZZZ"))
    with pytest.raises(InvalidInput):
        validate_coupon(shop.uow(), "AB")


def test_import_a_pool_all_or_nothing_and_rerunnable(shop: Shop) -> None:
    batch_id = batch(shop)
    added = import_codes(shop.uow(), batch_id, ["shop-0001", "SHOP0002", " shop0003 "])
    assert (added.added, added.skipped) == (3, 0)
    again = import_codes(shop.uow(), batch_id, ["SHOP0001", "SHOP0004"])
    assert (again.added, again.skipped) == (1, 1)
    assert redeem_coupon(shop.uow(), "shop0004").code == "SHOP0004"
    other = batch(shop)
    with pytest.raises(Conflict) as taken:
        import_codes(shop.uow(), other, ["NEW00001", "SHOP0002"])
    assert taken.value.code == "code_taken"
    with pytest.raises(InvalidInput) as repeated:
        import_codes(shop.uow(), other, ["NEW00001", "new00001"])
    assert repeated.value.details["line"] == 2
    with pytest.raises(InvalidInput):
        import_codes(shop.uow(), other, ["NEW00001", "bad code!"])
    assert codes_of(shop, other) == []  # nothing half-written


def test_bad_batches_are_refused_naming_the_field(shop: Shop) -> None:
    cases = [
        (NewBatch("x", Discount("percent", 0)), "discount.value"),
        (NewBatch("x", Discount("percent", 101)), "discount.value"),
        (NewBatch("x", Discount("fixed", -5)), "discount.value"),
        (NewBatch("x", Discount("free_item")), "discount.sku"),
        (NewBatch("x", Discount("bogus", 1)), "discount.type"),
        (NewBatch("", Discount("percent", 5)), "name"),
        (NewBatch("x", Discount("percent", 5), max_redemptions=0), "max_redemptions"),
        (NewBatch("x", Discount("percent", 5), code_length=3), "code_length"),
    ]
    for request, field in cases:
        with pytest.raises(InvalidInput) as bad:
            create_batch(shop.uow(), request)
        assert bad.value.details["field"] == field
    with pytest.raises(InvalidInput):
        generate_codes(shop.uow(), batch(shop), 0)


def test_idempotent_redemption(shop: Shop) -> None:
    code = codes_of(shop, batch(shop, count=1, max_redemptions=5))[0]
    first = redeem_coupon(shop.uow(), code, order_id="o-1", idempotency_key="k1")
    replay = redeem_coupon(shop.uow(), code, order_id="o-1", idempotency_key="k1")
    assert replay == first and replay.redemptions_left == 4
    with pytest.raises(Conflict):
        redeem_coupon(shop.uow(), code, order_id="o-2", idempotency_key="k1")


def test_single_use_code_redeemed_by_10_threads_succeeds_once(shop: Shop) -> None:
    code = codes_of(shop, batch(shop, count=1))[0]

    def redeem(i: int) -> str:
        try:
            redeem_coupon(UnitOfWork(shop.engine, shop.clock), code, order_id=f"o-{i}")
        except PatronageError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(redeem, range(10)))
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "coupon_used_up"}
    with shop.engine.connect() as conn:
        assert conn.scalar(select(CouponRow.redeemed_count).where(CouponRow.code == code)) == 1
