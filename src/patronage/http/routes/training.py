"""Staff training: staff, courses, plans, enrollments, attempts, role plays,
certificates, reports and the effect on customers.

Admins manage; staff keys submit a learner's own work by naming the learner's
``staff_id`` (it must match the enrollment); analysts read the reports.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from patronage.errors import InvalidInput
from patronage.http.deps import AdminOnly, StaffOrAdmin, Uow, require_role
from patronage.http.training_schemas import (
    AttemptIn,
    AttendanceIn,
    DoneIn,
    EnrollIn,
    LiveSessionIn,
    PlanIn,
    ReactionIn,
    RolePlayIn,
    SeedIn,
    StaffChangeIn,
    StaffIn,
)
from patronage.services import training, training_progress
from patronage.services.access import Principal
from patronage.services.training_evaluation import kirkpatrick, training_impact

router = APIRouter(prefix="/training", tags=["training"])
Payload = dict[str, Any]
SmallId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BigId = Annotated[int, Path(ge=1, le=2**62)]
StaffPath = Annotated[str, Path(min_length=1, max_length=128)]
Reader = Annotated[Principal, Depends(require_role("admin", "staff", "analyst"))]
AnalystOrAdmin = Annotated[Principal, Depends(require_role("admin", "analyst"))]


def _learner(principal: Principal, staff_id: str | None) -> str | None:
    """Staff keys act for one named learner; admins may act for anyone."""
    if principal.role == "staff" and staff_id is None:
        raise InvalidInput("a staff key must name the learner's staff_id", field="staff_id")
    return staff_id


# --- staff ---


@router.get("/staff")
def staff_list(
    uow: Uow,
    _: Reader,
    store: Annotated[str | None, Query(max_length=128)] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> list[Payload]:
    return training.list_staff(uow, store, role, active)


@router.post("/staff", status_code=201)
def staff_add(body: StaffIn, uow: Uow, _: AdminOnly) -> Payload:
    return training.add_staff(uow, body.staff_id, body.name, body.store, body.role)


@router.get("/staff/{staff_id}")
def staff_get(staff_id: StaffPath, uow: Uow, _: Reader) -> Payload:
    return training.get_staff(uow, staff_id)


@router.patch("/staff/{staff_id}")
def staff_change(staff_id: StaffPath, body: StaffChangeIn, uow: Uow, _: AdminOnly) -> Payload:
    return training.update_staff(uow, staff_id, body.model_dump(exclude_unset=True))


@router.delete("/staff/{staff_id}")
def staff_leave(staff_id: StaffPath, uow: Uow, _: AdminOnly) -> Payload:
    """Staff are deactivated, never deleted: their history stays."""
    return training.update_staff(uow, staff_id, {"active": False})


# --- courses and plans ---


@router.post("/seed")
def seed(body: SeedIn, uow: Uow, _: AdminOnly) -> list[Payload]:
    """Install the built-in starter curriculum (idempotent)."""
    return training.seed_curriculum(uow, body.languages)


@router.get("/courses")
def courses(uow: Uow, _: Reader) -> list[Payload]:
    return training.list_courses(uow)


@router.get("/courses/{course_id}")
def course(course_id: SmallId, uow: Uow, _: Reader) -> Payload:
    return training.get_course(uow, course_id)


def _sessions(sessions: list[LiveSessionIn]) -> tuple[training.LiveSession, ...]:
    return tuple(training.LiveSession(**s.model_dump()) for s in sessions)


@router.post("/plans", status_code=201)
def plan_add(body: PlanIn, uow: Uow, principal: AdminOnly) -> Payload:
    plan = training.NewPlan(
        name=body.name,
        course_id=body.course_id,
        goals=tuple(body.goals),
        roles=tuple(body.roles),
        stores=tuple(body.stores),
        starts_at=body.starts_at,
        due_at=body.due_at,
        cost=body.cost,
        sessions=_sessions(body.sessions),
    )
    return training.create_plan(uow, plan, principal.label)


@router.get("/plans")
def plans(uow: Uow, _: Reader) -> list[Payload]:
    return training.list_plans(uow)


@router.get("/plans/{plan_id}")
def plan(plan_id: SmallId, uow: Uow, _: Reader) -> Payload:
    return training.get_plan(uow, plan_id)


@router.post("/plans/{plan_id}/enroll")
def plan_enroll(plan_id: SmallId, uow: Uow, _: AdminOnly) -> Payload:
    """Enroll the plan's audience (active staff of its roles and stores)."""
    return training.enroll_plan_audience(uow, plan_id)


