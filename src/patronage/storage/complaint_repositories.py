"""Reads and writes of complaints, their history, notes, escalations, recovery
actions, and the SLA calendars and policies. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patronage.domain.sla import BusinessCalendar, SlaPolicy, SlaTargets, WorkingHours
from patronage.errors import NotFound
from patronage.storage.tables import (
    BusinessCalendarRow,
    ComplaintEscalationRow,
    ComplaintNoteRow,
    ComplaintRow,
    ComplaintStatusRow,
    EventRow,
    MemberRow,
    OrderRow,
    RecoveryActionRow,
    SlaPolicyRow,
    SlaTargetRow,
)

OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_on_customer")


def calendar_of(row: BusinessCalendarRow) -> BusinessCalendar:
    weekly = {
        int(day): tuple(
            WorkingHours(time.fromisoformat(a), time.fromisoformat(b)) for a, b in intervals
        )
        for day, intervals in row.weekly_hours.items()
    }
    holidays = frozenset(date.fromisoformat(d) for d in row.holidays)
    return BusinessCalendar(ZoneInfo(row.timezone), weekly, holidays)


class ComplaintRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- calendars and policies ---

    def calendar_row(self, code: str) -> BusinessCalendarRow | None:
        return self.session.scalar(
            select(BusinessCalendarRow).where(BusinessCalendarRow.code == code)
        )

    def policy_row(self, code: str) -> SlaPolicyRow | None:
        return self.session.scalar(select(SlaPolicyRow).where(SlaPolicyRow.code == code))

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def policy(self, policy_id: int) -> SlaPolicy:
        row = self.session.get(SlaPolicyRow, policy_id)
        if row is None:
            raise NotFound(f"no SLA policy {policy_id}", policy_id=policy_id)
        calendar = self.session.get(BusinessCalendarRow, row.calendar_id)
        assert calendar is not None
        targets = self.session.scalars(
            select(SlaTargetRow).where(SlaTargetRow.policy_id == policy_id)
        )
        return SlaPolicy(
            calendar=calendar_of(calendar),
            targets={
                (t.category, t.severity): SlaTargets(
                    timedelta(minutes=t.first_response_minutes),
                    timedelta(minutes=t.resolution_minutes),
                )
                for t in targets
            },
            at_risk_share=float(row.at_risk_share),
        )

    def target_row(self, policy_id: int, category: str, severity: str) -> SlaTargetRow | None:
        return self.session.scalar(
            select(SlaTargetRow).where(
                SlaTargetRow.policy_id == policy_id,
                SlaTargetRow.category == category,
                SlaTargetRow.severity == severity,
            )
        )

    def targets(self, policy_id: int) -> list[SlaTargetRow]:
        query = select(SlaTargetRow).where(SlaTargetRow.policy_id == policy_id)
        return list(self.session.scalars(query.order_by(SlaTargetRow.id)))

    # --- complaints ---

    def get(self, complaint_id: int, lock: bool = False) -> ComplaintRow:
        query = select(ComplaintRow).where(ComplaintRow.id == complaint_id)
        if lock and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.session.scalar(query)
        if row is None:
            raise NotFound(f"no complaint {complaint_id}", complaint_id=complaint_id)
        return row

    def order(self, program_id: int, order_id: str) -> OrderRow | None:
        return self.session.scalar(
            select(OrderRow).where(OrderRow.program_id == program_id, OrderRow.order_id == order_id)
        )

    def event(self, event_id: int) -> EventRow | None:
        return self.session.get(EventRow, event_id)

    def history(self, complaint_id: int) -> list[ComplaintStatusRow]:
        query = select(ComplaintStatusRow).where(ComplaintStatusRow.complaint_id == complaint_id)
        return list(self.session.scalars(query.order_by(ComplaintStatusRow.id)))

    def histories(self, complaint_ids: Sequence[int]) -> dict[int, list[ComplaintStatusRow]]:
        result: dict[int, list[ComplaintStatusRow]] = {i: [] for i in complaint_ids}
        for chunk in _chunks(complaint_ids):
            query = select(ComplaintStatusRow).where(ComplaintStatusRow.complaint_id.in_(chunk))
            for row in self.session.scalars(query.order_by(ComplaintStatusRow.id)):
                result[row.complaint_id].append(row)
        return result

    def notes(self, complaint_id: int) -> list[ComplaintNoteRow]:
        query = select(ComplaintNoteRow).where(ComplaintNoteRow.complaint_id == complaint_id)
        return list(self.session.scalars(query.order_by(ComplaintNoteRow.id)))

    def open_complaints(self, limit: int = 10_000) -> list[ComplaintRow]:
        query = select(ComplaintRow).where(ComplaintRow.status.in_(OPEN_STATUSES))
        return list(self.session.scalars(query.order_by(ComplaintRow.id).limit(limit)))

    def open_queue(
        self, program_id: int, statuses: Sequence[str], severity: str | None, limit: int
    ) -> list[tuple[ComplaintRow, str, str | None]]:
        """Open complaints with the member's external id and the store of the order
        complained about (None without an order)."""
        query = (
            select(ComplaintRow, MemberRow.external_id, EventRow.store)
            .join(MemberRow, MemberRow.id == ComplaintRow.member_id)
            .outerjoin(
                OrderRow,
                (OrderRow.program_id == ComplaintRow.program_id)
                & (OrderRow.order_id == ComplaintRow.order_id),
            )
            .outerjoin(EventRow, EventRow.id == OrderRow.event_id)
            .where(ComplaintRow.program_id == program_id, ComplaintRow.status.in_(statuses))
        )
        if severity is not None:
            query = query.where(ComplaintRow.severity == severity)
        rows = self.session.execute(query.order_by(ComplaintRow.id).limit(limit))
        return [(row, external_id, store) for row, external_id, store in rows]

    def filed_between(self, program_id: int, start: datetime, end: datetime) -> list[ComplaintRow]:
        query = select(ComplaintRow).where(
            ComplaintRow.program_id == program_id,
            ComplaintRow.filed_at >= start,
            ComplaintRow.filed_at < end,
        )
        return list(self.session.scalars(query.order_by(ComplaintRow.id)))

    def complainant_ids(self, program_id: int) -> set[int]:
        query = select(ComplaintRow.member_id).where(ComplaintRow.program_id == program_id)
        return set(self.session.scalars(query.distinct()))

    def orders_between(self, program_id: int, start: datetime, end: datetime) -> int:
        return int(
            self.session.scalar(
                select(func.count(OrderRow.id)).where(
                    OrderRow.program_id == program_id,
                    OrderRow.occurred_at >= start,
                    OrderRow.occurred_at < end,
                )
            )
            or 0
        )

    # --- escalations ---

    def escalations(self, complaint_id: int) -> list[ComplaintEscalationRow]:
        query = select(ComplaintEscalationRow).where(
            ComplaintEscalationRow.complaint_id == complaint_id
        )
        return list(self.session.scalars(query.order_by(ComplaintEscalationRow.id)))

    def escalated(self, complaint_id: int, clock: str, state: str) -> bool:
        query = select(ComplaintEscalationRow.id).where(
            ComplaintEscalationRow.complaint_id == complaint_id,
            ComplaintEscalationRow.clock == clock,
            ComplaintEscalationRow.state == state,
        )
        return self.session.scalar(query) is not None

    # --- recovery ---

    def recovery(self, recovery_id: int, lock: bool = False) -> RecoveryActionRow:
        query = select(RecoveryActionRow).where(RecoveryActionRow.id == recovery_id)
        if lock and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.session.scalar(query)
        if row is None:
            raise NotFound(f"no recovery action {recovery_id}", recovery_id=recovery_id)
        return row

    def recoveries(self, complaint_id: int) -> list[RecoveryActionRow]:
        query = select(RecoveryActionRow).where(RecoveryActionRow.complaint_id == complaint_id)
        return list(self.session.scalars(query.order_by(RecoveryActionRow.id)))

    def recovered_complaint_ids(self, complaint_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for chunk in _chunks(complaint_ids):
            query = select(RecoveryActionRow.complaint_id).where(
                RecoveryActionRow.complaint_id.in_(chunk), RecoveryActionRow.status == "applied"
            )
            found.update(self.session.scalars(query))
        return found

    # --- purchases and members, for the repurchase comparison ---

    def member_joins(self, program_id: int) -> dict[int, datetime]:
        query = select(MemberRow.id, MemberRow.joined_at).where(MemberRow.program_id == program_id)
        return {member_id: joined for member_id, joined in self.session.execute(query)}

    def purchases(
        self, program_id: int, start: datetime, end: datetime
    ) -> list[tuple[int, datetime, int]]:
        query = select(OrderRow.member_id, OrderRow.occurred_at, OrderRow.amount_minor).where(
            OrderRow.program_id == program_id,
            OrderRow.occurred_at >= start,
            OrderRow.occurred_at < end,
        )
        return [(m, t, a) for m, t, a in self.session.execute(query)]


def _chunks(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
