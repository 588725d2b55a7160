"""Complaints: file, assign, respond, wait, resolve, reopen, notes, recovery,
escalation, SLA targets and calendar, and the report."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from patronage.errors import InvalidInput
from patronage.http.deps import (
    AdminOnly,
    AnyRole,
    IdempotencyKey,
    StaffOrAdmin,
    Uow,
    require_role,
)
from patronage.http.voice_schemas import (
    AssignIn,
    CalendarIn,
    ComplaintIn,
    NoteIn,
    RecoveryIn,
    ReopenIn,
    ResolveIn,
    RespondIn,
    StatusIn,
    TargetIn,
)
from patronage.services import complaints as care
from patronage.services import recovery, sla_setup
from patronage.services.access import Principal
from patronage.services.complaint_report import complaints_report
from patronage.services.escalation import escalate_complaints

router = APIRouter(prefix="/complaints", tags=["complaints"])
Payload = dict[str, Any]
ComplaintId = Annotated[int, Path(ge=1, le=2**62)]
Reader = Annotated[Principal, Depends(require_role("admin", "staff", "analyst"))]
AnalystOrAdmin = Annotated[Principal, Depends(require_role("admin", "analyst"))]


@router.post("", status_code=201)
def file(body: ComplaintIn, uow: Uow, principal: AnyRole, key: IdempotencyKey = None) -> Payload:
    """Staff file for any member; a member key files only its own complaint. Retried
    with the same Idempotency-Key and body, it files nothing and returns the first result."""
    principal.require("admin", "staff", "member")
    principal.may_see_member(body.member_id)
    request = care.NewComplaint(**body.model_dump())
    return care.file_complaint(uow, request, principal.label, key)


@router.get("/report")
def report(
    uow: Uow,
    _: AnalystOrAdmin,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
    repurchase_days: Annotated[int, Query(ge=1, le=730)] = 90,
    program: Annotated[str, Query(max_length=64)] = "default",
) -> Payload:
    return complaints_report(uow, start, end, repurchase_days, program)


@router.post("/escalations")
def escalate(uow: Uow, _: StaffOrAdmin) -> list[Payload]:
    """Record and list the open complaints whose SLA target is at risk or missed."""
    return [asdict(e) for e in escalate_complaints(uow)]


@router.get("/sla-targets")
def targets(uow: Uow, _: Reader) -> list[Payload]:
    return [asdict(t) for t in sla_setup.list_targets(uow)]


@router.put("/sla-targets")
def set_target(body: TargetIn, uow: Uow, _: AdminOnly) -> Payload:
    return asdict(
        sla_setup.set_target(
            uow,
            body.category,
            body.severity,
            body.first_response_minutes,
            body.resolution_minutes,
        )
    )


@router.put("/calendar")
def set_calendar(body: CalendarIn, uow: Uow, _: AdminOnly) -> Payload:
    if body.workdays is not None and any(not 0 <= d <= 6 for d in body.workdays):
        raise InvalidInput("workdays are 0 (Monday) to 6", field="workdays")
    return sla_setup.set_calendar(
        uow, body.timezone, body.hours, body.workdays, body.add_holidays, body.remove_holidays
    )


@router.post("/recovery/{recovery_id}/approve")
def approve(recovery_id: ComplaintId, uow: Uow, principal: AdminOnly) -> Payload:
    return asdict(recovery.approve_recovery(uow, recovery_id, principal.label))


@router.post("/recovery/{recovery_id}/reject")
def reject(recovery_id: ComplaintId, uow: Uow, principal: AdminOnly) -> Payload:
    return asdict(recovery.reject_recovery(uow, recovery_id, principal.label))


@router.get("/{complaint_id}")
def get_one(complaint_id: ComplaintId, uow: Uow, _: Reader) -> Payload:
    return care.get_complaint(uow, complaint_id)


@router.post("/{complaint_id}/assign")
def assign(complaint_id: ComplaintId, body: AssignIn, uow: Uow, p: StaffOrAdmin) -> Payload:
    return care.assign(uow, complaint_id, body.assignee, p.label)


@router.post("/{complaint_id}/responses")
def respond(complaint_id: ComplaintId, body: RespondIn, uow: Uow, p: StaffOrAdmin) -> Payload:
    return care.respond(uow, complaint_id, body.message, p.label, body.wait_for_customer)


@router.post("/{complaint_id}/status")
def status(complaint_id: ComplaintId, body: StatusIn, uow: Uow, p: StaffOrAdmin) -> Payload:
    return care.change_status(uow, complaint_id, body.status, p.label)


@router.post("/{complaint_id}/resolve")
def resolve(complaint_id: ComplaintId, body: ResolveIn, uow: Uow, p: StaffOrAdmin) -> Payload:
    return care.resolve(uow, complaint_id, body.summary, p.label)


@router.post("/{complaint_id}/reopen")
def reopen(complaint_id: ComplaintId, body: ReopenIn, uow: Uow, p: StaffOrAdmin) -> Payload:
    return care.reopen(uow, complaint_id, body.reason, p.label)


@router.post("/{complaint_id}/notes", status_code=201)
def note(complaint_id: ComplaintId, body: NoteIn, uow: Uow, p: StaffOrAdmin) -> Payload:
    return care.add_note(uow, complaint_id, body.body, p.label)


@router.post("/{complaint_id}/recovery", status_code=201)
def recover(complaint_id: ComplaintId, body: RecoveryIn, uow: Uow, p: StaffOrAdmin) -> Payload:
    """Apology points (pending an admin's approval above the limit) or a coupon reference."""
    action = recovery.request_recovery(
        uow, complaint_id, p.label, body.points, body.coupon_ref, body.note
    )
    return asdict(action)


@router.get("/{complaint_id}/recovery")
def recoveries(complaint_id: ComplaintId, uow: Uow, _: Reader) -> list[Payload]:
    return [asdict(r) for r in recovery.list_recoveries(uow, complaint_id)]
