"""The database schema: SQLAlchemy 2 typed rows. Migrations live in migrations/."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), Decimal: Numeric(12, 4)}


metadata = Base.metadata
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ConfigStateRow(Base):
    """One row whose random ``token`` changes with every write to reference data
    (programs, tiers, rules, campaigns, API keys, subscribers, paid plans); see
    storage/reference.py."""

    __tablename__ = "config_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


class ProgramRow(Base):
    __tablename__ = "programs"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="points")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    earn_rate: Mapped[Decimal] = mapped_column(default=Decimal(1))
    expiry_policy: Mapped[str] = mapped_column(String(16), default="days")
    expiry_days: Mapped[int] = mapped_column(default=365)
    pending_days: Mapped[int] = mapped_column(default=0)
    tier_metric: Mapped[str] = mapped_column(String(16), default="points")
    tier_window: Mapped[str] = mapped_column(String(16), default="rolling")
    tier_window_days: Mapped[int] = mapped_column(default=365)
    tier_review_month: Mapped[int] = mapped_column(default=1)
    tier_review_day: Mapped[int] = mapped_column(default=1)
    tier_grace_days: Mapped[int] = mapped_column(default=30)
    point_value_minor: Mapped[Decimal] = mapped_column(default=Decimal("0.01"))
    created_at: Mapped[datetime]


class TierRow(Base):
    __tablename__ = "tiers"
    __table_args__ = (
        UniqueConstraint("program_id", "code"),
        UniqueConstraint("program_id", "rank"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int]
    threshold: Mapped[int] = mapped_column(BigInteger)
    multiplier: Mapped[Decimal] = mapped_column(default=Decimal(1))


class MemberRow(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("program_id", "external_id"),
        Index("ix_members_phone", "phone"),
        Index("ix_members_email", "email"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    birthday: Mapped[date | None] = mapped_column(Date)
    joined_at: Mapped[datetime]
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    tier_since: Mapped[datetime | None]
    tier_override_until: Mapped[datetime | None]
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]


class ConsentRow(Base):
    """Every consent given or withdrawn, per channel: the history behind members.consents."""

    __tablename__ = "consent_history"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool]
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(128))


class TierHistoryRow(Base):
    __tablename__ = "tier_history"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(128))


class EventRow(Base):
    """Everything a member did that the program heard about: purchases, refunds, custom."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("program_id", "source_id"),
        Index("ix_events_member_time", "member_id", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    type: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(300))
    order_id: Mapped[str | None] = mapped_column(String(128))
    original_order_id: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    store: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(64))
    staff_id: Mapped[str | None] = mapped_column(String(128))
    items: Mapped[list[Any] | None] = mapped_column(JSON)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OrderRow(Base):
    """A purchase and what it earned, so refunds can claw back in proportion."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("program_id", "order_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    points_earned: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    occurred_at: Mapped[datetime]


class LedgerEntryRow(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_member_id", "member_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    order_id: Mapped[str | None] = mapped_column(String(128))
    counterparty_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LotRow(Base):
    """Points earned together, spent and expired together. ``remaining`` is a cache
    of the sum of the lot's allocations that `patronage check` verifies."""

    __tablename__ = "lots"
    __table_args__ = (Index("ix_lots_member_expiry", "member_id", "expires_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime]
    available_at: Mapped[datetime]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    order_id: Mapped[str | None] = mapped_column(String(128))
    origin_lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))


class AllocationRow(Base):
    """How many points an entry put into (+) or took from (-) one lot."""

    __tablename__ = "allocations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)


class IdempotencyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class JobRunRow(Base):
    """When a periodic job last ran to, so repeated or overlapping runs do nothing twice."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    as_of: Mapped[datetime]
    finished_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --- Voice of the customer: surveys (issue 5) ---------------------------------------


class SurveyRow(Base):
    """A survey definition: bilingual questions (NPS, CSAT, SERVQUAL, open text)."""

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("program_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[dict[str, Any]]
    questions: Mapped[list[Any]] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(32), default="manual")
    recontact_days: Mapped[int] = mapped_column(default=30)
    link_days: Mapped[int] = mapped_column(default=30)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class SurveyInvitationRow(Base):
    """One member asked to answer one survey; the signed link points here."""

    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_member_created", "member_id", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    trigger: Mapped[str] = mapped_column(String(32))
    send_channel: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    channel: Mapped[str | None] = mapped_column(String(64))
    store: Mapped[str | None] = mapped_column(String(128))
    staff_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    shown_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]


class SurveyResponseRow(Base):
    """Answers given; an invitation is answered at most once (unique invitation_id)."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_survey_time", "survey_id", "submitted_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitations.id"), unique=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    answers: Mapped[dict[str, Any]]
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    channel: Mapped[str | None] = mapped_column(String(64))
    store: Mapped[str | None] = mapped_column(String(128))
    staff_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(128))
    submitted_at: Mapped[datetime]


# --- Customer care: complaints and SLAs (issue 5) -----------------------------------


class BusinessCalendarRow(Base):
    """Working hours per weekday ({"0": [["09:00", "18:00"]], ...}) and holidays."""

    __tablename__ = "business_calendars"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly_hours: Mapped[dict[str, Any]]
    holidays: Mapped[list[Any]] = mapped_column(JSON, default=list)


class SlaPolicyRow(Base):
    __tablename__ = "sla_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    at_risk_share: Mapped[Decimal] = mapped_column(default=Decimal("0.2"))


class SlaTargetRow(Base):
    """Business minutes to first response and to resolution; category "*" = any."""

    __tablename__ = "sla_targets"
    __table_args__ = (UniqueConstraint("policy_id", "category", "severity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    first_response_minutes: Mapped[int]
    resolution_minutes: Mapped[int]


class ComplaintRow(Base):
    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_status_filed", "status", "filed_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    filed_at: Mapped[datetime]
    filed_by: Mapped[str] = mapped_column(String(128))
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class ComplaintStatusRow(Base):
    """Every status change of a complaint, with who made it and when."""

    __tablename__ = "complaint_status_history"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))


class ComplaintNoteRow(Base):
    """Internal notes, and responses given to the customer (kind "response")."""

    __tablename__ = "complaint_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


class ComplaintEscalationRow(Base):
    """A clock found at risk or breached; recorded once per complaint, clock and state."""

    __tablename__ = "complaint_escalations"
    __table_args__ = (UniqueConstraint("complaint_id", "clock", "state"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    clock: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    at: Mapped[datetime]


class RecoveryActionRow(Base):
    """Service recovery: apology points (through the ledger) or a coupon reference."""

    __tablename__ = "recovery_actions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_ref: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None]
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))


# Rewards, coupons and stored value ---------------------------------------------


class CouponBatchRow(Base):
    """Codes that share a discount and rules; ``campaign_id`` is the campaign's id, if any."""

    __tablename__ = "coupon_batches"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    discount_type: Mapped[str] = mapped_column(String(16))
    discount_value: Mapped[int | None] = mapped_column(BigInteger)
    discount_sku: Mapped[str | None] = mapped_column(String(128))
    max_redemptions: Mapped[int] = mapped_column(default=1)
    per_member_limit: Mapped[int | None]
    code_length: Mapped[int] = mapped_column(default=10)
    valid_from: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(128))