@router.post("/sessions/{session_id}/attendance")
def attendance(
    session_id: SmallId, body: AttendanceIn, uow: Uow, principal: StaffOrAdmin
) -> Payload:
    return training.record_attendance(uow, session_id, body.staff_id, body.present, principal.label)


# --- enrollments and the learner's work ---


@router.post("/enrollments", status_code=201)
def enroll(body: EnrollIn, uow: Uow, _: AdminOnly) -> Payload:
    return training.enroll(uow, body.staff_id, body.course_id, body.due_at)


@router.get("/enrollments/{enrollment_id}")
def progress(enrollment_id: BigId, uow: Uow, _: Reader) -> Payload:
    return training_progress.get_progress(uow, enrollment_id)


@router.post("/enrollments/{enrollment_id}/done")
def done(enrollment_id: BigId, body: DoneIn, uow: Uow, principal: StaffOrAdmin) -> Payload:
    """A lesson read or a case study discussed."""
    learner = _learner(principal, body.staff_id)
    return training_progress.mark_done(uow, enrollment_id, body.activity_id, learner)


@router.post("/enrollments/{enrollment_id}/attempts", status_code=201)
def attempt(enrollment_id: BigId, body: AttemptIn, uow: Uow, principal: StaffOrAdmin) -> Payload:
    """Submit a quiz attempt; refused with ``no_attempts_left`` past the maximum."""
    learner = _learner(principal, body.staff_id)
    return training_progress.submit_attempt(
        uow, enrollment_id, body.quiz_id, body.answers, learner, body.phase
    )


@router.post("/enrollments/{enrollment_id}/role-plays", status_code=201)
def role_play(enrollment_id: BigId, body: RolePlayIn, uow: Uow, principal: StaffOrAdmin) -> Payload:
    """A coach's rubric ratings for one role play."""
    return training_progress.score_coached_role_play(
        uow, enrollment_id, body.role_play_id, body.ratings, principal.label
    )


@router.post("/enrollments/{enrollment_id}/reaction", status_code=201)
def reaction(enrollment_id: BigId, body: ReactionIn, uow: Uow, principal: StaffOrAdmin) -> Payload:
    learner = _learner(principal, body.staff_id)
    return training_progress.submit_reaction(
        uow, enrollment_id, body.rating, body.relevance, body.comment, learner
    )


# --- certificates and reports ---


@router.get("/certificates")
def certificates(
    uow: Uow, _: Reader, staff_id: Annotated[str | None, Query(max_length=128)] = None
) -> list[Payload]:
    return training_progress.certificates(uow, staff_id)


@router.get("/reminders")
def reminders(
    uow: Uow, _: AnalystOrAdmin, as_of: Annotated[AwareDatetime | None, Query()] = None
) -> list[Payload]:
    """Certificates due for re-certification (or expired) at ``as_of`` (default now)."""
    when: datetime = as_of or uow.clock()
    return training_progress.due_reminders(uow, when)


@router.get("/reports/progress")
def progress_report(
    uow: Uow,
    _: AnalystOrAdmin,
    store: Annotated[str | None, Query(max_length=128)] = None,
    course_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[Payload]:
    return training_progress.learner_report(uow, store, course_id)


@router.get("/reports/kirkpatrick")
def kirkpatrick_report(
    uow: Uow, _: AnalystOrAdmin, course: Annotated[str | None, Query(max_length=64)] = None
) -> Payload:
    """Levels 1-3: reactions by store, pre/post learning gain, on-the-job behaviour."""
    return kirkpatrick(uow, course)


@router.get("/impact")
def impact(
    uow: Uow,
    _: AnalystOrAdmin,
    outcome: Annotated[str, Query(max_length=64)],
    course: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str, Query(pattern="^(month|week)$")] = "month",
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    value_per_unit: Annotated[Decimal | None, Query(ge=0, le=10**9)] = None,
    cost: Annotated[Decimal | None, Query(gt=0, le=10**12)] = None,
) -> Payload:
    """Level 4: the effect of training on the customers the staff served (staggered DiD)."""
    if (value_per_unit is None) != (cost is None):
        raise InvalidInput("ROI needs both value_per_unit and cost", field="cost")
    roi = None if value_per_unit is None or cost is None else (value_per_unit, cost)
    return training_impact(uow, outcome, course, period, tz, roi)
