"""Posting points to and from a member's lots. Called inside a service's transaction,
after the member's row is locked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patronage.domain.ledger import Lot, lot_available_at, lot_expiry, plan_spend, repay_debt
from patronage.domain.members import Member
from patronage.domain.program import Program
from patronage.errors import RuleViolation
from patronage.services.webhook_events import emit
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Posting:
    entry_id: int
    points: int
    debt_repaid: int = 0
    debt_added: int = 0
    lot_id: int | None = None
    drawn: tuple[tuple[int, int], ...] = ()


def credit(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    kind: str,
    points: int,
    at: datetime,
    *,
    expires_at: datetime | None = None,
    keep_expiry: bool = False,
    **entry: Any,
) -> Posting:
    """Add points: they repay debt first; the rest forms a new lot.

    ``keep_expiry`` (transfers) gives the lot the expiry passed in rather than the
    program's policy, so a transfer can never extend a lifetime.
    """
    values = {
        "program_id": program.id,
        "member_id": member.id,
        "kind": kind,
        "points": points,
        "occurred_at": at,
        "recorded_at": uow.clock(),
        **entry,
    }
    repaid, to_lot = repay_debt(points, member.debt)
    lot_id = None
    if to_lot:
        entry_id, lot_id = uow.ledger.add_entry_with_lot(
            values,
            {
                "program_id": program.id or 0,
                "member_id": member.id,
                "points": to_lot,
                "earned_at": at,
                "available_at": at if keep_expiry else lot_available_at(program, at),
                "expires_at": expires_at if keep_expiry else lot_expiry(program, at),
                "order_id": entry.get("order_id"),
            },
        )
    else:
        entry_id = uow.ledger.add_entry(**values)
    if repaid:
        uow.members.change_debt(member.id, -repaid)
    if kind == "earn":
        data = {"points": points, "entry_id": entry_id, "order_id": entry.get("order_id")}
        emit(uow, program.id, "points.earned", member.id, data)
    return Posting(entry_id, points, debt_repaid=repaid, lot_id=lot_id)


def redeemable(lots: list[Lot], member: Member, now: datetime) -> int:
    """What a member may spend now: available points less any debt."""
    available = sum(lot.remaining for lot in lots if lot.is_spendable(now))
    return max(0, available - member.debt)


def debit(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    kind: str,
    points: int,
    at: datetime,
    **entry: Any,
) -> Posting:
    """Take points from spendable lots, soonest-expiring first, refused whole if short."""
    now = uow.clock()
    lots = uow.ledger.open_lots(member.id)
    can_spend = redeemable(lots, member, now)
    if points > can_spend:
        raise RuleViolation(
            f"insufficient {program.unit}: {points} requested, {can_spend} available",
            code="insufficient_points",
            requested=points,
            available=can_spend,
        )
    plan = plan_spend(lots, points, now)
    entry_id = uow.ledger.add_entry(
        program_id=program.id,
        member_id=member.id,
        kind=kind,
        points=-points,
        occurred_at=at,
        recorded_at=now,
        details={
            **entry.pop("details", {}),
            "lots": [{"lot_id": lot, "points": pts} for lot, pts in plan],
        },
        **entry,
    )
    uow.ledger.allocate(entry_id, [(lot, -pts) for lot, pts in plan])
    if kind == "redeem":
        data = {"points": points, "entry_id": entry_id}
        emit(uow, program.id, "points.redeemed", member.id, data)
    return Posting(entry_id, -points, drawn=tuple(plan))
