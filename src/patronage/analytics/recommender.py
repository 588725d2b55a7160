"""The recommender: item facts and neighbours from interactions, and ranking for a member.

Training (``build_model``) and serving (``rank_for_member``) share these functions,
so the offline evaluation measures exactly what the API serves. No I/O here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from patronage.analytics.item_similarity import cosine_neighbours
from patronage.domain.recommendations import (
    STORE_DAYS,
    Interaction,
    ItemFacts,
    Recommendation,
    history_weights,
    is_repeat_item,
    just_bought,
    may_offer,
    score_items,
    top_k,
    usual_store,
)

POPULARITY_DAYS = 90
NEIGHBOURS = 30


@dataclass(frozen=True)
class ItemModel:
    items: dict[str, ItemFacts]
    neighbours: dict[str, list[tuple[str, float]]]
    members: int


@dataclass(frozen=True)
class Ranking:
    source: str  # "model", "model+popularity" or "popularity"
    store: str | None
    items: list[Recommendation]


def item_facts(
    interactions: Sequence[Interaction],
    as_of: datetime,
    stock: Mapping[str, bool] | None = None,
) -> dict[str, ItemFacts]:
    """Buyers, repeat flag, recent popularity and recent stores of every SKU."""
    orders: dict[str, dict[int, set[str | None]]] = defaultdict(lambda: defaultdict(set))
    recent: dict[str, set[int]] = defaultdict(set)
    stores: dict[str, set[str]] = defaultdict(set)
    category: dict[str, str | None] = {}
    for i in interactions:
        category[i.sku] = i.category or category.get(i.sku)
        if not i.is_purchase:
            orders[i.sku]  # noqa: B018 - a viewed item is still an item
            continue
        orders[i.sku][i.member_id].add(i.order_id or i.occurred_at.isoformat())
        age = as_of - i.occurred_at
        if age <= timedelta(days=POPULARITY_DAYS):
            recent[i.sku].add(i.member_id)
        if i.store and age <= timedelta(days=STORE_DAYS):
            stores[i.sku].add(i.store)
    facts = {}
    for sku, by_member in orders.items():
        buyers = len(by_member)
        repeaters = sum(1 for placed in by_member.values() if len(placed) >= 2)
        facts[sku] = ItemFacts(
            sku=sku,
            category=category.get(sku),
            buyers=buyers,
            repeat=is_repeat_item(buyers, repeaters),
            popularity=len(recent[sku]) + buyers / 1000,
            stores=frozenset(stores[sku]),
            in_stock=(stock or {}).get(sku),
        )
    return facts


def build_model(
    interactions: Sequence[Interaction],
    as_of: datetime,
    stock: Mapping[str, bool] | None = None,
    top_n: int = NEIGHBOURS,
) -> ItemModel:
    found = cosine_neighbours(interactions, top_n)
    return ItemModel(item_facts(interactions, as_of, stock), found.neighbours, found.members)


def _reason(
    sku: str, history: Mapping[str, float], neighbours: Mapping[str, Sequence[tuple[str, float]]]
) -> str:
    best, best_value = None, 0.0
    for seen, weight in history.items():
        for other, similarity in neighbours.get(seen, ()):
            if other == sku and weight * similarity > best_value:
                best, best_value = seen, weight * similarity
    if sku in history and history[sku] >= best_value:
        return "you buy it again and again"
    return f"members who bought {best} also bought it" if best else "popular at your store"


def rank_popular(
    items: Mapping[str, ItemFacts], allowed: Any, k: int, taken: Sequence[str] = ()
) -> list[Recommendation]:
    scores = {sku: facts.popularity for sku, facts in items.items() if sku not in taken}
    return [
        Recommendation(sku, round(score, 4), items[sku].category, "popular at your store")
        for sku, score in top_k(scores, items, allowed, k)
    ]


def rank_for_member(
    history: Sequence[Interaction],
    items: Mapping[str, ItemFacts],
    neighbours: Mapping[str, Sequence[tuple[str, float]]],
    now: datetime,
    k: int,
    sold_out: frozenset[str] = frozenset(),
) -> Ranking:
    """The member's top ``k``: neighbours of their history, then popular items."""
    store = usual_store(i.store for i in history if i.is_purchase)
    bought = just_bought(history, now)

    def allowed(sku: str) -> bool:
        return sku not in sold_out and may_offer(items[sku], store, bought)

    weights = history_weights(history)
    repeat = {sku for sku, facts in items.items() if facts.repeat}
    scores = score_items(weights, neighbours, repeat)
    chosen = [
        Recommendation(sku, round(score, 4), items[sku].category, _reason(sku, weights, neighbours))
        for sku, score in top_k(scores, items, allowed, k)
    ]
    if len(chosen) == k:
        return Ranking("model", store, chosen)
    padding = rank_popular(items, allowed, k - len(chosen), [r.sku for r in chosen])
    source = "model+popularity" if chosen else "popularity"
    return Ranking(source, store, chosen + padding)
