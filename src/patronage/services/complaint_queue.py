"""The complaint queue: open complaints, the most urgent first, with their SLA clocks.

Urgency is the due time of the clock that matters now: the first-response clock until
the customer has had an answer, then the resolution clock. A paused clock (the
complaint waits on the customer) has no due time and goes after the running ones.
Ties go to the more severe complaint, then the older one. A complaint's store is the
store of the order it is about (none without an order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patronage.domain.complaints import ComplaintClocks, Severity
from patronage.domain.sla import ClockState, SlaClock
from patronage.errors import InvalidInput
from patronage.services.complaint_sla import clocks_for
from patronage.services.sla_setup import business_hours
from patronage.storage.complaint_repositories import OPEN_STATUSES
from patronage.storage.tables import ComplaintRow
from patronage.storage.uow import UnitOfWork

QUEUE_LIMIT = 500
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(frozen=True)
class QueueEntry:
    id: int
    member_id: int
    member: str  # the member's external id (card number)
    subject: str
    category: str
    severity: str
    status: str
    assignee: str | None
    store: str | None
    filed_at: datetime
    clock: str  # the clock that matters now: first_response or resolution
    due: SlaClock
    first_response: SlaClock
    resolution: SlaClock

    @property
    def remaining_hours(self) -> float:
        """Business hours left on the clock that matters (negative when overdue)."""
        return business_hours(self.due.remaining)

    @property
    def overdue(self) -> bool:
        return self.due.state is ClockState.BREACHED


@dataclass(frozen=True)
class ComplaintQueue:
    entries: list[QueueEntry]
    stores: list[str]  # the stores of the open complaints, for the filter
    as_of: datetime
    truncated: bool  # more than QUEUE_LIMIT open complaints matched


def _check(status: str | None, severity: str | None) -> None:
    if status is not None and status not in OPEN_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(OPEN_STATUSES)}", field="status")
    if severity is not None and severity not in set(Severity):
        raise InvalidInput(f"severity must be one of {', '.join(Severity)}", field="severity")


def _urgency(entry: QueueEntry) -> tuple[bool, datetime | None, int, int]:
    due = entry.due.due_at
    return (due is None, due, SEVERITY_RANK.get(entry.severity, 9), entry.id)


def _entry(row: ComplaintRow, member: str, store: str | None, both: ComplaintClocks) -> QueueEntry:
    responded = row.first_response_at is not None
    return QueueEntry(
        id=row.id,
        member_id=row.member_id,
        member=member,
        subject=row.subject,
        category=row.category,
        severity=row.severity,
        status=row.status,
        assignee=row.assignee,
        store=store,
        filed_at=row.filed_at,
        clock="resolution" if responded else "first_response",
        due=both.resolution if responded else both.first_response,
        first_response=both.first_response,
        resolution=both.resolution,
    )


def complaint_queue(
    uow: UnitOfWork,
    status: str | None = None,
    store: str | None = None,
    severity: str | None = None,
    program: str = "default",
    limit: int = QUEUE_LIMIT,
) -> ComplaintQueue:
    """Open complaints (optionally of one status, store or severity), most urgent first."""
    _check(status, severity)
    with uow:
        program_id = uow.programs.get(program).id or 0
        now = uow.clock()
        statuses = [status] if status else list(OPEN_STATUSES)
        found = uow.complaints.open_queue(program_id, statuses, severity, limit + 1)
        truncated = len(found) > limit
        found = found[:limit]
        stores = sorted({s for _, _, s in found if s})
        chosen = [(row, member, s) for row, member, s in found if not store or s == store]
        clocks = clocks_for(uow, [row for row, _, _ in chosen], now)
        entries = [_entry(row, member, s, clocks[row.id]) for row, member, s in chosen]
    return ComplaintQueue(sorted(entries, key=_urgency), stores, now, truncated)
