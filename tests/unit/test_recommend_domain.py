"""Recommendation rules, ranking metrics, item similarity, membership arithmetic, offers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patronage.analytics.item_similarity import cosine_neighbours
from patronage.analytics.recommender import build_model, rank_for_member
from patronage.domain.membership import add_months, prorated_refund
from patronage.domain.offers import MemberState, Offer, choose, churn_risk
from patronage.domain.recommendations import (
    Interaction,
    average_precision_at_k,
    interactions_of_event,
    is_repeat_item,
    precision_at_k,
    recall_at_k,
    usual_store,
)

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def bought(member: int, *skus: str, days_ago: int = 30, store: str = "s1") -> list[Interaction]:
    at = NOW - timedelta(days=days_ago)
    return [Interaction(member, s, 0.69, at, True, f"{member}-{days_ago}", store) for s in skus]


def test_metrics_by_hand() -> None:
    ranked = ["a", "x", "b", "y"]
    assert precision_at_k(ranked, {"a", "b"}, 4) == 0.5
    assert recall_at_k(ranked, {"a", "b", "c"}, 4) == pytest.approx(2 / 3)
    # hits at 1 and 3: (1/1 + 2/3) / min(2, 4)
    assert average_precision_at_k(ranked, {"a", "b"}, 4) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision_at_k(ranked, set(), 4) == 0.0


def test_purchase_lines_and_views_become_interactions() -> None:
    lines = [{"sku": "A", "quantity": "2"}, {"sku": "B"}, {"price": "1"}]
    found = interactions_of_event(1, "purchase", NOW, lines, {}, "s1", "o1")
    assert [(i.sku, i.is_purchase) for i in found] == [("A", True), ("B", True)]
    assert found[0].weight > found[1].weight
    view = interactions_of_event(1, "product_viewed", NOW, None, {"sku": "C"})
    assert [(i.sku, i.is_purchase, i.weight) for i in view] == [("C", False, 0.25)]
    assert interactions_of_event(1, "refund", NOW, lines, {"sku": "C"}) == []


def test_repeat_items_and_usual_store() -> None:
    assert is_repeat_item(buyers=10, repeat_buyers=3)
    assert not is_repeat_item(buyers=10, repeat_buyers=2)
    assert not is_repeat_item(buyers=2, repeat_buyers=2)
    assert usual_store(["b", "a", None, "b"]) == "b"
    assert usual_store(["b", "a"]) == "a"
    assert usual_store([None]) is None


def test_cosine_neighbours_of_co_bought_items() -> None:
    data = bought(1, "A", "B", "C") + bought(2, "A", "B", "C") + bought(3, "D", "E")
    found = cosine_neighbours(data, top_n=5)
    assert [sku for sku, _ in found.neighbours["A"]] == ["B", "C"]
    assert found.neighbours["A"][0][1] == pytest.approx(1.0)
    assert [sku for sku, _ in found.neighbours["D"]] == ["E"]


def test_member_who_bought_a_and_b_gets_c() -> None:
    data = bought(1, "A", "B", "C") + bought(2, "A", "B", "C") + bought(3, "A", "B", "C")
    data += bought(4, "D") + bought(5, "D") + bought(6, "D") + bought(7, "D")
    me = bought(9, "A", "B", days_ago=10)
    model = build_model(data + me, NOW)
    ranking = rank_for_member(me, model.items, model.neighbours, NOW, 1)
    assert ranking.source == "model"
    assert [r.sku for r in ranking.items] == ["C"]
    assert "also bought" in ranking.items[0].reason


def test_new_member_gets_popular_items_and_sold_out_is_skipped() -> None:
    data = bought(1, "A", "B", days_ago=10) + bought(2, "A", days_ago=10) + bought(3, "C")
    model = build_model(data, NOW)
    ranking = rank_for_member([], model.items, model.neighbours, NOW, 2)
    assert ranking.source == "popularity"
    assert [r.sku for r in ranking.items] == ["A", "B"]
    ranking = rank_for_member([], model.items, model.neighbours, NOW, 2, frozenset({"A"}))
    assert [r.sku for r in ranking.items] == ["B", "C"]


def test_months_clamp_and_prorated_refund_rounds_down() -> None:
    start = datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert add_months(start, 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert add_months(start, 12) == datetime(2027, 1, 31, 12, tzinfo=UTC)
    year_start, year_end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    # 100 unused whole days of 365: 9900 * 100 // 365 = 2712 (2712.33 rounded down)
    at = year_end - timedelta(days=100, hours=5)
    assert prorated_refund(9900, year_start, year_end, at) == 2712
    assert prorated_refund(9900, year_start, year_end, year_start) == 9900
    assert prorated_refund(9900, year_start, year_end, year_end) == 0
    assert prorated_refund(0, year_start, year_end, at) == 0


def _state(**values: object) -> MemberState:
    base: dict[str, object] = {
        "member_id": 1,
        "tenure_days": 400.0,
        "orders": 20,
        "days_since_last": 5.0,
        "year_spend_minor": 500_000,
        "average_order_minor": 25_000,
        "tier_rank": 0,
        "tier_code": "base",
        "points_available": 0,
        "is_paid_member": False,
    }
    base.update(values)
    return MemberState(**base)  # type: ignore[arg-type]


def test_risk_is_zero_on_rhythm_and_high_when_late() -> None:
    assert churn_risk(_state(days_since_last=5.0)) == 0.0
    assert churn_risk(_state(days_since_last=100.0)) > 0.9
    assert churn_risk(_state(orders=0, days_since_last=None, tenure_days=30)) == 0.3


def test_at_risk_high_value_member_gets_the_win_back_coupon() -> None:
    offers = [Offer("coupon", "1", "20% back", 5_000), Offer("campaign", "c", "double", 0)]
    choice = choose(_state(days_since_last=120.0), offers, high_from=300_000, low_below=50_000)
    assert choice.offer is not None and choice.offer.kind == "coupon"
    assert choice.reason.startswith("at risk, high value: win-back coupon")
    active = choose(_state(), offers, high_from=300_000, low_below=50_000)
    assert active.offer is not None and active.offer.kind == "campaign"
    assert choose(_state(), [], 1, 1).offer is None
