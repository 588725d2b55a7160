"""Saved customer segments (issue 3): tables on the shared metadata.

A segment is a snapshot: its members are the customers who matched its definition on
its ``as_of`` date. Refreshing replaces the whole snapshot in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base


class SegmentRow(Base):
    """One saved segment; ``source`` says how it was defined (``rfm`` or ``list``)."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("program_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    as_of: Mapped[date | None] = mapped_column(Date)
    member_count: Mapped[int] = mapped_column(default=0)
    revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    total_revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    refreshed_at: Mapped[datetime]


class SegmentMemberRow(Base):
    """A member of a segment's snapshot, with its RFM figures when the segment came from RFM."""

    __tablename__ = "segment_members"
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    rfm_segment: Mapped[str | None] = mapped_column(String(32))
    recency_days: Mapped[int | None]
    frequency: Mapped[int | None]
    monetary_minor: Mapped[int | None] = mapped_column(BigInteger)
    r_score: Mapped[int | None] = mapped_column(SmallInteger)
    f_score: Mapped[int | None] = mapped_column(SmallInteger)
    m_score: Mapped[int | None] = mapped_column(SmallInteger)
