"""A realistic, deterministic demo data set: 18 months of a shop's members.

Members join over 18 months; purchases follow a weekly rhythm (weekends busier) and
a season (December and the Spring Festival month busier); spend per customer is
heavy-tailed so a fifth of members bring most revenue; some members lapse; a few
orders are refunded, some members redeem points. The same seed gives the same data.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from patronage.errors import Conflict
from patronage.services.events import EventRequest
from patronage.services.imports import ImportReport, record_batch
from patronage.services.points import redeem_points
from patronage.storage.uow import UnitOfWork

STORES = ("shanghai-1", "shanghai-2", "beijing-1", "online")
CHANNELS = ("store", "store", "app", "web")
CATEGORIES = {"coffee": (18, 45), "bakery": (8, 30), "merch": (60, 300), "beans": (68, 160)}
SEASON = {1: 1.1, 2: 1.3, 6: 0.9, 7: 0.85, 8: 0.85, 11: 1.1, 12: 1.4}


@dataclass(frozen=True)
class DemoPlan:
    members: int
    seed: int
    end: datetime


def _member_schedule(rng: random.Random, plan: DemoPlan, index: int) -> list[datetime]:
    start = plan.end - timedelta(days=548)
    joined = start + timedelta(days=rng.random() * 540)
    rate = rng.lognormvariate(-2.3, 0.9)  # purchases per day, heavy-tailed
    lapse_after = rng.expovariate(1 / 240)  # days until the member stops buying
    times, t = [joined], joined
    while True:
        t += timedelta(days=rng.expovariate(rate) + 0.2)
        if t >= plan.end or (t - joined).days > lapse_after:
            return times
        weekend = 1.0 if t.weekday() >= 5 else 0.75
        if rng.random() < weekend * SEASON.get(t.month, 1.0) / 1.4:
            times.append(
                t.replace(hour=rng.choice((8, 9, 12, 13, 15, 18, 19)), minute=rng.randrange(60))
            )


def _sku_number(draw: int, taste: int) -> int:
    """Three draws in four pick one of the three SKUs of the member's taste group in
    every category (so baskets have co-purchase structure); the fourth is any SKU."""
    return taste * 3 + draw % 3 if draw < 9 else draw


def _basket(rng: random.Random, taste: int = 0) -> tuple[Decimal, list[dict[str, object]]]:
    items: list[dict[str, object]] = []
    total = Decimal(0)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        category = rng.choice(list(CATEGORIES))
        low, high = CATEGORIES[category]
        price = Decimal(rng.randint(low * 100, high * 100)) / 100
        items.append(
            {
                "sku": f"{category}-{_sku_number(rng.randrange(12), taste):02d}",
                "category": category,
                "quantity": "1",
                "price": str(price),
            }
        )
        total += price
    return total, items


def demo_events(plan: DemoPlan) -> list[EventRequest]:
    rng = random.Random(plan.seed)
    events: list[EventRequest] = []
    for index in range(plan.members):
        external_id = f"M{index + 1:06d}"
        store = rng.choice(STORES)
        for n, when in enumerate(_member_schedule(rng, plan, index)):
            amount, items = _basket(rng, taste=index * 7 % 4)
            order_id = f"{external_id}-{n + 1}"
            events.append(
                EventRequest(
                    type="purchase",
                    occurred_at=when,
                    member_external_id=external_id,
                    order_id=order_id,
                    amount=amount,
                    store=store if rng.random() < 0.8 else rng.choice(STORES),
                    channel=rng.choice(CHANNELS),
                    staff_id=f"S{rng.randrange(1, 25):02d}",
                    items=items,
                    source_id=f"demo:purchase:{order_id}",
                )
            )
            if rng.random() < 0.03:
                part = (amount * Decimal(rng.choice((25, 50, 100))) / 100).quantize(Decimal("0.01"))
                events.append(
                    EventRequest(
                        type="refund",
                        occurred_at=when + timedelta(days=rng.randint(1, 10)),
                        member_external_id=external_id,
                        original_order_id=order_id,
                        amount=part,
                        source_id=f"demo:refund:{order_id}",
                    )
                )
    events.sort(key=lambda e: (e.occurred_at, e.source_id or ""))
    return [e for e in events if e.occurred_at < plan.end]


def load_demo(
    uow: UnitOfWork, members: int = 2000, seed: int = 7, end: datetime | None = None
) -> ImportReport:
    """Fill the default program with the demo data; safe to run twice."""
    plan = DemoPlan(members, seed, end or datetime(2026, 11, 1, tzinfo=UTC))
    events = demo_events(plan)
    report = ImportReport(rows=len(events))
    for start in range(0, len(events), 1000):
        batch = list(enumerate(events[start : start + 1000], start=start + 1))
        record_batch(uow, batch, report)
    _redeem_some(uow, plan, members)
    return report


def _redeem_some(uow: UnitOfWork, plan: DemoPlan, members: int) -> None:
    rng = random.Random(plan.seed + 1)
    for index in rng.sample(range(members), k=max(1, members // 8)):
        with uow:
            program = uow.programs.get("default")
            member = uow.members.by_external_id(program.id or 0, f"M{index + 1:06d}")
        if member is None:
            continue
        from patronage.services.balances import get_balance

        available = get_balance(uow, member.id).available
        points = int(math.floor(available * rng.uniform(0.3, 0.9)))
        if points <= 0:
            continue
        try:
            redeem_points(uow, member.id, points, "demo-reward", "demo", f"demo-redeem-{index}")
        except Conflict as exc:  # a previous load already redeemed for this member
            if exc.code != "idempotency_key_reused":
                raise
