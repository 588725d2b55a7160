"""A mixed concurrent workload against one database, for `make soak` and its bounded
test: many threads earn, redeem, refund, transfer and take reward stock for the same
few members, then every promise is checked.

It drives the services directly (the HTTP layer adds nothing to the database's
concurrency) and counts what it was told, so the totals can be compared.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine

from patronage.domain.coupons import Discount
from patronage.errors import PatronageError
from patronage.services.balances import get_balance
from patronage.services.events import EventRequest, record_event
from patronage.services.members import NewMember, enroll_member
from patronage.services.points import redeem_points, transfer_points
from patronage.services.programs import ensure_default_program
from patronage.services.rewards import NewReward, add_reward, get_reward, redeem_reward
from patronage.storage.invariants import find_violations
from patronage.storage.uow import UnitOfWork

EXPECTED_REFUSALS = {
    "insufficient_points",
    "refund_exceeds_order",
    "out_of_stock",
    "duplicate_order",
    "member_limit_reached",
    "unknown_order",
}


@dataclass
class SoakReport:
    seconds: float
    operations: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    violations: dict[str, list[tuple[object, object]]] = field(default_factory=dict)
    negative_balances: int = 0
    stock_left: int | None = None
    stock_taken: int = 0
    stock_start: int = 0

    @property
    def clean(self) -> bool:
        stock_ok = (
            self.stock_left is not None
            and self.stock_left >= 0
            and (self.stock_left + self.stock_taken == self.stock_start)
        )
        return (
            not self.unexpected and not self.violations and not self.negative_balances and stock_ok
        )


def _setup(engine: Engine, members: int, stock: int) -> tuple[list[int], int]:
    ensure_default_program(UnitOfWork(engine))
    ids = [
        enroll_member(UnitOfWork(engine), NewMember(external_id=f"soak-{i}"), f"soak-m-{i}").id
        for i in range(members)
    ]
    reward = add_reward(
        UnitOfWork(engine),
        NewReward(
            code="soak-mug",
            name="Mug",
            points=50,
            discount=Discount("free_item", sku="mug"),
            stock=stock,
        ),
        "soak",
        "soak-reward",
    )
    return ids, reward.id


def _one_operation(
    engine: Engine,
    rng: random.Random,
    ids: list[int],
    reward_id: int,
    orders: list[tuple[int, str]],
    lock: threading.Lock,
    report: SoakReport,
) -> None:
    uow = UnitOfWork(engine)
    member = rng.choice(ids)
    kind = rng.choice(("buy", "buy", "buy", "redeem", "refund", "transfer", "reward"))
    if kind == "buy":
        order_id = f"{threading.get_ident()}-{time.monotonic_ns()}"
        record_event(
            uow,
            EventRequest(
                type="purchase",
                occurred_at=uow.clock(),
                member_id=member,
                order_id=order_id,
                amount=Decimal(rng.randint(100, 30000)) / 100,
            ),
        )
        with lock:
            orders.append((member, order_id))
    elif kind == "redeem":
        redeem_points(uow, member, rng.randint(1, 120))
    elif kind == "refund" and orders:
        with lock:
            owner, order_id = rng.choice(orders)
        record_event(
            uow,
            EventRequest(
                type="refund",
                occurred_at=uow.clock(),
                member_id=owner,
                original_order_id=order_id,
                amount=Decimal("1.00"),
            ),
        )
    elif kind == "transfer":
        transfer_points(
            uow, member, rng.choice([i for i in ids if i != member]), rng.randint(1, 60)
        )
    elif kind == "reward":
        redeem_reward(uow, member, reward_id)
        with lock:
            report.stock_taken += 1
    report.operations[kind] += 1


def run_soak(
    engine: Engine,
    seconds: float,
    threads: int = 8,
    members: int = 6,
    stock: int = 20,
    seed: int = 1,
) -> SoakReport:
    """Run the workload for ``seconds`` on ``threads`` threads; then check everything."""
    ids, reward_id = _setup(engine, members, stock)
    report = SoakReport(seconds=seconds, stock_start=stock)
    orders: list[tuple[int, str]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while time.monotonic() < deadline:
            try:
                _one_operation(engine, rng, ids, reward_id, orders, lock, report)
            except PatronageError as exc:
                target = report.refusals if exc.code in EXPECTED_REFUSALS else None
                if target is None:
                    report.unexpected.append(f"{exc.code}: {exc.message}")
                else:
                    target[exc.code] += 1
            except Exception as exc:  # a deadlock or a crash is exactly what the soak looks for
                report.unexpected.append(f"{type(exc).__name__}: {exc}")

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    report.violations = find_violations(engine)
    uow = UnitOfWork(engine)
    report.negative_balances = sum(1 for i in ids if get_balance(uow, i).available < 0)
    report.stock_left = get_reward(uow, reward_id).stock
    return report
