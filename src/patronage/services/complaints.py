"""Complaints (投诉): file, assign, respond, wait, resolve, reopen, notes.

Every status change is kept with who made it and when; the SLA clocks are
computed from that history by ``domain.complaints`` (paused while waiting on
the customer). Resolving a complaint invites the member to a satisfaction
(CSAT) survey, within the member's consent and re-contact limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from patronage.domain.complaints import (
    ComplaintClocks,
    ComplaintStatus,
    Severity,
    StatusChange,
    complaint_clocks,
    transition,
)
from patronage.domain.sla import SlaClock
from patronage.errors import InvalidInput, NotFound, RuleViolation
from patronage.services.idempotency import run_once
from patronage.services.sla_setup import business_hours, ensure_default_policy
from patronage.services.surveys import (
    InviteOutcome,
    SurveyContext,
    ensure_complaint_survey,
    invite_in,
    preferred_channel,
)
from patronage.storage.tables import ComplaintNoteRow, ComplaintRow, ComplaintStatusRow
from patronage.storage.uow import UnitOfWork

S = ComplaintStatus
TEXT_MAX = 4000


@dataclass(frozen=True)
class NewComplaint:
    member_id: int
    category: str
    severity: str
    subject: str
    channel: str
    description: str | None = None
    order_id: str | None = None
    assignee: str | None = None


def _text(value: str | None, field: str, limit: int, required: bool = True) -> None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)


def check_new(request: NewComplaint) -> None:
    if request.severity not in set(Severity):
        raise InvalidInput(f"severity must be one of {', '.join(Severity)}", field="severity")
    _text(request.category, "category", 64)
    _text(request.channel, "channel", 64)
    _text(request.subject, "subject", 200)
    _text(request.description, "description", TEXT_MAX, required=False)
    _text(request.assignee, "assignee", 128, required=False)
    _text(request.order_id, "order_id", 128, required=False)


def file_complaint(
    uow: UnitOfWork, request: NewComplaint, actor: str, idempotency_key: str | None = None
) -> dict[str, Any]:
    """Record a complaint; with an assignee it is assigned at once. Sent again with the
    same ``idempotency_key`` and request, it files nothing and returns the first result
    (another request under the same key is a conflict)."""
    check_new(request)
    payload = {**asdict(request), "actor": actor}
    return run_once(
        uow,
        "complaints",
        idempotency_key,
        payload,
        lambda u: _file(u, request, actor),
        lambda stored: stored,
    )


def _file(uow: UnitOfWork, request: NewComplaint, actor: str) -> dict[str, Any]:
    """File inside an open unit of work (the caller commits)."""
    member = uow.members.get(request.member_id)
    if request.order_id is not None:
        order = uow.complaints.order(member.program_id, request.order_id)
        if order is None:
            raise NotFound(f"no order {request.order_id!r}", field="order_id")
        if order.member_id != member.id:
            raise InvalidInput(
                f"order {request.order_id!r} is not member {member.id}'s", field="order_id"
            )
    policy = ensure_default_policy(uow)
    row = uow.complaints.add(
        ComplaintRow(
            program_id=member.program_id,
            member_id=member.id,
            order_id=request.order_id,
            channel=request.channel,
            category=request.category,
            severity=request.severity,
            subject=request.subject,
            description=request.description,
            assignee=None,
            status=S.NEW,
            policy_id=policy.id,
            filed_at=uow.clock(),
            filed_by=actor,
        )
    )
    _record(uow, row, S.NEW, actor)
    if request.assignee:
        row.assignee = request.assignee
        _move(uow, row, S.ASSIGNED, actor)
    return complaint_view(uow, row)


def _history(uow: UnitOfWork, row: ComplaintRow) -> tuple[StatusChange, ...]:
    return tuple(
        StatusChange(ComplaintStatus(h.status), h.at) for h in uow.complaints.history(row.id)
    )


def _record(uow: UnitOfWork, row: ComplaintRow, status: ComplaintStatus, actor: str) -> None:
    uow.complaints.add(
        ComplaintStatusRow(complaint_id=row.id, status=status, at=uow.clock(), actor=actor)
    )


def _move(uow: UnitOfWork, row: ComplaintRow, target: ComplaintStatus, actor: str) -> None:
    """One status change, if the rules allow it, kept in the history."""
    transition(_history(uow, row), target, uow.clock())
    _record(uow, row, target, actor)
    row.status = target


def _act(uow: UnitOfWork, complaint_id: int) -> ComplaintRow:
    return uow.complaints.get(complaint_id, lock=True)


def assign(uow: UnitOfWork, complaint_id: int, assignee: str, actor: str) -> dict[str, Any]:
    """Give the complaint to a staff member (a new complaint becomes assigned)."""
    _text(assignee, "assignee", 128)
    with uow:
        row = _act(uow, complaint_id)
        if row.status in (S.RESOLVED, S.CLOSED):
            raise RuleViolation("a resolved complaint cannot be reassigned", code="closed")
        previous, row.assignee = row.assignee, assignee
        if row.status == S.NEW:
            _move(uow, row, S.ASSIGNED, actor)
        _note(uow, row, "assignment", f"assigned to {assignee} (was {previous or 'nobody'})", actor)
        uow.commit()
        return complaint_view(uow, row)


def respond(
    uow: UnitOfWork, complaint_id: int, message: str, actor: str, wait_for_customer: bool = False
) -> dict[str, Any]:
    """Answer the customer. The first answer stops the first-response clock; an
    assigned complaint moves to in progress, or to waiting on the customer."""
    _text(message, "message", TEXT_MAX)
    with uow:
        row = _act(uow, complaint_id)
        if row.status == S.NEW:
            raise RuleViolation("assign the complaint before responding", code="not_assigned")
        if row.status in (S.RESOLVED, S.CLOSED):
            raise RuleViolation("the complaint is resolved; reopen it first", code="closed")
        if row.status == S.ASSIGNED or (
            row.status == S.WAITING_ON_CUSTOMER and not wait_for_customer
        ):
            _move(uow, row, S.IN_PROGRESS, actor)
        if wait_for_customer and row.status != S.WAITING_ON_CUSTOMER:
            _move(uow, row, S.WAITING_ON_CUSTOMER, actor)
        if row.first_response_at is None:
            row.first_response_at = uow.clock()
        _note(uow, row, "response", message, actor)
        uow.commit()
        return complaint_view(uow, row)


def change_status(uow: UnitOfWork, complaint_id: int, status: str, actor: str) -> dict[str, Any]:
    """Move to waiting_on_customer, in_progress or closed (resolve and reopen have their own)."""
    allowed = (S.WAITING_ON_CUSTOMER, S.IN_PROGRESS, S.CLOSED)
    if status not in {str(s) for s in allowed}:
        raise InvalidInput(
            f"status must be one of {', '.join(allowed)} (use resolve or reopen)", field="status"
        )
    with uow:
        row = _act(uow, complaint_id)
        if row.status == S.RESOLVED and status == S.IN_PROGRESS:
            raise RuleViolation("use reopen for a resolved complaint", code="invalid_transition")
        _move(uow, row, ComplaintStatus(status), actor)
        uow.commit()
        return complaint_view(uow, row)


def resolve(uow: UnitOfWork, complaint_id: int, summary: str, actor: str) -> dict[str, Any]:
    """Resolve; the member is invited to a CSAT survey (consent and re-contact allowing)."""
    _text(summary, "summary", TEXT_MAX)
    with uow:
        row = _act(uow, complaint_id)
        _move(uow, row, S.RESOLVED, actor)
        row.resolved_at = uow.clock()
        if row.first_response_at is None:
            row.first_response_at = row.resolved_at  # the resolution answers the customer
        _note(uow, row, "resolution", summary, actor)
        outcome = _invite_to_survey(uow, row)
        uow.commit()
        view = complaint_view(uow, row)
    view["survey_invitation"] = (
        {"id": outcome.invitation.id, "path": outcome.invitation.path}
        if outcome.invitation
        else {"skipped": outcome.skipped}
    )
    return view


def _invite_to_survey(uow: UnitOfWork, row: ComplaintRow) -> InviteOutcome:
    member = uow.members.get(row.member_id)
    survey = ensure_complaint_survey(uow, row.program_id)
    if survey is None:
        return InviteOutcome(None, "no_survey")
    store = None
    if row.order_id is not None:
        order = uow.complaints.order(row.program_id, row.order_id)
        event = uow.complaints.event(order.event_id) if order else None
        store = event.store if event else None
    context = SurveyContext(
        "complaint_resolved",
        complaint_id=row.id,
        channel=row.channel,
        store=store,
        staff_id=row.assignee,
    )
    return invite_in(uow, survey, member, preferred_channel(member, row.channel), context)


def reopen(uow: UnitOfWork, complaint_id: int, reason: str, actor: str) -> dict[str, Any]:
    """A resolved complaint goes back to in progress; the resolution clock runs on."""
    _text(reason, "reason", TEXT_MAX)
    with uow:
        row = _act(uow, complaint_id)
        if row.status != S.RESOLVED:
            raise RuleViolation(
                f"only a resolved complaint can be reopened (it is {row.status})",
                code="invalid_transition",
            )
        _move(uow, row, S.IN_PROGRESS, actor)
        row.resolved_at = None
        _note(uow, row, "reopened", reason, actor)
        uow.commit()
        return complaint_view(uow, row)


def add_note(uow: UnitOfWork, complaint_id: int, body: str, actor: str) -> dict[str, Any]:
    """An internal note, never shown to the customer."""
    _text(body, "body", TEXT_MAX)
    with uow:
        row = _act(uow, complaint_id)
        _note(uow, row, "internal", body, actor)
        uow.commit()
        return complaint_view(uow, row)


def _note(uow: UnitOfWork, row: ComplaintRow, kind: str, body: str, actor: str) -> None:
    uow.complaints.add(
        ComplaintNoteRow(complaint_id=row.id, kind=kind, body=body, author=actor, at=uow.clock())
    )


def get_complaint(uow: UnitOfWork, complaint_id: int) -> dict[str, Any]:
    with uow:
        return complaint_view(uow, uow.complaints.get(complaint_id))


def clocks_of(uow: UnitOfWork, row: ComplaintRow, now: datetime) -> ComplaintClocks:
    return complaint_clocks(
        uow.complaints.policy(row.policy_id),
        category=row.category,
        severity=Severity(row.severity),
        history=_history(uow, row),
        now=now,
        first_response_at=row.first_response_at,
    )


def clock_view(clock: SlaClock) -> dict[str, Any]:
    return {
        "state": str(clock.state),
        "target_hours": business_hours(clock.target),
        "elapsed_hours": business_hours(clock.elapsed),
        "remaining_hours": business_hours(clock.remaining),
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "paused": clock.paused,
    }


def complaint_view(uow: UnitOfWork, row: ComplaintRow) -> dict[str, Any]:
    clocks = clocks_of(uow, row, uow.clock())
    fields = (
        "id",
        "member_id",
        "order_id",
        "channel",
        "category",
        "severity",
        "subject",
        "description",
        "assignee",
        "status",
        "filed_by",
    )
    view: dict[str, Any] = {name: getattr(row, name) for name in fields}
    view |= {
        "filed_at": row.filed_at.isoformat(),
        "first_response_at": _iso(row.first_response_at),
        "resolved_at": _iso(row.resolved_at),
        "clocks": {
            "first_response": clock_view(clocks.first_response),
            "resolution": clock_view(clocks.resolution),
        },
        "needs_escalation": clocks.needs_escalation,
        "history": [
            {"status": h.status, "at": h.at.isoformat(), "actor": h.actor}
            for h in uow.complaints.history(row.id)
        ],
        "notes": [
            {"kind": n.kind, "body": n.body, "author": n.author, "at": n.at.isoformat()}
            for n in uow.complaints.notes(row.id)
        ],
        "escalations": [
            {"clock": e.clock, "state": e.state, "at": e.at.isoformat()}
            for e in uow.complaints.escalations(row.id)
        ],
    }
    return view


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
