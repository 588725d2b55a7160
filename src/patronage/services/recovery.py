"""Service recovery: apology points through the ledger, or a coupon reference.

Points up to ``PATRONAGE_RECOVERY_APPROVAL_POINTS`` are posted at once; more
wait as ``pending`` until an admin approves (or rejects) them. The points are
a ledger adjustment with the reason ``service recovery: complaint N``, posted
with the Idempotency-Key ``complaint-recovery:<action id>``: if the step that
marks the action applied fails, approving again replays the same adjustment
instead of posting it twice. A coupon is recorded as a reference only (coupons
are issued by the coupon module).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patronage.config import get_settings
from patronage.errors import InvalidInput, RuleViolation
from patronage.services.points import adjust_points
from patronage.storage.tables import RecoveryActionRow
from patronage.storage.uow import UnitOfWork

MAX_POINTS = 10**9


@dataclass(frozen=True)
class Recovery:
    id: int
    complaint_id: int
    member_id: int
    points: int
    coupon_ref: str | None
    note: str | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    entry_id: int | None


def recovery_of(row: RecoveryActionRow) -> Recovery:
    return Recovery(
        row.id,
        row.complaint_id,
        row.member_id,
        row.points,
        row.coupon_ref,
        row.note,
        row.status,
        row.requested_by,
        row.requested_at,
        row.decided_by,
        row.entry_id,
    )


def request_recovery(
    uow: UnitOfWork,
    complaint_id: int,
    actor: str,
    points: int = 0,
    coupon_ref: str | None = None,
    note: str | None = None,
) -> Recovery:
    """Offer apology points and/or a coupon; above the limit it waits for approval."""
    if not 0 <= points <= MAX_POINTS:
        raise InvalidInput(f"points must be 0 to {MAX_POINTS}", field="points")
    if points == 0 and not coupon_ref:
        raise InvalidInput("give points or a coupon_ref", field="points")
    if coupon_ref is not None and not 0 < len(coupon_ref) <= 128:
        raise InvalidInput("coupon_ref is 1-128 characters", field="coupon_ref")
    if note is not None and len(note) > 500:
        raise InvalidInput("note is at most 500 characters", field="note")
    needs_approval = points > get_settings().recovery_approval_points
    with uow:
        complaint = uow.complaints.get(complaint_id)
        row = uow.complaints.add(
            RecoveryActionRow(
                complaint_id=complaint.id,
                member_id=complaint.member_id,
                points=points,
                coupon_ref=coupon_ref,
                note=note,
                status="pending" if needs_approval else "approved",
                requested_by=actor,
                requested_at=uow.clock(),
                decided_by=None if needs_approval else actor,
                decided_at=None if needs_approval else uow.clock(),
            )
        )
        uow.commit()
        recovery_id = row.id
    if needs_approval:
        return get_recovery(uow, recovery_id)
    return _apply(uow, recovery_id, actor)


def approve_recovery(uow: UnitOfWork, recovery_id: int, actor: str) -> Recovery:
    """An admin approves a pending action (or retries one approved but not applied)."""
    with uow:
        row = uow.complaints.recovery(recovery_id, lock=True)
        if row.status not in ("pending", "approved"):
            raise RuleViolation(
                f"the recovery action is {row.status}", code="recovery_decided", status=row.status
            )
        if row.status == "pending":
            row.status, row.decided_by, row.decided_at = "approved", actor, uow.clock()
        uow.commit()
    return _apply(uow, recovery_id, actor)


def reject_recovery(uow: UnitOfWork, recovery_id: int, actor: str) -> Recovery:
    with uow:
        row = uow.complaints.recovery(recovery_id, lock=True)
        if row.status != "pending":
            raise RuleViolation(
                f"the recovery action is {row.status}", code="recovery_decided", status=row.status
            )
        row.status, row.decided_by, row.decided_at = "rejected", actor, uow.clock()
        uow.commit()
        return recovery_of(row)


def get_recovery(uow: UnitOfWork, recovery_id: int) -> Recovery:
    with uow:
        return recovery_of(uow.complaints.recovery(recovery_id))


def list_recoveries(uow: UnitOfWork, complaint_id: int) -> list[Recovery]:
    with uow:
        uow.complaints.get(complaint_id)
        return [recovery_of(r) for r in uow.complaints.recoveries(complaint_id)]


def _apply(uow: UnitOfWork, recovery_id: int, actor: str) -> Recovery:
    """Post the points (idempotently) and mark the action applied."""
    action = get_recovery(uow, recovery_id)
    entry_id = None
    if action.points > 0:
        result = adjust_points(
            uow,
            action.member_id,
            action.points,
            f"service recovery: complaint {action.complaint_id}",
            actor,
            idempotency_key=f"complaint-recovery:{recovery_id}",
        )
        entry_id = result.entry_id
    with uow:
        row = uow.complaints.recovery(recovery_id, lock=True)
        row.status, row.entry_id = "applied", entry_id
        uow.commit()
        return recovery_of(row)
