"""Tables of earning rules and campaigns (imported by storage/tables.py, same metadata)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base, BigId


class CampaignRow(Base):
    """A group of rules with dates, a segment, a budget and caps. ``spent`` only grows,
    by a conditional UPDATE that never passes ``budget``."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("program_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    segment: Mapped[str | None] = mapped_column(Text)
    budget: Mapped[int | None] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(BigInteger, default=0)
    caps: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(default=0)
    stacking: Mapped[str] = mapped_column(String(16), default="stack")
    status: Mapped[str] = mapped_column(String(16), default="active")
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RuleRow(Base):
    """One version of a rule. Editing a rule adds a row; old versions stay, so an earn
    entry can always say which version produced its points."""

    __tablename__ = "rules"
    __table_args__ = (
        UniqueConstraint("program_id", "code", "version"),
        Index("ix_rules_program_current", "program_id", "is_current"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    is_current: Mapped[bool] = mapped_column(default=True)
    name: Mapped[str] = mapped_column(String(200))
    on_event: Mapped[str] = mapped_column(String(64), default="purchase")
    condition: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    item_filter: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    priority: Mapped[int] = mapped_column(default=0)
    limit_count: Mapped[int | None]
    limit_per: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(128))
    cap_minor: Mapped[int | None] = mapped_column(BigInteger)  # cashback cap per event


class RuleAwardRow(Base):
    """Points (or cashback, in minor units) one rule version gave one member for one
    event: what caps, frequency limits, reports and cashback claw-backs count."""

    __tablename__ = "rule_awards"
    __table_args__ = (
        Index("ix_rule_awards_member_campaign", "member_id", "campaign_id", "occurred_at"),
        Index("ix_rule_awards_member_rule", "member_id", "rule_code", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id"))
    rule_code: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cashback_minor: Mapped[int] = mapped_column(BigInteger, default=0)
