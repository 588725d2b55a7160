"""Offline evaluation of the recommender on a time split, against popularity.

The model is trained on everything before the split date; each member who bought
before the split and bought again in the following ``horizon_days`` is scored on
the SKUs of those later purchases. Both rankers apply the same rules (store, stock,
no one-off item just bought), so the comparison is only about the ordering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from patronage.analytics.recommender import build_model, rank_for_member, rank_popular
from patronage.clock import require_aware
from patronage.domain.recommendations import (
    MAX_K,
    Interaction,
    average_precision_at_k,
    just_bought,
    may_offer,
    precision_at_k,
    recall_at_k,
    usual_store,
)
from patronage.errors import InvalidInput
from patronage.services.recommendations import TRAIN_DAYS, interactions_of_rows, stock_of_rows
from patronage.storage.uow import UnitOfWork

DEFAULT_HORIZON_DAYS = 60


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    map: float


@dataclass(frozen=True)
class Evaluation:
    split_date: datetime
    horizon_days: int
    k: int
    members: int
    items: int
    model: Scores
    popularity: Scores


def _by_member(interactions: list[Interaction]) -> dict[int, list[Interaction]]:
    found: dict[int, list[Interaction]] = {}
    for i in interactions:
        found.setdefault(i.member_id, []).append(i)
    return found


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _scores(rankings: list[list[str]], truths: list[set[str]], k: int) -> Scores:
    return Scores(
        _mean([precision_at_k(r, t, k) for r, t in zip(rankings, truths, strict=True)]),
        _mean([recall_at_k(r, t, k) for r, t in zip(rankings, truths, strict=True)]),
        _mean([average_precision_at_k(r, t, k) for r, t in zip(rankings, truths, strict=True)]),
    )


def _default_split(uow: UnitOfWork, program_id: int) -> datetime:
    now = uow.clock()
    rows = uow.recommendations.events_between(program_id, now - timedelta(days=TRAIN_DAYS), now)
    last: datetime | None = max((row[2] for row in rows), default=None)
    if last is None:
        raise InvalidInput("there are no events to evaluate on", field="split_date")
    return last - timedelta(days=DEFAULT_HORIZON_DAYS)


def evaluate(
    uow: UnitOfWork,
    program: str = "default",
    split_date: datetime | None = None,
    k: int = 10,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Evaluation:
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be 1..{MAX_K}", field="k")
    if not 1 <= horizon_days <= 3650:
        raise InvalidInput("horizon must be 1..3650 days", field="horizon_days")
    with uow:
        program_id = uow.programs.get(program).id or 0
        split = (
            require_aware(split_date, "split_date")
            if split_date
            else _default_split(uow, program_id)
        )
        start, end = split - timedelta(days=TRAIN_DAYS), split + timedelta(days=horizon_days)
        before = list(uow.recommendations.events_between(program_id, start, split))
        after = list(uow.recommendations.events_between(program_id, split, end))
    model = build_model(interactions_of_rows(before), split, stock_of_rows(before))
    history = _by_member(interactions_of_rows(before))
    truth: dict[int, set[str]] = {}
    for i in interactions_of_rows(after):
        if i.is_purchase and i.member_id in history:
            truth.setdefault(i.member_id, set()).add(i.sku)
    members = sorted(truth)
    rankings, baseline = [], []
    for member_id in members:
        past = history[member_id]
        ranked = rank_for_member(past, model.items, model.neighbours, split, k)
        rankings.append([r.sku for r in ranked.items])
        store, bought = (
            usual_store(i.store for i in past if i.is_purchase),
            just_bought(past, split),
        )

        def allowed(sku: str, store: str | None = store, bought: set[str] = bought) -> bool:
            return may_offer(model.items[sku], store, bought)

        baseline.append([r.sku for r in rank_popular(model.items, allowed, k)])
    truths = [truth[m] for m in members]
    return Evaluation(
        split,
        horizon_days,
        k,
        len(members),
        len(model.items),
        _scores(rankings, truths, k),
        _scores(baseline, truths, k),
    )
