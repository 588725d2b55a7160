"""Personal data: consent history, a member's full export, erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patronage.storage.segment_tables import SegmentMemberRow
from patronage.storage.tables import (
    AuditRow,
    ConsentRow,
    EventRow,
    LedgerEntryRow,
    LotRow,
    MemberRow,
    OrderRow,
    TierHistoryRow,
)


def _plain(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


class PrivacyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_consent(
        self, member_id: int, channel: str, granted: bool, at: datetime, source: str
    ) -> None:
        self.session.add(
            ConsentRow(member_id=member_id, channel=channel, granted=granted, at=at, source=source)
        )

    def consent_history(self, member_id: int) -> list[dict[str, Any]]:
        rows = self.session.scalars(
            select(ConsentRow).where(ConsentRow.member_id == member_id).order_by(ConsentRow.id)
        )
        return [_plain(r) for r in rows]

    def set_consents(self, member_id: int, consents: dict[str, bool]) -> None:
        self.session.execute(
            update(MemberRow).where(MemberRow.id == member_id).values(consents=consents)
        )

    def export(self, member_id: int) -> dict[str, Any]:
        """Everything stored about one member, as plain values."""

        def rows(table: Any, column: Any) -> list[dict[str, Any]]:
            return [
                _plain(r) for r in self.session.scalars(select(table).where(column == member_id))
            ]

        member = self.session.get(MemberRow, member_id)
        return {
            "member": _plain(member) if member else None,
            "consent_history": self.consent_history(member_id),
            "tier_history": rows(TierHistoryRow, TierHistoryRow.member_id),
            "events": rows(EventRow, EventRow.member_id),
            "orders": rows(OrderRow, OrderRow.member_id),
            "ledger": rows(LedgerEntryRow, LedgerEntryRow.member_id),
            "lots": rows(LotRow, LotRow.member_id),
            "segments": rows(SegmentMemberRow, SegmentMemberRow.member_id),
            "audit": [
                _plain(r)
                for r in self.session.scalars(
                    select(AuditRow).where(
                        AuditRow.target_type == "member", AuditRow.target_id == str(member_id)
                    )
                )
            ],
        }

    def erase(self, member_id: int, pseudonym: str, at: datetime) -> None:
        """Remove personal data; keep amounts, points and dates so totals stay whole."""
        self.session.execute(
            update(MemberRow)
            .where(MemberRow.id == member_id)
            .values(
                external_id=pseudonym,
                name=None,
                phone=None,
                email=None,
                birthday=None,
                attributes={},
                consents={},
                erased_at=at,
            )
        )
        self.session.execute(
            update(EventRow).where(EventRow.member_id == member_id).values(attributes={})
        )

    def inactive_members(self, program_id: int, before: datetime, limit: int) -> list[int]:
        """Members not yet erased whose last event (or joining) is before ``before``."""
        from sqlalchemy import func

        last = (
            select(EventRow.member_id, func.max(EventRow.occurred_at).label("last"))
            .group_by(EventRow.member_id)
            .subquery()
        )
        query = (
            select(MemberRow.id)
            .outerjoin(last, last.c.member_id == MemberRow.id)
            .where(
                MemberRow.program_id == program_id,
                MemberRow.erased_at.is_(None),
                func.coalesce(last.c.last, MemberRow.joined_at) < before,
            )
            .order_by(MemberRow.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))
