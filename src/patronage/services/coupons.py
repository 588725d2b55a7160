"""Coupons at the counter: validate without redeeming, redeem once, reverse a redemption."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from patronage.domain import coupon_codes
from patronage.domain.coupons import Coupon, CouponBatch, refusal
from patronage.errors import Conflict, InvalidInput, NotFound, RuleViolation
from patronage.services.idempotency import run_once
from patronage.services.webhook_events import emit
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class CouponCheck:
    code: str
    valid: bool
    reason: str | None
    message: str | None
    batch_id: int
    discount: dict[str, Any]
    discount_minor: int | None
    redemptions_left: int
    expires_at: datetime | None
    member_id: int | None


@dataclass(frozen=True)
class CouponRedemption:
    id: int
    code: str
    coupon_id: int
    batch_id: int
    member_id: int | None
    order_id: str | None
    discount: dict[str, Any]
    amount_minor: int | None
    discount_minor: int | None
    redemptions_left: int
    redeemed_at: datetime
    reversed_at: datetime | None = None


def find_coupon(uow: UnitOfWork, code: str) -> Coupon:
    """The coupon a person typed. An unknown code that fails the check character is
    reported as a typo (422), any other unknown code as not found (404)."""
    typed = coupon_codes.normalize(code)
    if not 4 <= len(typed) <= 64:
        raise InvalidInput("a coupon code has 4-64 characters", field="code")
    coupon = uow.coupons.by_code(typed)
    if coupon is not None:
        return coupon
    if all(ch in coupon_codes.ALPHABET for ch in typed) and not coupon_codes.is_well_formed(typed):
        raise InvalidInput(
            "this code has a typo: its check character does not match",
            code="mistyped_code",
            field="code",
        )
    raise NotFound("no such coupon", code="coupon_not_found")


def _check_inputs(member_id: int | None, amount_minor: int | None, order_id: str | None) -> None:
    if member_id is not None and not 1 <= member_id <= 2**62:
        raise InvalidInput("member_id must be a positive id", field="member_id")
    if amount_minor is not None and not 0 <= amount_minor <= 10**12:
        raise InvalidInput("amount_minor must be 0-10^12 minor units", field="amount_minor")
    if order_id is not None and not 1 <= len(order_id) <= 128:
        raise InvalidInput("order_id must be 1-128 characters", field="order_id")


def _member_uses(u: UnitOfWork, coupon: Coupon, member_id: int | None) -> int:
    if member_id is None:
        return 0
    member = u.members.get(member_id)
    if member.program_id != coupon.program_id:
        raise RuleViolation("the coupon belongs to another program", code="program_mismatch")
    if coupon.per_member_limit is None:
        return 0
    return u.coupons.member_redemptions(coupon.batch_id, member_id)


def validate_coupon(
    uow: UnitOfWork, code: str, member_id: int | None = None, amount_minor: int | None = None
) -> CouponCheck:
    """Whether the code could be redeemed now, and what it is worth; writes nothing."""
    _check_inputs(member_id, amount_minor, None)
    with uow:
        coupon = find_coupon(uow, code)
        refused = refusal(coupon, member_id, _member_uses(uow, coupon, member_id), uow.clock())
        return CouponCheck(
            code=coupon.code,
            valid=refused is None,
            reason=refused.code if refused else None,
            message=refused.message if refused else None,
            batch_id=coupon.batch_id,
            discount=asdict(coupon.discount),
            discount_minor=coupon.discount.off(amount_minor),
            redemptions_left=coupon.redemptions_left,
            expires_at=coupon.expires_at,
            member_id=coupon.member_id,
        )


def redeem_coupon(
    uow: UnitOfWork,
    code: str,
    member_id: int | None = None,
    order_id: str | None = None,
    amount_minor: int | None = None,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> CouponRedemption:
    """Use the code once. The use count rises by one conditional UPDATE, so a
    single-use code redeemed at two tills at once succeeds at exactly one."""
    _check_inputs(member_id, amount_minor, order_id)

    def operation(u: UnitOfWork) -> CouponRedemption:
        if member_id is not None:
            u.members.lock([member_id])  # per-member limits: one redemption at a time
        coupon = find_coupon(u, code)
        now = u.clock()
        refused = refusal(coupon, member_id, _member_uses(u, coupon, member_id), now)
        if refused is not None:
            raise refused
        if not u.coupons.use(coupon.id):
            raise RuleViolation("this coupon has been used up", code="coupon_used_up")
        discount_minor = coupon.discount.off(amount_minor)
        redemption_id = u.coupons.add_redemption(
            coupon_id=coupon.id,
            batch_id=coupon.batch_id,
            member_id=member_id,
            order_id=order_id,
            amount_minor=amount_minor,
            discount_minor=discount_minor,
            redeemed_at=now,
            actor=actor,
        )
        return _redemption(coupon, redemption_id, member_id, order_id, amount_minor, now, -1)

    payload = {"code": code, "member": member_id, "order": order_id, "amount": amount_minor}
    scope = f"coupon:{coupon_codes.normalize(code)}:redeem"
    return run_once(uow, scope, idempotency_key, payload, operation, _decode)


def reverse_redemption(
    uow: UnitOfWork,
    code: str,
    redemption_id: int,
    reason: str,
    actor: str,
    idempotency_key: str | None = None,
) -> CouponRedemption:
    """Give a use back (the order was cancelled); audited. A second reversal is 409."""
    if not reason or not reason.strip() or len(reason) > 500:
        raise InvalidInput("a reason is required (at most 500 characters)", field="reason")

    def operation(u: UnitOfWork) -> CouponRedemption:
        coupon = find_coupon(u, code)
        row = u.coupons.redemption(redemption_id)
        if row.coupon_id != coupon.id:
            raise NotFound("no such redemption of this coupon", redemption_id=redemption_id)
        now = u.clock()
        if not u.coupons.mark_reversed(redemption_id, now, actor, reason):
            raise Conflict("this redemption was already reversed", code="already_reversed")
        u.coupons.give_back(coupon.id)
        u.audit.add(
            at=now,
            actor=actor,
            action="coupon_redemption_reversed",
            target_type="coupon",
            target_id=coupon.code,
            before={"redemption_id": redemption_id, "redeemed_count": coupon.redeemed_count},
            after={"redeemed_count": coupon.redeemed_count - 1},
            reason=reason,
        )
        result = _redemption(
            coupon, row.id, row.member_id, row.order_id, row.amount_minor, row.redeemed_at, 1
        )
        return CouponRedemption(**{**asdict(result), "reversed_at": now})

    payload = {"code": code, "redemption_id": redemption_id, "reason": reason}
    scope = f"coupon:{coupon_codes.normalize(code)}:reverse"
    return run_once(uow, scope, idempotency_key, payload, operation, _decode)


def issue_member_coupon(
    u: UnitOfWork, batch: CouponBatch, member_id: int, expires_at: datetime | None
) -> Coupon:
    """A fresh single-use code for one member, inside the caller's transaction."""
    for attempt in range(3):
        code = coupon_codes.new_code(batch.code_length)
        try:
            with u.savepoint():
                u.coupons.insert_codes(batch.id, [code], 1, u.clock(), member_id, expires_at)
            break
        except Conflict:
            if attempt == 2:
                raise
    coupon = u.coupons.by_code(code)
    assert coupon is not None
    expiry = expires_at.isoformat() if expires_at else None
    data = {"code": code, "batch_id": batch.id, "expires_at": expiry}
    emit(u, batch.program_id, "coupon.issued", member_id, data)
    return coupon


