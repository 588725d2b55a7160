"""Paid membership: plans, sign-up, renewal, cancellation with refund, grace and lapse.

Payments are taken by the caller's payment system; Patronage records each attempt
and its outcome (``succeeded``). ``renew_due`` (the scheduled job) instead charges
the member's wallet, so a membership paid from stored value renews on its own.
Renewals lock the membership row and are refused unless the period is within
``RENEWAL_WINDOW_DAYS`` of its end, so concurrent renewals extend it once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from patronage.domain.membership import (
    LIVE,
    Membership,
    Plan,
    check_plan,
    next_period,
    plain,
    prorated_refund,
    renewal_is_due,
)
from patronage.errors import Conflict, InvalidInput, NotFound, RuleViolation
from patronage.services.idempotency import run_once
from patronage.storage.uow import UnitOfWork

REFUND_TO = ("original", "wallet")


@dataclass(frozen=True)
class NewPlan:
    code: str
    name: str
    period: str
    fee_minor: int
    earn_multiplier: Decimal = Decimal(1)
    free_delivery: bool = False
    member_prices: bool = False
    coupon_batch_id: int | None = None
    coupons_per_month: int = 0
    grace_days: int = 7


@dataclass(frozen=True)
class PaidBenefit:
    plan_code: str
    earn_multiplier: Decimal


@dataclass(frozen=True)
class MembershipView:
    member_id: int
    plan: str
    status: str
    started_at: datetime
    period_start: datetime
    period_end: datetime
    grace_until: datetime | None
    fee_paid_minor: int
    refund_minor: int
    earn_multiplier: str
    free_delivery: bool
    member_prices: bool
    last_payment: str | None


def add_plan(uow: UnitOfWork, plan: NewPlan, program: str = "default") -> Plan:
    check_plan(plan.code, plan.period, plan.fee_minor, plan.earn_multiplier, plan.grace_days)
    if not plan.name or len(plan.name) > 200:
        raise InvalidInput("name is required (at most 200 characters)", field="name")
    if not 0 <= plan.coupons_per_month <= 31:
        raise InvalidInput("coupons_per_month must be 0..31", field="coupons_per_month")
    with uow:
        program_id = uow.programs.get(program).id or 0
        if uow.memberships.plan_by_code(program_id, plan.code) is not None:
            raise Conflict(f"plan {plan.code} exists", code="duplicate_plan", plan=plan.code)
        if plan.coupon_batch_id is not None:
            uow.coupons.batch(plan.coupon_batch_id)
        created = uow.memberships.add_plan(
            program_id=program_id, created_at=uow.clock(), **asdict(plan)
        )
        uow.commit()
        return created


def list_plans(uow: UnitOfWork, program: str = "default") -> list[Plan]:
    with uow:
        return uow.memberships.plans(uow.programs.get(program).id or 0)


def change_plan(uow: UnitOfWork, plan_id: int, **values: Any) -> Plan:
    """Change a plan's name, benefits or active flag (fees apply from the next renewal)."""
    allowed = {
        "name",
        "active",
        "earn_multiplier",
        "free_delivery",
        "member_prices",
        "fee_minor",
        "grace_days",
    }
    changes = {k: v for k, v in values.items() if k in allowed and v is not None}
    with uow:
        plan = uow.memberships.plan(plan_id)
        merged = {**asdict(plan), **changes}
        check_plan(
            plan.code,
            plan.period,
            merged["fee_minor"],
            merged["earn_multiplier"],
            merged["grace_days"],
        )
        if changes:
            uow.memberships.change_plan(plan_id, **changes)
        uow.commit()
        return uow.memberships.plan(plan_id)


def _view(uow: UnitOfWork, membership: Membership) -> MembershipView:
    payments = uow.memberships.payments(membership.id)
    last = payments[-1] if payments else None
    plan = membership.plan
    return MembershipView(
        membership.member_id,
        plan.code,
        membership.effective_status(uow.clock()),
        membership.started_at,
        membership.period_start,
        membership.period_end,
        membership.grace_until,
        membership.fee_paid_minor,
        membership.refund_minor,
        plain(plan.earn_multiplier),
        plan.free_delivery,
        plan.member_prices,
        f"{last.kind}:{last.outcome}" if last else None,
    )


def _decode(data: dict[str, Any]) -> MembershipView:
    for name in ("started_at", "period_start", "period_end", "grace_until"):
        if data[name] is not None:
            data[name] = datetime.fromisoformat(data[name])
    return MembershipView(**data)


def get_membership(uow: UnitOfWork, member_id: int) -> MembershipView:
    with uow:
        uow.members.get(member_id)
        found = uow.memberships.of_member(member_id)
        if found is None:
            raise NotFound(f"member {member_id} has no paid membership", member_id=member_id)
        return _view(uow, found)


def _payment(u: UnitOfWork, m_id: int, member_id: int, plan: Plan, **values: Any) -> None:
    u.memberships.add_payment(
        membership_id=m_id, member_id=member_id, plan_id=plan.id, at=u.clock(), **values
    )


