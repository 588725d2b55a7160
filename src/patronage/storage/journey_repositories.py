"""Who a care journey may be due for: reads only. Nothing here commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import extract, func, or_, select, tuple_
from sqlalchemy.orm import Session

from patronage.domain.messages import Contact
from patronage.storage.tables import (
    ComplaintRow,
    EventRow,
    LotRow,
    MemberRow,
    SurveyResponseRow,
    SurveyRow,
)

_CONTACT_COLUMNS = (
    MemberRow.id,
    MemberRow.email,
    MemberRow.phone,
    MemberRow.consents,
    MemberRow.attributes,
    MemberRow.name,
    MemberRow.erased_at,
    MemberRow.birthday,
    MemberRow.joined_at,
)


def _contact(row: Any) -> Contact:
    return Contact(
        member_id=row.id,
        email=row.email,
        phone=row.phone,
        consents=dict(row.consents or {}),
        attributes=dict(row.attributes or {}),
        name=row.name,
        erased=row.erased_at is not None,
    )


class JourneyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def contact(self, member_id: int) -> Contact:
        row = self.session.execute(
            select(*_CONTACT_COLUMNS)
            .where(MemberRow.id == member_id)
            .execution_options(populate_existing=True)
        ).one()
        return _contact(row)

    def contacts(self, member_ids: Iterable[int]) -> dict[int, Contact]:
        ids = sorted(set(member_ids))
        rows = self.session.execute(select(*_CONTACT_COLUMNS).where(MemberRow.id.in_(ids)))
        return {r.id: _contact(r) for r in rows}

    def members_page(
        self, program_id: int, after_id: int, limit: int
    ) -> list[tuple[Contact, date | None, datetime]]:
        """Members not erased, by id: (contact, birthday, joined_at)."""
        rows = self.session.execute(
            select(*_CONTACT_COLUMNS)
            .where(
                MemberRow.program_id == program_id,
                MemberRow.id > after_id,
                MemberRow.erased_at.is_(None),
            )
            .order_by(MemberRow.id)
            .limit(limit)
        )
        return [(_contact(r), r.birthday, r.joined_at) for r in rows]

    def born_on(
        self, program_id: int, month_days: Sequence[tuple[int, int]]
    ) -> list[tuple[Contact, date]]:
        """Members whose birthday falls on one of these (month, day) pairs."""
        if not month_days:
            return []
        pair = tuple_(extract("month", MemberRow.birthday), extract("day", MemberRow.birthday))
        rows = self.session.execute(
            select(*_CONTACT_COLUMNS).where(
                MemberRow.program_id == program_id,
                MemberRow.erased_at.is_(None),
                MemberRow.birthday.is_not(None),
                or_(*(pair == (m, d) for m, d in month_days)),
            )
        )
        return [(_contact(r), r.birthday) for r in rows]

    def joined_since(self, program_id: int, since: datetime) -> list[tuple[Contact, datetime]]:
        rows = self.session.execute(
            select(*_CONTACT_COLUMNS).where(
                MemberRow.program_id == program_id,
                MemberRow.erased_at.is_(None),
                MemberRow.joined_at >= since,
            )
        )
        return [(_contact(r), r.joined_at) for r in rows]

    def buyers(self, member_ids: Iterable[int]) -> set[int]:
        """Which of these members have ever made a purchase."""
        ids = sorted(set(member_ids))
        if not ids:
            return set()
        return set(
            self.session.scalars(
                select(EventRow.member_id)
                .where(EventRow.member_id.in_(ids), EventRow.type == "purchase")
                .distinct()
            )
        )

    def lapsed_buyers(
        self, program_id: int, lapsed_from: datetime, lapsed_to: datetime
    ) -> list[tuple[int, datetime]]:
        """(member id, last purchase) for members whose last purchase lies in
        [lapsed_from, lapsed_to): they have just crossed the win-back threshold."""
        last = func.max(EventRow.occurred_at)
        rows = self.session.execute(
            select(EventRow.member_id, last)
            .where(EventRow.program_id == program_id, EventRow.type == "purchase")
            .group_by(EventRow.member_id)
            .having(last >= lapsed_from, last < lapsed_to)
        )
        return [(member_id, at) for member_id, at in rows]

    def nps_responses_since(
        self, program_id: int, since: datetime
    ) -> list[tuple[int, int, dict[str, Any], list[Any]]]:
        """(response id, member id, answers, survey questions) submitted since ``since``."""
        rows = self.session.execute(
            select(
                SurveyResponseRow.id,
                SurveyResponseRow.member_id,
                SurveyResponseRow.answers,
                SurveyRow.questions,
            )
            .join(SurveyRow, SurveyRow.id == SurveyResponseRow.survey_id)
            .where(SurveyRow.program_id == program_id, SurveyResponseRow.submitted_at >= since)
        )
        return [(i, m, dict(a or {}), list(q or [])) for i, m, a, q in rows]

    def open_complaints_filed_before(
        self, program_id: int, filed_before: datetime
    ) -> list[tuple[int, int, str]]:
        """(complaint id, member id, subject) of complaints still unresolved."""
        rows = self.session.execute(
            select(ComplaintRow.id, ComplaintRow.member_id, ComplaintRow.subject).where(
                ComplaintRow.program_id == program_id,
                ComplaintRow.filed_at <= filed_before,
                ComplaintRow.status.not_in(("resolved", "closed")),
            )
        )
        return [(i, m, s) for i, m, s in rows]

    def lots_expiring(
        self, program_id: int, now: datetime, until: datetime
    ) -> list[tuple[int, int, int, datetime]]:
        """(lot id, member id, points left, expiry) of spendable lots expiring in (now, until]."""
        rows = self.session.execute(
            select(LotRow.id, LotRow.member_id, LotRow.remaining, LotRow.expires_at).where(
                LotRow.program_id == program_id,
                LotRow.remaining > 0,
                LotRow.available_at <= now,
                LotRow.expires_at > now,
                LotRow.expires_at <= until,
            )
        )
        return [(i, m, r, e) for i, m, r, e in rows if e is not None]
