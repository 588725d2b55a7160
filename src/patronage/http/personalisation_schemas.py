"""Request and response bodies of personalisation and paid membership."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class RecommendedItemOut(BaseModel):
    sku: str
    score: float
    category: str | None
    reason: str


class RecommendationsOut(BaseModel):
    member_id: int
    model_id: int
    trained_at: datetime
    source: str = Field(description="model, model+popularity, or popularity (no history).")
    store: str | None
    items: list[RecommendedItemOut]


class OfferOut(BaseModel):
    member_id: int
    kind: str | None
    ref: str | None
    name: str | None
    expected_value_minor: int
    churn_risk: float
    value_segment: str
    reason: str


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    period: str = Field(description="monthly or annual")
    fee_minor: int = Field(ge=1, le=10**9)
    earn_multiplier: Decimal = Field(default=Decimal(1), ge=1, le=10, decimal_places=2)
    free_delivery: bool = False
    member_prices: bool = False
    coupon_batch_id: int | None = Field(default=None, ge=1, le=2**62)
    coupons_per_month: int = Field(default=0, ge=0, le=31)
    grace_days: int = Field(default=7, ge=0, le=60)


class PlanChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    fee_minor: int | None = Field(default=None, ge=1, le=10**9)
    earn_multiplier: Decimal | None = Field(default=None, ge=1, le=10, decimal_places=2)
    free_delivery: bool | None = None
    member_prices: bool | None = None
    grace_days: int | None = Field(default=None, ge=0, le=60)
    active: bool | None = None


class PlanOut(BaseModel):
    id: int
    code: str
    name: str
    period: str
    fee_minor: int
    earn_multiplier: str
    free_delivery: bool
    member_prices: bool
    coupon_batch_id: int | None
    coupons_per_month: int
    grace_days: int
    active: bool


class SignUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: str = Field(min_length=1, max_length=64)
    payment_reference: str | None = Field(default=None, max_length=128)


class RenewalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    succeeded: bool = Field(default=True, description="Did the payment for the renewal go through?")
    payment_reference: str | None = Field(default=None, max_length=128)


class CancellationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refund_to: str = Field(default="original", description="original (payment method) or wallet")


class MembershipOut(BaseModel):
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


class SpendReportOut(BaseModel):
    prior_days: int
    after_days: int
    paid_members: int
    pairs: int
    paid_after_mean_minor: float
    matched_after_mean_minor: float
    difference_minor: float
    bootstrap_ci_minor: list[float] | None = Field(description="[low, high], 95%.")
    t_ci_minor: list[float] | None = Field(description="[low, high], 95%.")
    paid_prior_mean_minor: float
    matched_prior_mean_minor: float
    raw_unpaid_after_mean_minor: float