def member_coupons(uow: UnitOfWork, member_id: int) -> list[CouponCheck]:
    with uow:
        uow.members.get(member_id)
        now = uow.clock()
        result = []
        for coupon in uow.coupons.of_member(member_id):
            refused = refusal(coupon, member_id, 0, now)
            result.append(
                CouponCheck(
                    code=coupon.code,
                    valid=refused is None,
                    reason=refused.code if refused else None,
                    message=refused.message if refused else None,
                    batch_id=coupon.batch_id,
                    discount=asdict(coupon.discount),
                    discount_minor=None,
                    redemptions_left=coupon.redemptions_left,
                    expires_at=coupon.expires_at,
                    member_id=coupon.member_id,
                )
            )
        return result


def _redemption(
    coupon: Coupon,
    redemption_id: int,
    member_id: int | None,
    order_id: str | None,
    amount_minor: int | None,
    at: datetime,
    change: int,
) -> CouponRedemption:
    return CouponRedemption(
        id=redemption_id,
        code=coupon.code,
        coupon_id=coupon.id,
        batch_id=coupon.batch_id,
        member_id=member_id,
        order_id=order_id,
        discount=asdict(coupon.discount),
        amount_minor=amount_minor,
        discount_minor=coupon.discount.off(amount_minor),
        redemptions_left=coupon.redemptions_left + change,
        redeemed_at=at,
    )


def _decode(data: dict[str, Any]) -> CouponRedemption:
    for name in ("redeemed_at", "reversed_at"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    return CouponRedemption(**data)
