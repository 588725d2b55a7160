"""Request and response bodies for rewards, coupons, wallets and gift cards.

Money is always ``*_minor``: a JSON integer of minor units (fen, cents), never a float.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from patronage.domain.coupons import Discount

Money = Field(strict=True, ge=1, le=10**12, description="Minor units (e.g. fen), an integer.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DiscountIn(Strict):
    type: Literal["percent", "fixed", "free_item"]
    value: int | None = Field(
        default=None, strict=True, description="Percent 1-100, or minor units off."
    )
    sku: str | None = Field(default=None, max_length=128, description="The free item.")

    def to_domain(self) -> Discount:
        return Discount(self.type, self.value, self.sku)


class RewardIn(Strict):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    points: int = Field(strict=True, ge=1, le=10**12)
    discount: DiscountIn
    program: str = Field(default="default", max_length=64)
    category: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=2000)
    tier_prices: dict[str, int] = Field(default_factory=dict, max_length=50)
    stock: int | None = Field(default=None, ge=0, le=10**9, description="null: unlimited")
    per_member_limit: int | None = Field(default=None, ge=1, le=10**6)
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    visible_tiers: list[str] | None = Field(default=None, max_length=50)
    visible_segment: str | None = Field(default=None, max_length=64)
    coupon_valid_days: int | None = Field(default=30, ge=1, le=3660)


class RewardChangeIn(Strict):
    active: bool | None = None
    add_stock: int | None = Field(default=None, ge=1, le=10**9)
    valid_to: AwareDatetime | None = None
    reason: str | None = Field(default=None, max_length=500)


class RewardOut(BaseModel):
    id: int
    code: str
    name: str
    category: str | None
    description: str | None
    points: int
    price: int = Field(description="The calling member's price (their tier's, if set).")
    tier_prices: dict[str, int]
    discount: dict[str, Any]
    stock: int | None
    per_member_limit: int | None
    valid_from: datetime | None
    valid_to: datetime | None
    visible_tiers: list[str] | None
    visible_segment: str | None
    coupon_valid_days: int | None
    active: bool
    on_offer: bool


class RewardRedemptionOut(BaseModel):
    id: int
    reward_id: int
    member_id: int
    points: int
    entry_id: int
    coupon_code: str
    coupon_expires_at: datetime | None
    balance: int
    available: int
    redeemed_at: datetime


class BatchIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    discount: DiscountIn
    program: str = Field(default="default", max_length=64)
    count: int = Field(default=0, ge=0, le=100_000, description="Codes to generate now.")
    max_redemptions: int = Field(default=1, ge=1, le=10**9, description="1: single use.")
    per_member_limit: int | None = Field(default=None, ge=1, le=10**9)
    valid_from: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    campaign_id: str | None = Field(default=None, min_length=1, max_length=64)
    code_length: int = Field(default=10, ge=6, le=29)


class BatchOut(BaseModel):
    id: int
    program: str
    name: str
    source: str
    campaign_id: str | None
    discount: dict[str, Any]
    max_redemptions: int
    per_member_limit: int | None
    valid_from: datetime | None
    expires_at: datetime | None
    code_length: int
    active: bool
    codes: int
    created_at: datetime


class GenerateIn(Strict):
    count: int = Field(ge=1, le=100_000)


class ImportIn(Strict):
    codes: list[str] = Field(min_length=1, max_length=100_000)


class CodesAddedOut(BaseModel):
    batch_id: int
    added: int
    skipped: int


class CodeOut(BaseModel):
    id: int
    code: str
    redeemed_count: int


class CodePage(BaseModel):
    codes: list[CodeOut]
    next_after_id: int | None = Field(description="Pass as after_id for the next page.")


class CouponCheckOut(BaseModel):
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


class CouponRedeemIn(Strict):
    member_id: int | None = Field(default=None, ge=1, le=2**62)
    order_id: str | None = Field(default=None, min_length=1, max_length=128)
    amount_minor: int | None = Field(default=None, strict=True, ge=0, le=10**12)


class CouponRedemptionOut(BaseModel):
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
    reversed_at: datetime | None


class ReverseIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class CreditIn(Strict):
    amount_minor: int = Money
    kind: Literal["cashback", "top_up"] = "cashback"
    reason: str | None = Field(default=None, max_length=500)
    order_id: str | None = Field(default=None, min_length=1, max_length=128)


class SpendIn(Strict):
    amount_minor: int = Money
    order_id: str = Field(min_length=1, max_length=128)


class RefundIn(Strict):
    amount_minor: int = Money
    spend_id: int | None = Field(default=None, ge=1, le=2**62)
    order_id: str | None = Field(default=None, min_length=1, max_length=128)


class MoveOut(BaseModel):
    entry_id: int
    account_id: int
    kind: str
    amount_minor: int
    balance_minor: int
    currency: str
    occurred_at: datetime
    order_id: str | None
    refund_of: int | None
    member_id: int | None
    code: str | None


class ValueEntryOut(BaseModel):
    id: int
    kind: str
    amount_minor: int
    balance_after: int
    occurred_at: datetime
    order_id: str | None
    refund_of: int | None
    reason: str | None
    actor: str | None


class WalletOut(BaseModel):
    member_id: int
    currency: str
    balance_minor: int
    entries: list[ValueEntryOut]


class GiftCardIn(Strict):
    amount_minor: int = Money
    expires_at: AwareDatetime | None = None
    program: str = Field(default="default", max_length=64)


class GiftCardOut(BaseModel):
    code: str
    currency: str
    balance_minor: int
    expires_at: datetime | None
    expired: bool
    entries: list[ValueEntryOut]
