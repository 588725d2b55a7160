"""Spending and moving points: redemptions, manual adjustments, transfers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patronage.errors import InvalidInput, RuleViolation
from patronage.services.balances import balance_in
from patronage.services.idempotency import run_once
from patronage.services.postings import credit, debit
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class PointsResult:
    entry_id: int
    member_id: int
    points: int
    balance: int
    available: int
    lots: list[dict[str, int]]
    debt_repaid: int = 0
    counterparty_entry_id: int | None = None


def _positive(points: int) -> None:
    if points <= 0:
        raise InvalidInput("points must be a positive whole number", field="points")
    if points > 10**12:
        raise InvalidInput("points is too large", field="points")


def redeem_points(
    uow: UnitOfWork,
    member_id: int,
    points: int,
    reward_id: str | None = None,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> PointsResult:
    """Spend points, soonest-expiring lots first; refused whole when short."""
    _positive(points)

    def operation(u: UnitOfWork) -> PointsResult:
        member = u.members.get(member_id, lock=True)
        program = u.programs.get_by_id(member.program_id)
        posting = debit(
            u,
            program,
            member,
            "redeem",
            points,
            u.clock(),
            actor=actor,
            details={"reward_id": reward_id} if reward_id else {},
        )
        return _result(u, member_id, posting.entry_id, -points, posting.drawn)

    payload = {"member_id": member_id, "points": points, "reward_id": reward_id}
    return run_once(uow, f"member:{member_id}:redeem", idempotency_key, payload, operation, _decode)


def adjust_points(
    uow: UnitOfWork,
    member_id: int,
    points: int,
    reason: str,
    actor: str,
    idempotency_key: str | None = None,
) -> PointsResult:
    """A manual correction. Needs a reason; written to the audit log with its author.
    A positive adjustment forms a lot (paying debt first); a negative one is taken
    from spendable lots and refused when the member does not have the points."""
    if points == 0:
        raise InvalidInput("points must not be zero", field="points")
    _positive(abs(points))
    if not reason or not reason.strip():
        raise InvalidInput("a reason is required for an adjustment", field="reason")

    def operation(u: UnitOfWork) -> PointsResult:
        member = u.members.get(member_id, lock=True)
        program = u.programs.get_by_id(member.program_id)
        before = balance_in(u, member_id)
        now = u.clock()
        if points > 0:
            posting = credit(u, program, member, "adjust", points, now, reason=reason, actor=actor)
            drawn: tuple[tuple[int, int], ...] = ()
            if posting.lot_id:
                drawn = ((posting.lot_id, points - posting.debt_repaid),)
        else:
            posting = debit(u, program, member, "adjust", -points, now, reason=reason, actor=actor)
            drawn = posting.drawn
        result = _result(u, member_id, posting.entry_id, points, drawn, posting.debt_repaid)
        u.audit.add(
            at=now,
            actor=actor,
            action="points_adjusted",
            target_type="member",
            target_id=str(member_id),
            before={"balance": before.total},
            after={"balance": result.balance, "entry_id": posting.entry_id},
            reason=reason,
        )
        return result

    payload = {"member_id": member_id, "points": points, "reason": reason}
    return run_once(uow, f"member:{member_id}:adjust", idempotency_key, payload, operation, _decode)


def transfer_points(
    uow: UnitOfWork,
    from_member_id: int,
    to_member_id: int,
    points: int,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> PointsResult:
    """Move points between two members of one program. The receiver's lots keep the
    sender's expiry dates; a transfer never extends a lifetime."""
    _positive(points)
    if from_member_id == to_member_id:
        raise InvalidInput("cannot transfer to the same member", field="to_member_id")

    def operation(u: UnitOfWork) -> PointsResult:
        u.members.lock([from_member_id, to_member_id])
        sender, receiver = u.members.get(from_member_id), u.members.get(to_member_id)
        if sender.program_id != receiver.program_id:
            raise RuleViolation("members belong to different programs", code="program_mismatch")
        program = u.programs.get_by_id(sender.program_id)
        now = u.clock()
        out = debit(
            u,
            program,
            sender,
            "transfer_out",
            points,
            now,
            actor=actor,
            counterparty_id=receiver.id,
        )
        lots = {lot.id: lot for lot in u.ledger.lot_rows(sender.id)}
        receiver_entry = None
        for lot_id, taken in out.drawn:
            receiver = u.members.get(to_member_id)
            posting = credit(
                u,
                program,
                receiver,
                "transfer_in",
                taken,
                now,
                expires_at=lots[lot_id].expires_at,
                keep_expiry=True,
                actor=actor,
                counterparty_id=sender.id,
                details={"origin_lot_id": lot_id},
            )
            receiver_entry = receiver_entry or posting.entry_id
        return _result(
            u, from_member_id, out.entry_id, -points, out.drawn, counterparty=receiver_entry
        )

    payload = {"from": from_member_id, "to": to_member_id, "points": points}
    return run_once(uow, f"transfer:{from_member_id}", idempotency_key, payload, operation, _decode)


def _result(
    u: UnitOfWork,
    member_id: int,
    entry_id: int,
    points: int,
    drawn: tuple[tuple[Any, int], ...],
    repaid: int = 0,
    counterparty: int | None = None,
) -> PointsResult:
    balance = balance_in(u, member_id)
    return PointsResult(
        entry_id=entry_id,
        member_id=member_id,
        points=points,
        balance=balance.total,
        available=balance.available,
        lots=[{"lot_id": lot, "points": pts} for lot, pts in drawn],
        debt_repaid=repaid,
        counterparty_entry_id=counterparty,
    )


def _decode(data: dict[str, Any]) -> PointsResult:
    return PointsResult(**data)
