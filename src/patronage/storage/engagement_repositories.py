"""Reads and writes for referrals and birthday rewards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, extract, func, select, update
from sqlalchemy.orm import Session

from patronage.storage.engagement_tables import BirthdayRewardRow, ReferralCodeRow, ReferralRow
from patronage.storage.tables import MemberRow, OrderRow


class EngagementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def referral_code(self, member_id: int) -> str | None:
        return self.session.scalar(
            select(ReferralCodeRow.code).where(ReferralCodeRow.member_id == member_id)
        )

    def add_referral_code(self, member_id: int, code: str, at: datetime) -> None:
        self.session.add(ReferralCodeRow(member_id=member_id, code=code, created_at=at))
        self.session.flush()

    def member_with_code(self, code: str) -> int | None:
        return self.session.scalar(
            select(ReferralCodeRow.member_id).where(ReferralCodeRow.code == code)
        )

    def referral_of(self, referee_id: int) -> ReferralRow | None:
        return self.session.scalar(select(ReferralRow).where(ReferralRow.referee_id == referee_id))

    def referrals_by(self, referrer_id: int) -> int:
        return int(
            self.session.scalar(select(func.count()).where(ReferralRow.referrer_id == referrer_id))
            or 0
        )

    def add_referral(self, program_id: int, referrer_id: int, referee_id: int, at: datetime) -> int:
        row = ReferralRow(
            program_id=program_id,
            referrer_id=referrer_id,
            referee_id=referee_id,
            status="pending",
            created_at=at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def due_referrals(
        self, program_id: int, min_amount_minor: int, limit: int
    ) -> list[ReferralRow]:
        """Pending referrals whose referee has a purchase of at least the minimum."""
        qualifying = exists().where(
            and_(
                OrderRow.member_id == ReferralRow.referee_id,
                OrderRow.amount_minor >= min_amount_minor,
            )
        )
        return list(
            self.session.scalars(
                select(ReferralRow)
                .where(
                    ReferralRow.program_id == program_id,
                    ReferralRow.status == "pending",
                    qualifying,
                )
                .order_by(ReferralRow.id)
                .limit(limit)
            )
        )

    def first_qualifying_order(self, referee_id: int, min_amount_minor: int) -> str | None:
        return self.session.scalar(
            select(OrderRow.order_id)
            .where(OrderRow.member_id == referee_id, OrderRow.amount_minor >= min_amount_minor)
            .order_by(OrderRow.occurred_at, OrderRow.id)
            .limit(1)
        )

    def mark_rewarded(self, referral_id: int, at: datetime, order_id: str | None) -> bool:
        """Pending -> rewarded in one conditional statement; False if already done."""
        result = self.session.execute(
            update(ReferralRow)
            .where(ReferralRow.id == referral_id, ReferralRow.status == "pending")
            .values(status="rewarded", rewarded_at=at, order_id=order_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def birthday_members(
        self, program_id: int, month: int, day: int | None, year: int
    ) -> list[int]:
        """Members born in ``month`` (and on ``day``) without this year's reward yet."""
        query = select(MemberRow.id).where(
            MemberRow.program_id == program_id,
            MemberRow.erased_at.is_(None),
            MemberRow.birthday.is_not(None),
            extract("month", MemberRow.birthday) == month,
            ~exists().where(
                and_(BirthdayRewardRow.member_id == MemberRow.id, BirthdayRewardRow.year == year)
            ),
        )
        if day is not None:
            query = query.where(extract("day", MemberRow.birthday) == day)
        return list(self.session.scalars(query.order_by(MemberRow.id)))

    def record_birthday(self, member_id: int, year: int, entry_id: int, at: datetime) -> None:
        self.session.add(
            BirthdayRewardRow(member_id=member_id, year=year, entry_id=entry_id, awarded_at=at)
        )
        self.session.flush()

    def has_birthday_reward(self, member_id: int, year: int) -> bool:
        return (
            self.session.scalar(
                select(BirthdayRewardRow.id).where(
                    BirthdayRewardRow.member_id == member_id, BirthdayRewardRow.year == year
                )
            )
            is not None
        )
