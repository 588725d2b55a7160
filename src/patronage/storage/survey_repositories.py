"""Reads and writes of surveys, invitations and responses. Nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from patronage.errors import NotFound
from patronage.storage.tables import (
    EventRow,
    SurveyInvitationRow,
    SurveyResponseRow,
    SurveyRow,
)


class SurveyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- definitions ---

    def add(self, **values: Any) -> SurveyRow:
        row = SurveyRow(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, survey_id: int) -> SurveyRow:
        row = self.session.get(SurveyRow, survey_id)
        if row is None:
            raise NotFound(f"no survey {survey_id}", survey_id=survey_id)
        return row

    def by_code(self, program_id: int, code: str) -> SurveyRow | None:
        return self.session.scalar(
            select(SurveyRow).where(SurveyRow.program_id == program_id, SurveyRow.code == code)
        )

    def all(self, program_id: int) -> list[SurveyRow]:
        query = select(SurveyRow).where(SurveyRow.program_id == program_id).order_by(SurveyRow.id)
        return list(self.session.scalars(query))

    def active_for_trigger(self, program_id: int, trigger: str) -> SurveyRow | None:
        return self.session.scalar(
            select(SurveyRow)
            .where(
                SurveyRow.program_id == program_id,
                SurveyRow.trigger == trigger,
                SurveyRow.active.is_(True),
            )
            .order_by(SurveyRow.id)
            .limit(1)
        )

    # --- invitations ---

    def last_invited_at(self, member_id: int) -> datetime | None:
        """When the member was last invited to any survey."""
        return self.session.scalar(
            select(func.max(SurveyInvitationRow.created_at)).where(
                SurveyInvitationRow.member_id == member_id
            )
        )

    def add_invitation(self, **values: Any) -> SurveyInvitationRow:
        row = SurveyInvitationRow(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def invitation(self, invitation_id: int) -> SurveyInvitationRow:
        row = self.session.get(SurveyInvitationRow, invitation_id)
        if row is None:
            raise NotFound("this survey link is not valid", field="token")
        return row

    def invitations(self, survey_id: int) -> list[SurveyInvitationRow]:
        query = select(SurveyInvitationRow).where(SurveyInvitationRow.survey_id == survey_id)
        return list(self.session.scalars(query.order_by(SurveyInvitationRow.id)))

    def mark_shown(self, invitation_id: int, at: datetime) -> None:
        self.session.execute(
            update(SurveyInvitationRow)
            .where(SurveyInvitationRow.id == invitation_id, SurveyInvitationRow.shown_at.is_(None))
            .values(shown_at=at)
        )

    def claim_invitation(self, invitation_id: int, at: datetime) -> bool:
        """Mark the invitation answered; False when it already was (one atomic statement)."""
        result = self.session.execute(
            update(SurveyInvitationRow)
            .where(
                SurveyInvitationRow.id == invitation_id,
                SurveyInvitationRow.responded_at.is_(None),
            )
            .values(responded_at=at)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def purchase_event(self, event_id: int) -> EventRow:
        row = self.session.get(EventRow, event_id)
        if row is None or row.type != "purchase":
            raise NotFound(f"no purchase event {event_id}", field="event_id")
        return row

    def purchase_by_order(self, program_id: int, order_id: str) -> EventRow | None:
        return self.session.scalar(
            select(EventRow)
            .where(
                EventRow.program_id == program_id,
                EventRow.type == "purchase",
                EventRow.order_id == order_id,
            )
            .limit(1)
        )

    def purchases_between(self, program_id: int, start: datetime, end: datetime) -> list[EventRow]:
        query = select(EventRow).where(
            EventRow.program_id == program_id,
            EventRow.type == "purchase",
            EventRow.occurred_at >= start,
            EventRow.occurred_at < end,
        )
        return list(self.session.scalars(query.order_by(EventRow.occurred_at, EventRow.id)))

    # --- responses ---

    def add_response(self, **values: Any) -> SurveyResponseRow:
        row = SurveyResponseRow(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def responses(
        self, survey_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> list[SurveyResponseRow]:
        query = select(SurveyResponseRow).where(SurveyResponseRow.survey_id == survey_id)
        if start is not None:
            query = query.where(SurveyResponseRow.submitted_at >= start)
        if end is not None:
            query = query.where(SurveyResponseRow.submitted_at < end)
        return list(self.session.scalars(query.order_by(SurveyResponseRow.id)))