class CouponRow(Base):
    """One code. ``redeemed_count`` only changes by a conditional UPDATE."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("redeemed_count >= 0 AND redeemed_count <= max_redemptions", name="uses"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("coupon_batches.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    max_redemptions: Mapped[int] = mapped_column(default=1)
    redeemed_count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class CouponRedemptionRow(Base):
    __tablename__ = "coupon_redemptions"
    __table_args__ = (Index("ix_coupon_redemptions_batch_member", "batch_id", "member_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("coupon_batches.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    order_id: Mapped[str | None] = mapped_column(String(128))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    discount_minor: Mapped[int | None] = mapped_column(BigInteger)
    redeemed_at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(128))
    reversed_at: Mapped[datetime | None]
    reversed_by: Mapped[str | None] = mapped_column(String(128))
    reverse_reason: Mapped[str | None] = mapped_column(String(500))


class RewardRow(Base):
    __tablename__ = "rewards"
    __table_args__ = (
        UniqueConstraint("program_id", "code"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    tier_prices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stock: Mapped[int | None]
    per_member_limit: Mapped[int | None]
    valid_from: Mapped[datetime | None]
    valid_to: Mapped[datetime | None]
    visible_tiers: Mapped[list[Any] | None] = mapped_column(JSON)
    visible_segment: Mapped[str | None] = mapped_column(String(64))
    coupon_valid_days: Mapped[int | None]
    batch_id: Mapped[int] = mapped_column(ForeignKey("coupon_batches.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class RewardRedemptionRow(Base):
    __tablename__ = "reward_redemptions"
    __table_args__ = (Index("ix_reward_redemptions_reward_member", "reward_id", "member_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"))
    redeemed_at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(128))


class ValueAccountRow(Base):
    """A member's wallet or a gift card. ``balance_minor`` is a cache of the entries'
    sum, changed only by single conditional UPDATEs."""

    __tablename__ = "value_accounts"
    __table_args__ = (CheckConstraint("balance_minor >= 0", name="balance"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    kind: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), unique=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ValueEntryRow(Base):
    """Append-only: credits (+), spends (-), refunds of spends (+)."""

    __tablename__ = "value_entries"
    __table_args__ = (Index("ix_value_entries_account_id", "account_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("value_accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    order_id: Mapped[str | None] = mapped_column(String(128))
    refund_of: Mapped[int | None] = mapped_column(ForeignKey("value_entries.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(128))


# Earning rules, staff training and personalisation have modules of their own, on the
# same metadata.
from patronage.storage import analytics_result_tables as _analytics_result_tables  # noqa: E402, F401
from patronage.storage import background_job_tables as _background_job_tables  # noqa: E402, F401
from patronage.storage import engagement_tables as _engagement_tables  # noqa: E402, F401
from patronage.storage import personalisation_tables as _personalisation_tables  # noqa: E402, F401
from patronage.storage import rules_tables as _rules_tables  # noqa: E402, F401
from patronage.storage import segment_tables as _segment_tables  # noqa: E402, F401
from patronage.storage import training_reminder_tables as _training_reminder_tables  # noqa: E402, F401
from patronage.storage import training_tables as _training_tables  # noqa: E402, F401


class StaffUserRow(Base):
    """A person who signs in to the web app; the password is stored only as a hash."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class SignInAttemptRow(Base):
    """Every sign-in attempt (staff by username, members as 'member:ID'), for lock-out."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_who_at", "who", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    who: Mapped[str] = mapped_column(String(140))
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class PortalCodeRow(Base):
    """A one-time code a member signs in to the portal with; only its hash is kept."""

    __tablename__ = "portal_codes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


# Care journeys, messages and webhooks (issues 4 and 5) -------------------------------


class WebhookSubscriberRow(Base):
    """A system that receives signed events; ``events`` lists the types it wants."""

    __tablename__ = "webhook_subscribers"
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class OutboxRow(Base):
    """A message to deliver, written in the transaction of the change that causes it.
    One row per member, journey, step and occurrence (journey steps are sent once)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("member_id", "journey", "step", "occurrence"),
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_member_sent", "member_id", "sent_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(1000))
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    journey: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(64))
    occurrence: Mapped[str | None] = mapped_column(String(64))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscribers.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claim_id: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None]
    attempt_id: Mapped[str | None] = mapped_column(String(36))
    sending_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
