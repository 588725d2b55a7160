"""Tables of personalisation and paid membership (issue 9), on the shared metadata.

A trained recommendation model is three tables: the model (when and on what it was
trained), its items (popularity, repeat-purchase flag, stores and stock) and each
item's nearest neighbours. Models are never changed after training, so servers may
cache them by id. Paid membership is a plan, one membership row per member (the
current one), and every payment attempt, refund and monthly coupon grant.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base, BigId


class RecommendationModelRow(Base):
    __tablename__ = "recommendation_models"
    __table_args__ = (
        Index("ix_recommendation_models_program_trained", "program_id", "trained_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    kind: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime]
    trained_at: Mapped[datetime]
    members: Mapped[int]
    items: Mapped[int]
    interactions: Mapped[int]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RecommendationItemRow(Base):
    __tablename__ = "recommendation_items"
    __table_args__ = (UniqueConstraint("model_id", "sku"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("recommendation_models.id"))
    sku: Mapped[str] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(128))
    buyers: Mapped[int]
    repeat: Mapped[bool]
    popularity: Mapped[float] = mapped_column(Float)
    stores: Mapped[list[Any]] = mapped_column(JSON)
    in_stock: Mapped[bool | None]


class RecommendationNeighbourRow(Base):
    __tablename__ = "recommendation_neighbours"
    __table_args__ = (Index("ix_recommendation_neighbours_model_sku", "model_id", "sku"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("recommendation_models.id"))
    sku: Mapped[str] = mapped_column(String(128))
    neighbour: Mapped[str] = mapped_column(String(128))
    similarity: Mapped[float] = mapped_column(Float)


class MembershipPlanRow(Base):
    __tablename__ = "membership_plans"
    __table_args__ = (UniqueConstraint("program_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(16))
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    earn_multiplier: Mapped[Decimal]
    free_delivery: Mapped[bool] = mapped_column(default=False)
    member_prices: Mapped[bool] = mapped_column(default=False)
    coupon_batch_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_batches.id"))
    coupons_per_month: Mapped[int] = mapped_column(default=0)
    grace_days: Mapped[int] = mapped_column(default=7)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class MembershipRow(Base):
    """A member's paid membership; renewals lock this row (SELECT ... FOR UPDATE)."""

    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("membership_plans.id"))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    period_start: Mapped[datetime]
    period_end: Mapped[datetime] = mapped_column(index=True)
    grace_until: Mapped[datetime | None]
    fee_paid_minor: Mapped[int] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None]
    refund_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class MembershipPaymentRow(Base):
    """Every sign-up charge, renewal attempt (succeeded or failed) and refund."""

    __tablename__ = "membership_payments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("membership_plans.id"))
    kind: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    reference: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(128))


class MembershipCouponGrantRow(Base):
    """The monthly coupons a membership received, at most once per month."""

    __tablename__ = "membership_coupon_grants"
    __table_args__ = (UniqueConstraint("membership_id", "month"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    month: Mapped[str] = mapped_column(String(7))
    coupons: Mapped[int]
    granted_at: Mapped[datetime]
