"""Product recommendations: train an item-to-item model, store it, serve from it.

Training reads purchases (their ``items`` lines) and custom events naming a SKU
(``attributes.sku``, e.g. 'product_viewed') from the last ``TRAIN_DAYS`` days,
computes each item's nearest neighbours and stores them with the item facts. Serving
reads the stored model (items cached per model, models never change) and the
member's own recent events: a few indexed queries, no training per request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from patronage.analytics.recommender import ItemModel, Ranking, build_model, rank_for_member
from patronage.clock import require_aware
from patronage.domain.recommendations import MAX_K, Interaction, ItemFacts, interactions_of_event
from patronage.errors import Conflict, InvalidInput
from patronage.storage.uow import UnitOfWork

TRAIN_DAYS = 730
STALE_AFTER = timedelta(hours=24)
_ITEMS_CACHE: dict[tuple[int, str], dict[str, ItemFacts]] = {}


@dataclass(frozen=True)
class TrainingReport:
    model_id: int
    as_of: datetime
    trained_at: datetime
    members: int
    items: int
    interactions: int
    seconds: float


@dataclass(frozen=True)
class MemberRecommendations:
    member_id: int
    model_id: int
    trained_at: datetime
    source: str
    store: str | None
    items: list[dict[str, Any]]


def interactions_of_rows(rows: Iterable[Any]) -> list[Interaction]:
    found: list[Interaction] = []
    for member_id, kind, at, items, attributes, store, order_id in rows:
        found.extend(interactions_of_event(member_id, kind, at, items, attributes, store, order_id))
    return found


def stock_of_rows(rows: Iterable[Any]) -> dict[str, bool]:
    """The latest stock flag a purchase line carried for a SKU ('in_stock' or 'stock')."""
    stock: dict[str, tuple[datetime, bool]] = {}
    for _member, kind, at, items, _attributes, _store, _order in rows:
        for line in items or () if kind == "purchase" else ():
            if not isinstance(line, dict) or not line.get("sku"):
                continue
            flag = line.get("in_stock")
            if flag is None and isinstance(line.get("stock"), int | float):
                flag = line["stock"] > 0
            sku = str(line["sku"])
            if isinstance(flag, bool) and (sku not in stock or stock[sku][0] <= at):
                stock[sku] = (at, flag)
    return {sku: flag for sku, (_, flag) in stock.items()}


def _neighbour_rows(model: ItemModel) -> list[dict[str, Any]]:
    return [
        {"sku": sku, "neighbour": other, "similarity": similarity}
        for sku, found in model.neighbours.items()
        for other, similarity in found
    ]


def train(
    uow: UnitOfWork, program: str = "default", as_of: datetime | None = None
) -> TrainingReport:
    """Train on the events before ``as_of`` (default now) and store the model."""
    started = time.perf_counter()
    with uow:
        program_id = uow.programs.get(program).id or 0
        as_of = require_aware(as_of, "as_of") if as_of else uow.clock()
        rows = list(
            uow.recommendations.events_between(  # up to and including ``as_of``
                program_id, as_of - timedelta(days=TRAIN_DAYS), as_of + timedelta(microseconds=1)
            )
        )
        interactions = interactions_of_rows(rows)
        model = build_model(interactions, as_of, stock_of_rows(rows))
        trained_at = uow.clock()
        model_id = uow.recommendations.add_model(
            list(model.items.values()),
            _neighbour_rows(model),
            program_id=program_id,
            kind="item-cosine",
            as_of=as_of,
            trained_at=trained_at,
            members=model.members,
            items=len(model.items),
            interactions=len(interactions),
            details={"token": uuid.uuid4().hex, "train_days": TRAIN_DAYS},
        )
        uow.recommendations.drop_old_models(program_id)
        uow.commit()
    seconds = round(time.perf_counter() - started, 3)
    return TrainingReport(
        model_id, as_of, trained_at, model.members, len(model.items), len(interactions), seconds
    )


def train_if_stale(uow: UnitOfWork, program: str, now: datetime) -> TrainingReport | None:
    """The scheduler's job: retrain when the newest model is a day old (or missing)."""
    with uow:
        latest = uow.recommendations.latest_model(uow.programs.get(program).id or 0)
        if latest is not None and now - latest.trained_at < STALE_AFTER:
            return None
    return train(uow, program, now)


def _items(uow: UnitOfWork, model_id: int, token: str) -> dict[str, ItemFacts]:
    key = (model_id, token)
    if key not in _ITEMS_CACHE:
        if len(_ITEMS_CACHE) > 8:
            _ITEMS_CACHE.clear()
        _ITEMS_CACHE[key] = uow.recommendations.items(model_id)
    return _ITEMS_CACHE[key]


def recommend(uow: UnitOfWork, member_id: int, k: int = 10) -> MemberRecommendations:
    """The member's top ``k`` from the newest stored model (popular items when the
    member has no history)."""
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be 1..{MAX_K}", field="k")
    with uow:
        member = uow.members.get(member_id)
        model = uow.recommendations.latest_model(member.program_id)
        if model is None:
            raise Conflict(
                "no recommendation model yet: run `patronage recommend train`",
                code="model_not_trained",
            )
        now = uow.clock()
        items = _items(uow, model.id, str(model.details.get("token", "")))
        rows = uow.recommendations.member_events(
            member_id, now - timedelta(days=TRAIN_DAYS), now + timedelta(seconds=1)
        )
        history = interactions_of_rows(rows)
        neighbours = uow.recommendations.neighbours(model.id, sorted({i.sku for i in history}))
        sold_out = uow.recommendations.sold_out_rewards(member.program_id)
        ranking = rank_for_member(history, items, neighbours, now, k, frozenset(sold_out))
        return _result(member_id, model.id, model.trained_at, ranking)


def _result(
    member_id: int, model_id: int, trained_at: datetime, ranking: Ranking
) -> MemberRecommendations:
    return MemberRecommendations(
        member_id,
        model_id,
        trained_at,
        ranking.source,
        ranking.store,
        [
            {"sku": r.sku, "score": r.score, "category": r.category, "reason": r.reason}
            for r in ranking.items
        ],
    )
