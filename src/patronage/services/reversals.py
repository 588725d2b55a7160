"""Clawing back the points of a refunded order."""

from __future__ import annotations

from datetime import datetime

from patronage.domain.members import Member
from patronage.domain.program import Program
from patronage.storage.tables import OrderRow
from patronage.storage.uow import UnitOfWork


def claw_back(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    order: OrderRow,
    points: int,
    at: datetime,
    event_id: int,
) -> tuple[int, int]:
    """Reverse ``points`` of an order: first what is left of the order's own lot
    (pending or not); what was already spent becomes debt. Points of the lot that
    expired are not owed again. Returns (taken from the lot, added to debt)."""
    taken, expired = 0, 0
    if order.lot_id is not None:
        lot = uow.ledger.lot(order.lot_id)
        taken = min(points, lot.remaining)
        expired = -sum(
            a.points
            for a in uow.ledger.allocations_of_lots([lot.id])
            if a.points < 0 and _is_expiry(uow, a.entry_id)
        )
    rest = points - taken
    forgiven = min(rest, expired)
    debt = rest - forgiven
    if taken + debt == 0:
        return 0, 0  # everything it would take back had already expired
    entry_id = uow.ledger.add_entry(
        program_id=program.id,
        member_id=member.id,
        kind="reverse",
        points=-(taken + debt),
        occurred_at=at,
        recorded_at=uow.clock(),
        event_id=event_id,
        order_id=order.order_id,
        details={"from_lot": taken, "to_debt": debt, "expired_not_owed": forgiven},
    )
    if taken and order.lot_id is not None:
        uow.ledger.allocate(entry_id, [(order.lot_id, -taken)])
    if debt:
        uow.members.change_debt(member.id, debt)
    return taken, debt


def _is_expiry(uow: UnitOfWork, entry_id: int) -> bool:
    entry = uow.ledger.entries_by_id([entry_id]).get(entry_id)
    return entry is not None and entry.kind == "expire"
