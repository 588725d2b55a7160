"""Recording what members do: purchases earn, refunds claw back, custom events are kept."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from patronage.clock import require_aware
from patronage.domain.ledger import points_for_amount, reversal_for_refund
from patronage.domain.members import Member
from patronage.domain.program import Program
from patronage.errors import Conflict, InvalidInput, NotFound, RuleViolation
from patronage.services import membership, rules, tiers
from patronage.services.idempotency import run_once
from patronage.services.postings import credit
from patronage.storage.uow import UnitOfWork

EVENT_TYPE_MAX = 64


@dataclass(frozen=True)
class EventRequest:
    type: str
    occurred_at: datetime
    program: str = "default"
    member_id: int | None = None
    member_external_id: str | None = None
    order_id: str | None = None
    original_order_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    store: str | None = None
    channel: str | None = None
    staff_id: str | None = None
    items: list[dict[str, Any]] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source_id: str | None = None


@dataclass(frozen=True)
class EventResult:
    event_id: int
    member_id: int
    type: str
    order_id: str | None
    points_earned: int = 0
    points_reversed: int = 0
    debt_repaid: int = 0
    debt_added: int = 0
    tier: str | None = None
    cashback_minor: int = 0  # paid into the wallet by cashback rules for this event
    cashback_reversed_minor: int = 0  # taken back from the wallet by this refund


def to_minor(amount: Decimal, field_name: str = "amount") -> int:
    """Money in integer minor units; more than two decimals is an input error."""
    if not amount.is_finite():
        raise InvalidInput(f"{field_name} must be a number", field=field_name)
    minor = amount * 100
    if minor != minor.to_integral_value():
        raise InvalidInput(f"{field_name} has more than two decimals", field=field_name)
    if amount <= 0:
        raise InvalidInput(f"{field_name} must be positive", field=field_name)
    if minor > 10**13:
        raise InvalidInput(f"{field_name} is too large", field=field_name)
    return int(minor)


def validate(request: EventRequest) -> None:
    require_aware(request.occurred_at, "occurred_at")
    if not request.type or len(request.type) > EVENT_TYPE_MAX:
        raise InvalidInput("type is required (at most 64 characters)", field="type")
    if request.member_id is None and not request.member_external_id:
        raise InvalidInput("member_id or member_external_id is required", field="member_id")
    if request.type in ("purchase", "refund"):
        if request.amount is None:
            raise InvalidInput(f"a {request.type} needs an amount", field="amount")
        to_minor(request.amount)
    if request.type == "purchase" and not request.order_id:
        raise InvalidInput("a purchase needs an order_id", field="order_id")
    if request.type == "refund" and not (request.original_order_id or request.order_id):
        raise InvalidInput("a refund needs original_order_id", field="original_order_id")


def resolve_member(
    uow: UnitOfWork, program: Program, request: EventRequest, create: bool
) -> Member:
    """The event's member, read under its row lock (a new member is ours alone)."""
    if request.member_id is not None:
        member = uow.members.get(request.member_id, lock=True)
        if member.program_id != program.id:
            raise NotFound(f"no member {request.member_id} in program {program.code}")
        return member
    external_id = request.member_external_id or ""
    found = uow.members.by_external_id(program.id or 0, external_id, lock=True)
    if found is not None:
        return found
    if not create:
        raise NotFound(
            f"no member with external id {external_id!r}", member_external_id=external_id
        )
    from patronage.services.members import add_member

    return add_member(uow, program, external_id, joined_at=request.occurred_at)


def _store_event(uow: UnitOfWork, program: Program, member: Member, request: EventRequest) -> int:
    if request.currency and request.currency.upper() != program.currency:
        raise InvalidInput(
            f"currency {request.currency} differs from the program's {program.currency}",
            field="currency",
        )
    return uow.events.add(
        program_id=program.id,
        member_id=member.id,
        type=request.type,
        source_id=request.source_id,
        order_id=request.order_id,
        original_order_id=request.original_order_id,
        occurred_at=request.occurred_at,
        recorded_at=uow.clock(),
        amount_minor=to_minor(request.amount) if request.amount is not None else None,
        currency=program.currency,
        store=request.store,
        channel=request.channel,
        staff_id=request.staff_id,
        items=request.items,
        attributes=request.attributes,
    )