def sign_up(
    uow: UnitOfWork,
    member_id: int,
    plan_code: str,
    reference: str | None = None,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> MembershipView:
    """Start a paid membership now, the first period paid (``reference``: the payment)."""

    def operation(u: UnitOfWork) -> MembershipView:
        member = u.members.get(member_id, lock=True)
        plan = u.memberships.plan_by_code(member.program_id, plan_code)
        if plan is None or not plan.active:
            raise NotFound(f"no active membership plan {plan_code}", plan=plan_code)
        current = u.memberships.of_member(member_id, lock=True)
        now = u.clock()
        if current is not None and current.effective_status(now) in LIVE:
            raise Conflict("the member already has a paid membership", code="already_member")
        start, end = next_period(now, plan.period)
        m_id = u.memberships.save(
            member_id,
            program_id=member.program_id,
            plan_id=plan.id,
            status="active",
            started_at=start,
            period_start=start,
            period_end=end,
            grace_until=None,
            fee_paid_minor=plan.fee_minor,
            cancelled_at=None,
            refund_minor=0,
            updated_at=now,
        )
        _payment(
            u,
            m_id,
            member_id,
            plan,
            kind="signup",
            outcome="succeeded",
            amount_minor=plan.fee_minor,
            period_start=start,
            period_end=end,
            reference=reference,
            actor=actor,
        )
        found = u.memberships.of_member(member_id)
        assert found is not None
        return _view(u, found)

    payload = {"member": member_id, "plan": plan_code, "reference": reference}
    return run_once(
        uow, f"member:{member_id}:membership", idempotency_key, payload, operation, _decode
    )


def _renew(
    u: UnitOfWork, member_id: int, succeeded: bool, reference: str | None, actor: str | None
) -> Membership:
    u.members.get(member_id)
    current = u.memberships.of_member(member_id, lock=True)
    now = u.clock()
    if current is None:
        raise NotFound(f"member {member_id} has no paid membership", member_id=member_id)
    if current.effective_status(now) not in LIVE:
        raise RuleViolation("the membership is not live; sign up again", code="membership_not_live")
    if not renewal_is_due(current, now):
        raise Conflict(
            "the membership is renewed already (not within its renewal window)",
            code="renewal_not_due",
            period_end=current.period_end.isoformat(),
        )
    plan = u.memberships.plan(current.plan.id)
    start, end = next_period(current.period_end, plan.period)
    if succeeded:
        u.memberships.save(
            member_id,
            status="active",
            period_start=start,
            period_end=end,
            grace_until=None,
            fee_paid_minor=plan.fee_minor,
            updated_at=now,
        )
    else:
        grace = current.grace_until or current.period_end + timedelta(days=plan.grace_days)
        u.memberships.save(member_id, status="grace", grace_until=grace, updated_at=now)
    _payment(
        u,
        current.id,
        member_id,
        plan,
        kind="renewal",
        outcome="succeeded" if succeeded else "failed",
        amount_minor=plan.fee_minor if succeeded else 0,
        period_start=start,
        period_end=end,
        reference=reference,
        actor=actor,
    )
    found = u.memberships.of_member(member_id)
    assert found is not None
    return found


def renew(
    uow: UnitOfWork,
    member_id: int,
    succeeded: bool = True,
    reference: str | None = None,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> MembershipView:
    """Record a renewal attempt: success extends by one period from the old end;
    failure starts (or keeps) the grace period."""

    def operation(u: UnitOfWork) -> MembershipView:
        return _view(u, _renew(u, member_id, succeeded, reference, actor))

    payload = {"member": member_id, "succeeded": succeeded, "reference": reference}
    scope = f"member:{member_id}:membership_renewal"
    return run_once(uow, scope, idempotency_key, payload, operation, _decode)


def cancel(
    uow: UnitOfWork,
    member_id: int,
    refund_to: str = "original",
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> MembershipView:
    """End the membership now and refund the unused whole days (see domain.membership)."""
    if refund_to not in REFUND_TO:
        raise InvalidInput(f"refund_to must be one of {', '.join(REFUND_TO)}", field="refund_to")

    def operation(u: UnitOfWork) -> MembershipView:
        u.members.get(member_id, lock=True)
        current = u.memberships.of_member(member_id, lock=True)
        now = u.clock()
        if current is None or current.effective_status(now) not in LIVE:
            raise RuleViolation("there is no live membership to cancel", code="membership_not_live")
        paid = current.fee_paid_minor if current.status == "active" else 0
        refund = prorated_refund(paid, current.period_start, current.period_end, now)
        u.memberships.save(
            member_id,
            status="cancelled",
            cancelled_at=now,
            period_end=max(now, current.period_start),
            refund_minor=refund,
            updated_at=now,
        )
        _payment(
            u,
            current.id,
            member_id,
            current.plan,
            kind="refund",
            outcome="succeeded",
            amount_minor=refund,
            period_start=current.period_start,
            period_end=current.period_end,
            reference=refund_to,
            actor=actor,
        )
        if refund > 0 and refund_to == "wallet":
            from patronage.services.wallet import add_to_wallet

            add_to_wallet(u, member_id, refund, "top_up", reason="membership refund", actor=actor)
        found = u.memberships.of_member(member_id)
        assert found is not None
        return _view(u, found)

    payload = {"member": member_id, "refund_to": refund_to}
    return run_once(
        uow, f"member:{member_id}:membership_cancel", idempotency_key, payload, operation, _decode
    )


def benefit_at(uow: UnitOfWork, member_id: int, at: datetime) -> PaidBenefit | None:
    """The paid plan's earn multiplier when the membership covers ``at`` (inside the
    caller's transaction; used when a purchase earns)."""
    if not uow.memberships.any_plan_multiplies_earning():
        return None
    found = uow.memberships.of_member(member_id)
    if found is None or not found.covers(at) or found.plan.earn_multiplier == 1:
        return None
    return PaidBenefit(found.plan.code, Decimal(plain(found.plan.earn_multiplier)))
