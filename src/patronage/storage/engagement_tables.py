"""Referrals and birthday rewards (issue 4): tables on the shared metadata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base, BigId


class ReferralCodeRow(Base):
    __tablename__ = "referral_codes"
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime]


class ReferralRow(Base):
    """One referee per referral; rewarded once, when the referee first buys enough."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    referee_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    rewarded_at: Mapped[datetime | None]
    order_id: Mapped[str | None] = mapped_column(String(128))


class BirthdayRewardRow(Base):
    """A member's birthday bonus for one year: the unique key makes it once a year."""

    __tablename__ = "birthday_rewards"
    __table_args__ = (UniqueConstraint("member_id", "year"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int]
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    awarded_at: Mapped[datetime]