def _purchase(
    uow: UnitOfWork, program: Program, member: Member, request: EventRequest, defer: bool
) -> EventResult:
    order_id = request.order_id or ""  # a second purchase of an order fails at add_order
    event_id = _store_event(uow, program, member, request)
    amount = to_minor(request.amount or Decimal(0))
    tier = tiers.current_tier(program, member)
    paid = membership.benefit_at(uow, member.id, request.occurred_at)
    multiplier = tier.multiplier * (paid.earn_multiplier if paid else 1)
    points = points_for_amount(amount, program.earn_rate, multiplier)
    awards = rules.awards_for(uow, program, member, request, event_id, points, defer)
    base_points, points = points, points + awards.points
    lot_id, repaid = None, 0
    if points > 0:
        details = {"amount_minor": amount, "tier": tier.code, "multiplier": str(tier.multiplier)}
        if paid:  # a paid membership's extra multiplier (services.membership)
            details.update(paid_plan=paid.plan_code, paid_multiplier=str(paid.earn_multiplier))
        if awards.points:
            details.update(base_points=base_points, **awards.details)
        posting = credit(
            uow,
            program,
            member,
            "earn",
            points,
            request.occurred_at,
            event_id=event_id,
            order_id=order_id,
            details=details,
        )
        lot_id, repaid = posting.lot_id, posting.debt_repaid
    uow.events.add_order(
        program_id=program.id,
        member_id=member.id,
        order_id=order_id,
        event_id=event_id,
        amount_minor=amount,
        points_earned=points,
        lot_id=lot_id,
        occurred_at=request.occurred_at,
    )
    new_tier = tiers.requalify_after_activity(uow, program, member, request.occurred_at, points)
    rules.record_awards(uow, awards)  # last: the campaign rows stay locked only to the commit
    return EventResult(
        event_id,
        member.id,
        "purchase",
        order_id,
        points_earned=points,
        debt_repaid=repaid,
        tier=new_tier.code,
        cashback_minor=awards.cashback_minor,
    )


def _refund(
    uow: UnitOfWork, program: Program, member: Member, request: EventRequest
) -> EventResult:
    original = request.original_order_id or request.order_id or ""
    order = uow.events.order(program.id or 0, original)
    if order is None:
        raise RuleViolation(
            f"no order {original} to refund", code="unknown_order", original_order_id=original
        )
    if order.member_id != member.id:
        raise RuleViolation("the order belongs to another member", code="order_member_mismatch")
    amount = to_minor(request.amount or Decimal(0))
    points = reversal_for_refund(
        order.amount_minor, order.refunded_minor, amount, order.points_earned, order.points_reversed
    )
    event_id = _store_event(uow, program, member, request)
    from patronage.services.cashback import claw_back_cashback

    cashback_taken = claw_back_cashback(uow, member, order, amount)  # reads the order first
    uow.events.record_refund(order, amount, points)
    debt_added, taken = 0, 0
    if points > 0:
        from patronage.services.reversals import claw_back

        taken, debt_added = claw_back(
            uow, program, member, order, points, request.occurred_at, event_id
        )
    return EventResult(
        event_id,
        member.id,
        "refund",
        original,
        points_reversed=taken + debt_added,
        debt_added=debt_added,
        tier=member.tier_code,
        cashback_reversed_minor=cashback_taken,
    )


def _custom(
    uow: UnitOfWork, program: Program, member: Member, request: EventRequest, defer: bool
) -> EventResult:
    event_id = _store_event(uow, program, member, request)
    awards = rules.awards_for(uow, program, member, request, event_id, 0, defer)
    if awards.points:
        credit(
            uow,
            program,
            member,
            "earn",
            awards.points,
            request.occurred_at,
            event_id=event_id,
            details=awards.details,
        )
    rules.record_awards(uow, awards)
    return EventResult(
        event_id,
        member.id,
        request.type,
        request.order_id,
        points_earned=awards.points,
        tier=member.tier_code,
        cashback_minor=awards.cashback_minor,
    )


def apply_event(
    uow: UnitOfWork,
    request: EventRequest,
    create_members: bool = False,
    defer_budgets: bool = False,
) -> EventResult:
    """Record one event inside an open unit of work (the caller commits). With
    ``defer_budgets`` campaign budgets are spent by the event's last statement and
    :class:`rules.BudgetTakenMeanwhile` is raised when a concurrent event took what the
    decision counted on (roll back, and apply the event again without deferring)."""
    validate(request)
    program = uow.programs.get(request.program)
    if request.source_id and uow.events.source_exists(program.id or 0, request.source_id):
        raise Conflict(  # a re-sent event, whatever has happened since
            "this event was already recorded", code="duplicate_event", source_id=request.source_id
        )
    member = resolve_member(uow, program, request, create_members)
    if request.type == "purchase":
        return _purchase(uow, program, member, request, defer_budgets)
    if request.type == "refund":
        return _refund(uow, program, member, request)
    return _custom(uow, program, member, request, defer_budgets)


def record_event(
    uow: UnitOfWork, request: EventRequest, idempotency_key: str | None = None
) -> EventResult:
    """Record an event once: retried with the same key, it returns the first result.

    Campaign budgets are spent last, so concurrent events earning from one campaign
    queue on its row only for a commit; when one took the budget this event counted
    on, the event is recorded again, spending as it decides (storage locks in order)."""
    validate(request)
    payload = asdict(request)

    def attempt(defer_budgets: bool) -> EventResult:
        return run_once(
            uow,
            f"{request.program}:events",
            idempotency_key,
            payload,
            lambda u: apply_event(u, request, defer_budgets=defer_budgets),
            lambda data: EventResult(**data),
        )

    try:
        return attempt(defer_budgets=True)
    except rules.BudgetTakenMeanwhile:
        return attempt(defer_budgets=False)
