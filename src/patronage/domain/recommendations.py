"""Recommendations from what members bought and looked at: the business rules.

Plain Python, no I/O. A member's history is a weight per SKU: a purchased line
counts 1 (times its quantity, damped by a logarithm), a view or other custom event
naming a SKU counts ``VIEW_WEIGHT``. Items are scored by summing, over the member's
history, the history weight times the item-to-item similarity; a repeat-purchase
item the member already buys also scores its own weight (similarity 1 with itself).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

VIEW_WEIGHT = 0.25
REPEAT_MIN_BUYERS = 3
REPEAT_SHARE = 0.25
JUST_BOUGHT_DAYS = 90
STORE_DAYS = 90
MAX_K = 100


@dataclass(frozen=True)
class Interaction:
    """One member touching one SKU: a purchased line or a view."""

    member_id: int
    sku: str
    weight: float
    occurred_at: datetime
    is_purchase: bool
    order_id: str | None = None
    store: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class ItemFacts:
    """What the trained model knows about one SKU."""

    sku: str
    category: str | None
    buyers: int
    repeat: bool
    popularity: float
    stores: frozenset[str]
    in_stock: bool | None


@dataclass(frozen=True)
class Recommendation:
    sku: str
    score: float
    category: str | None
    reason: str


def _quantity(line: Mapping[str, Any]) -> float:
    try:
        value = float(line.get("quantity", 1) or 1)
    except (TypeError, ValueError):
        return 1.0
    return value if math.isfinite(value) and value > 0 else 1.0


def interactions_of_event(
    member_id: int,
    kind: str,
    occurred_at: datetime,
    items: Sequence[Any] | None,
    attributes: Mapping[str, Any] | None,
    store: str | None = None,
    order_id: str | None = None,
) -> list[Interaction]:
    """The interactions one stored event holds: purchase lines, or a viewed SKU."""
    if kind == "purchase":
        found = []
        for line in items or ():
            if isinstance(line, Mapping) and line.get("sku"):
                weight = math.log1p(_quantity(line))
                category = line.get("category")
                found.append(
                    Interaction(
                        member_id,
                        str(line["sku"]),
                        weight,
                        occurred_at,
                        True,
                        order_id,
                        store,
                        str(category) if category else None,
                    )
                )
        return found
    sku = (attributes or {}).get("sku")
    if kind == "refund" or not isinstance(sku, str | int) or not str(sku):
        return []
    return [Interaction(member_id, str(sku), VIEW_WEIGHT, occurred_at, False, None, store)]


def is_repeat_item(buyers: int, repeat_buyers: int) -> bool:
    """Bought again, on another order, by a good share of its buyers (coffee, bread)."""
    return buyers >= REPEAT_MIN_BUYERS and repeat_buyers >= REPEAT_SHARE * buyers


def usual_store(stores: Iterable[str | None]) -> str | None:
    """The store a member buys at most often (ties: the first in name order)."""
    counts = Counter(s for s in stores if s)
    if not counts:
        return None
    return min(counts, key=lambda s: (-counts[s], s))


def history_weights(interactions: Iterable[Interaction]) -> dict[str, float]:
    weights: dict[str, float] = {}
    for interaction in interactions:
        weights[interaction.sku] = weights.get(interaction.sku, 0.0) + interaction.weight
    return weights


def score_items(
    history: Mapping[str, float],
    neighbours: Mapping[str, Sequence[tuple[str, float]]],
    repeat_items: Collection[str],
) -> dict[str, float]:
    """Item-to-item scores for one member's history."""
    scores: dict[str, float] = {}
    for sku, weight in history.items():
        for other, similarity in neighbours.get(sku, ()):
            scores[other] = scores.get(other, 0.0) + weight * similarity
        if sku in repeat_items:
            scores[sku] = scores.get(sku, 0.0) + weight
    return scores


def just_bought(interactions: Iterable[Interaction], now: datetime) -> set[str]:
    """SKUs the member bought in the last ``JUST_BOUGHT_DAYS`` days."""
    return {
        i.sku
        for i in interactions
        if i.is_purchase and (now - i.occurred_at).total_seconds() <= JUST_BOUGHT_DAYS * 86400
    }


def may_offer(facts: ItemFacts, store: str | None, bought: Collection[str]) -> bool:
    """Sold at the member's usual store lately, in stock, and not a one-off just bought."""
    if facts.in_stock is False:
        return False
    if store is not None and store not in facts.stores:
        return False
    return facts.repeat or facts.sku not in bought


def top_k(
    scores: Mapping[str, float], catalog: Mapping[str, ItemFacts], allowed: Any, k: int
) -> list[tuple[str, float]]:
    """The ``k`` best allowed SKUs by score, ties broken by popularity then SKU."""
    ranked = sorted(
        (sku for sku, score in scores.items() if score > 0 and sku in catalog and allowed(sku)),
        key=lambda sku: (-scores[sku], -catalog[sku].popularity, sku),
    )
    return [(sku, scores[sku]) for sku in ranked[:k]]


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    return sum(1 for sku in ranked[:k] if sku in relevant) / k


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(1 for sku in ranked[:k] if sku in relevant) / len(relevant)


def average_precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """AP@k: the mean of precision at each hit, over min(|relevant|, k)."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for position, sku in enumerate(ranked[:k], start=1):
        if sku in relevant:
            hits += 1
            total += hits / position
    return total / min(len(relevant), k)
