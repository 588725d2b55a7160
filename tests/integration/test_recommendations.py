"""Recommendations on both databases: trained from stored events, served from the model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.errors import Conflict, InvalidInput, NotFound
from patronage.services.demo import load_demo
from patronage.services.events import EventRequest, record_event
from patronage.services.recommendation_evaluation import evaluate
from patronage.services.recommendations import recommend, train
from patronage.storage.uow import UnitOfWork


def line(sku: str, category: str = "misc") -> dict[str, str]:
    return {"sku": sku, "category": category, "quantity": "1", "price": "10"}


def basket(shop: Shop, member: object, skus: list[str], days_ago: int, store: str = "s1") -> None:
    at = shop.clock() - timedelta(days=days_ago)
    shop.buy(member, "30", at=at, store=store, items=[line(s) for s in skus])  # type: ignore[arg-type]


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    shop = Shop(engine, clock)
    for n in range(3):  # everyone who bought A and B also bought C
        basket(shop, shop.member(f"abc{n}"), ["A", "B", "C"], days_ago=20)
    for n in range(5):  # D is the most popular item
        basket(shop, shop.member(f"d{n}"), ["D"], days_ago=10)
    for n in range(4):  # coffee: bought again and again by its buyers
        coffee = shop.member(f"coffee{n}")
        basket(shop, coffee, ["COFFEE"], days_ago=30)
        basket(shop, coffee, ["COFFEE"], days_ago=5)
    basket(shop, shop.member("far"), ["FAR"], days_ago=15, store="s2")
    return shop


def test_no_model_yet_is_a_clear_conflict(shop: Shop) -> None:
    member = shop.member("someone")
    with pytest.raises(Conflict) as caught:
        recommend(shop.uow(), member.id)
    assert caught.value.code == "model_not_trained"


def test_bought_a_and_b_is_recommended_c(shop: Shop) -> None:
    me = shop.member("me")
    basket(shop, me, ["A", "B"], days_ago=2)
    report = train(shop.uow())
    assert report.items == 6 and report.members == 14
    result = recommend(shop.uow(), me.id, k=3)
    skus = [item["sku"] for item in result.items]
    assert skus[0] == "C"
    assert "A" not in skus and "B" not in skus  # just bought, not repeat items
    assert "FAR" not in skus  # only sold at another store
    assert result.store == "s1" and result.model_id == report.model_id


def test_new_member_gets_popular_items(shop: Shop) -> None:
    train(shop.uow())
    result = recommend(shop.uow(), shop.member("new").id, k=2)
    assert result.source == "popularity"
    assert [item["sku"] for item in result.items] == ["D", "COFFEE"]


def test_repeat_items_stay_and_views_count(shop: Shop) -> None:
    me = shop.member("regular")
    basket(shop, me, ["COFFEE"], days_ago=1)
    record_event(
        shop.uow(),
        EventRequest(
            type="product_viewed",
            member_id=me.id,
            occurred_at=shop.clock(),
            attributes={"sku": "A"},
        ),
    )
    train(shop.uow())
    result = recommend(shop.uow(), me.id, k=4)
    skus = [item["sku"] for item in result.items]
    assert skus[0] == "COFFEE"  # bought yesterday, but a repeat-purchase item
    assert {"B", "C"} <= set(skus)  # neighbours of the viewed A


def test_unknown_member_and_bad_k(shop: Shop) -> None:
    train(shop.uow())
    with pytest.raises(NotFound):
        recommend(shop.uow(), 999_999)
    with pytest.raises(InvalidInput):
        recommend(shop.uow(), shop.member("x").id, k=0)


def test_evaluation_beats_popularity_on_the_demo(engine: Engine) -> None:
    clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    Shop(engine, clock)
    load_demo(UnitOfWork(engine, clock), members=300)
    result = evaluate(UnitOfWork(engine, clock), k=10)
    assert result.members >= 50
    assert result.model.precision > result.popularity.precision
    assert result.model.recall > result.popularity.recall
    assert result.model.map > result.popularity.map


def test_next_best_offer_wins_back_an_at_risk_high_spender(shop: Shop) -> None:
    from patronage.domain.coupons import Discount
    from patronage.services.coupon_batches import NewBatch, create_batch
    from patronage.services.next_best_offer import next_best_offer, offers_for_program

    batch = create_batch(shop.uow(), NewBatch("come back: 20% off", Discount("percent", 20)))
    lapsed = shop.member("lapsed", joined_at=shop.clock() - timedelta(days=330))
    for n in range(6):  # spent a lot, monthly, then stopped four months ago
        shop.buy(lapsed, "900", at=shop.clock() - timedelta(days=300 - 30 * n))
    choice = next_best_offer(shop.uow(), lapsed.id)
    assert (choice.kind, choice.ref) == ("coupon", str(batch.id))
    assert choice.reason.startswith("at risk, high value: win-back coupon")
    everyone = offers_for_program(shop.uow())
    assert len(everyone) == 14 and lapsed.id in {o.member_id for o in everyone}
    with pytest.raises(NotFound):
        next_best_offer(shop.uow(), 999_999)
