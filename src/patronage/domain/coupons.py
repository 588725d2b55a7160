"""Coupons: what a code is worth and whether it may be redeemed now. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patronage.errors import InvalidInput, RuleViolation

DISCOUNT_TYPES = ("percent", "fixed", "free_item")
MAX_AMOUNT_MINOR = 10**12


@dataclass(frozen=True)
class Discount:
    """``percent`` (value 1-100), ``fixed`` (value in minor units) or ``free_item`` (sku)."""

    type: str
    value: int | None = None
    sku: str | None = None

    def check(self) -> Discount:
        if self.type not in DISCOUNT_TYPES:
            raise InvalidInput(
                f"discount type must be one of {', '.join(DISCOUNT_TYPES)}", field="discount.type"
            )
        if self.type == "free_item":
            if not self.sku or len(self.sku) > 128:
                raise InvalidInput("a free item needs its sku", field="discount.sku")
            if self.value is not None:
                raise InvalidInput("a free item has no value", field="discount.value")
            return self
        if self.sku is not None:
            raise InvalidInput("only a free item names a sku", field="discount.sku")
        limit = 100 if self.type == "percent" else MAX_AMOUNT_MINOR
        if self.value is None or not 1 <= self.value <= limit:
            raise InvalidInput(
                f"discount value must be between 1 and {limit}", field="discount.value"
            )
        return self

    def off(self, amount_minor: int | None) -> int | None:
        """Money off an order of ``amount_minor``: percent rounds half up, a fixed amount
        never exceeds the order; a free item is not money (None)."""
        if amount_minor is None or self.type == "free_item":
            return None
        value = self.value or 0
        if self.type == "percent":
            return (amount_minor * value * 2 + 100) // 200
        return min(value, amount_minor)


@dataclass(frozen=True)
class BatchRules:
    """What every code of a batch shares."""

    discount: Discount
    max_redemptions: int = 1
    per_member_limit: int | None = None
    valid_from: datetime | None = None
    expires_at: datetime | None = None

    def check(self) -> BatchRules:
        self.discount.check()
        if not 1 <= self.max_redemptions <= 10**9:
            raise InvalidInput("max_redemptions must be at least 1", field="max_redemptions")
        if self.per_member_limit is not None and not 1 <= self.per_member_limit <= 10**9:
            raise InvalidInput("per_member_limit must be at least 1", field="per_member_limit")
        for name in ("valid_from", "expires_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} must carry a time zone offset", field=name)
        if self.valid_from and self.expires_at and self.expires_at <= self.valid_from:
            raise InvalidInput("expires_at must be after valid_from", field="expires_at")
        return self


@dataclass(frozen=True)
class Coupon:
    id: int
    code: str
    batch_id: int
    program_id: int
    discount: Discount
    max_redemptions: int
    redeemed_count: int
    per_member_limit: int | None
    valid_from: datetime | None
    expires_at: datetime | None
    member_id: int | None = None
    active: bool = True

    @property
    def redemptions_left(self) -> int:
        return max(0, self.max_redemptions - self.redeemed_count)


def refusal(
    coupon: Coupon, member_id: int | None, member_redemptions: int, now: datetime
) -> RuleViolation | None:
    """Why ``coupon`` may not be redeemed now by ``member_id``, or None when it may."""
    if not coupon.active:
        return RuleViolation("this coupon's batch is switched off", code="coupon_inactive")
    if coupon.valid_from is not None and now < coupon.valid_from:
        return RuleViolation(
            "this coupon is not valid yet",
            code="coupon_not_yet_valid",
            valid_from=coupon.valid_from,
        )
    if coupon.expires_at is not None and now >= coupon.expires_at:
        return RuleViolation(
            "this coupon has expired", code="coupon_expired", expires_at=coupon.expires_at
        )
    if coupon.redemptions_left == 0:
        return RuleViolation("this coupon has been used up", code="coupon_used_up")
    if coupon.member_id is not None and member_id != coupon.member_id:
        return RuleViolation(
            "this coupon was issued to another member", code="coupon_not_for_member"
        )
    if coupon.per_member_limit is not None:
        if member_id is None:
            return RuleViolation(
                "this coupon is limited per member: give member_id", code="member_required"
            )
        if member_redemptions >= coupon.per_member_limit:
            return RuleViolation(
                "this member has reached the coupon's limit",
                code="coupon_member_limit",
                limit=coupon.per_member_limit,
            )
    return None


def check_external_code(code: str, line: int | None = None) -> str:
    """An imported code, normalised: 4-64 letters, digits, '_' or '.'."""
    if not 4 <= len(code) <= 64 or not all(
        ch.isascii() and (ch.isalnum() or ch in "_.") for ch in code
    ):
        raise InvalidInput(
            "a code must be 4-64 characters: letters, digits, '_' or '.'", field="code", line=line
        )
    return code


@dataclass(frozen=True)
class CouponBatch:
    id: int
    program_id: int
    name: str
    source: str
    rules: BatchRules
    code_length: int
    campaign_id: str | None
    active: bool
    created_at: datetime
    created_by: str | None = None
