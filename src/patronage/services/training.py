"""Staff training, managed: staff, the starter curriculum in the database, plans with
live sessions and attendance, and enrollments.

Staff are keyed by the ``staff_id`` that purchases, survey responses and complaint
assignees carry, so training can later be joined to what customers experienced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from patronage.clock import require_aware
from patronage.domain.training import Course
from patronage.errors import Conflict, InvalidInput, RuleViolation
from patronage.services.training_progress import complete_if_done
from patronage.storage.training_tables import (
    CourseModuleRow,
    CourseRow,
    EnrollmentRow,
    SessionAttendanceRow,
    StaffRow,
    TrainingPlanRow,
    TrainingSessionRow,
)
from patronage.storage.uow import UnitOfWork
from patronage.training.course_codec import course_fingerprint, module_to_json
from patronage.training.starter import (
    LANGUAGES,
    activity_kind,
    load_course,
    load_starter_course,
)

STAFF_FIELDS = ("name", "store", "role", "active")


def staff_view(row: StaffRow) -> dict[str, Any]:
    return {
        "staff_id": row.staff_id,
        "name": row.name,
        "store": row.store,
        "role": row.role,
        "active": row.active,
    }


def _text(value: str | None, field: str, limit: int, required: bool = False) -> None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)


def add_staff(
    uow: UnitOfWork, staff_id: str, name: str, store: str | None = None, role: str | None = None
) -> dict[str, Any]:
    _text(staff_id, "staff_id", 128, required=True)
    _text(name, "name", 200, required=True)
    _text(store, "store", 128)
    _text(role, "role", 64)
    with uow:
        if uow.training.find_staff(staff_id) is not None:
            raise Conflict(f"staff member {staff_id!r} exists", code="staff_exists")
        row = uow.training.add(
            StaffRow(staff_id=staff_id, name=name, store=store, role=role, created_at=uow.clock())
        )
        uow.commit()
        return staff_view(row)


def update_staff(uow: UnitOfWork, staff_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change name, store, role or active; ``active=False`` is how staff leave."""
    unknown = set(changes) - set(STAFF_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown fields {sorted(unknown)}", field="body")
    if "name" in changes:
        _text(changes["name"], "name", 200, required=True)
    if "active" in changes and not isinstance(changes["active"], bool):
        raise InvalidInput("active must be true or false", field="active")
    with uow:
        row = uow.training.staff(staff_id)
        for name, value in changes.items():
            setattr(row, name, value)
        uow.commit()
        return staff_view(row)


def get_staff(uow: UnitOfWork, staff_id: str) -> dict[str, Any]:
    with uow:
        return staff_view(uow.training.staff(staff_id))


def list_staff(
    uow: UnitOfWork, store: str | None = None, role: str | None = None, active: bool | None = None
) -> list[dict[str, Any]]:
    with uow:
        return [staff_view(r) for r in uow.training.staff_list(store, role, active)]


# --- the curriculum in the database ---------------------------------------------


def seed_curriculum(uow: UnitOfWork, languages: Sequence[str] = LANGUAGES) -> list[dict[str, Any]]:
    """Install the starter course per language; unchanged content is left alone."""
    courses = [load_starter_course(lang) for lang in languages]
    with uow:
        results = [_install(uow, course) for course in courses]
        uow.commit()
        return results


def install_course(uow: UnitOfWork, folder: Path, language: str | None = None) -> dict[str, Any]:
    """Install a course of your own: ``course.yaml`` and module files in the starter's
    format (``language`` defaults to the one course.yaml names). Unchanged content is
    left alone; changed content replaces the modules."""
    if not folder.is_dir():
        raise InvalidInput(f"no such folder: {folder}", field="from")
    course = load_course(folder, language)
    with uow:
        result = _install(uow, course)
        uow.commit()
        return result


def _install(uow: UnitOfWork, course: Course) -> dict[str, Any]:
    fingerprint = course_fingerprint(course)
    now = uow.clock()
    row = uow.training.course_by_code(course.id, course.language)
    if row is not None and row.fingerprint == fingerprint:
        status = "unchanged"
    else:
        status = "created" if row is None else "updated"
        if row is None:
            row = uow.training.add(
                CourseRow(code=course.id, language=course.language, created_at=now, title="",
                          valid_days=1, remind_days_before=0, fingerprint="", updated_at=now)
            )  # fmt: skip
        else:
            uow.training.remove_modules(row.id)
        row.title, row.fingerprint, row.updated_at = course.title, fingerprint, now
        row.valid_days = course.certification.valid_days
        row.remind_days_before = course.certification.remind_days_before
        for position, module in enumerate(course.modules, start=1):
            uow.training.add(
                CourseModuleRow(course_id=row.id, position=position, code=module.id,
                                title=module.title, activities=module_to_json(module))
            )  # fmt: skip
    return {"id": row.id, "code": course.id, "language": course.language, "status": status}


def course_view(uow: UnitOfWork, row: CourseRow, with_modules: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row.id,
        "code": row.code,
        "language": row.language,
        "title": row.title,
        "valid_days": row.valid_days,
        "remind_days_before": row.remind_days_before,
    }
    if with_modules:
        course = uow.training.course(row.id)
        view["modules"] = [
            {
                "id": m.id,
                "title": m.title,
                "activities": [
                    {"id": a.id, "kind": activity_kind(a), "title": a.title} for a in m.activities
                ],
            }
            for m in course.modules
        ]
    return view


def list_courses(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [course_view(uow, row) for row in uow.training.courses()]


def get_course(uow: UnitOfWork, course_id: int) -> dict[str, Any]:
    with uow:
        return course_view(uow, uow.training.course_row(course_id), with_modules=True)


# --- plans, live sessions and attendance -----------------------------------------


@dataclass(frozen=True)
class LiveSession:
    title: str
    starts_at: datetime
    ends_at: datetime
    location: str | None = None


@dataclass(frozen=True)
class NewPlan:
    name: str
    course_id: int
    goals: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    starts_at: datetime | None = None
    due_at: datetime | None = None
    cost: Decimal | None = None
    sessions: tuple[LiveSession, ...] = field(default_factory=tuple)


def _check_plan(plan: NewPlan) -> None:
    _text(plan.name, "name", 200, required=True)
    for when, name in ((plan.starts_at, "starts_at"), (plan.due_at, "due_at")):
        if when is not None:
            require_aware(when, name)
    if plan.starts_at and plan.due_at and plan.due_at <= plan.starts_at:
        raise InvalidInput("due_at must be after starts_at", field="due_at")
    if plan.cost is not None and plan.cost < 0:
        raise InvalidInput("cost cannot be negative", field="cost")
    for live in plan.sessions:
        require_aware(live.starts_at, "sessions.starts_at")
        require_aware(live.ends_at, "sessions.ends_at")
        if live.ends_at <= live.starts_at:
            raise InvalidInput("a session must end after it starts", field="sessions")


def create_plan(uow: UnitOfWork, plan: NewPlan, actor: str) -> dict[str, Any]:
    _check_plan(plan)
    with uow:
        uow.training.course_row(plan.course_id)
        row = uow.training.add(
            TrainingPlanRow(
                name=plan.name, course_id=plan.course_id, goals=list(plan.goals),
                audience_roles=list(plan.roles), audience_stores=list(plan.stores),
                starts_at=plan.starts_at, due_at=plan.due_at, cost=plan.cost,
                created_at=uow.clock(), created_by=actor,
            )
        )  # fmt: skip
        for live in plan.sessions:
            uow.training.add(
                TrainingSessionRow(plan_id=row.id, title=live.title, starts_at=live.starts_at,
                                   ends_at=live.ends_at, location=live.location)
            )  # fmt: skip
        uow.commit()
        return plan_view(uow, row)


def plan_view(uow: UnitOfWork, row: TrainingPlanRow) -> dict[str, Any]:
    sessions = uow.training.sessions(row.id)
    attendance = uow.training.attendance_of([s.id for s in sessions])
    staff = uow.training.staff_by_row_ids([a.staff_row_id for a in attendance])
    return {
        "id": row.id,
        "name": row.name,
        "course_id": row.course_id,
        "goals": row.goals,
        "audience": {"roles": row.audience_roles, "stores": row.audience_stores},
        "starts_at": row.starts_at,
        "due_at": row.due_at,
        "cost": None if row.cost is None else str(row.cost),
        "sessions": [
            {
                "id": s.id,
                "title": s.title,
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "location": s.location,
                "present": sorted(
                    staff[a.staff_row_id].staff_id
                    for a in attendance
                    if a.session_id == s.id and a.present
                ),
            }
            for s in sessions
        ],
    }


def get_plan(uow: UnitOfWork, plan_id: int) -> dict[str, Any]:
    with uow:
        return plan_view(uow, uow.training.plan(plan_id))


def list_plans(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [plan_view(uow, row) for row in uow.training.plans()]


def record_attendance(
    uow: UnitOfWork, session_id: int, staff_id: str, present: bool, actor: str
) -> dict[str, Any]:
    """Present or absent at a live session; being present may complete the course
    (an attendance activity), which then issues the certificate."""
    with uow:
        live = uow.training.live_session(session_id)
        staff = uow.training.staff(staff_id)
        row = uow.training.attendance(session_id, staff.id)
        if row is None:
            row = uow.training.add(
                SessionAttendanceRow(session_id=session_id, staff_row_id=staff.id,
                                     present=present, recorded_at=uow.clock(), recorded_by=actor)
            )  # fmt: skip
        else:
            row.present, row.recorded_at, row.recorded_by = present, uow.clock(), actor
        completed = present and _complete_attendee(uow, staff, uow.training.plan(live.plan_id))
        uow.commit()
        return {
            "session_id": live.id,
            "staff_id": staff_id,
            "present": row.present,
            "course_completed": completed,
        }


def _complete_attendee(uow: UnitOfWork, staff: StaffRow, plan: TrainingPlanRow) -> bool:
    """Attendance may be what completes the course: check the open enrollment."""
    for enrollment in uow.training.enrollments(staff.id, plan.course_id):
        if enrollment.completed_at is None:
            locked = uow.training.enrollment(enrollment.id, lock=True)
            return complete_if_done(uow, locked, uow.training.course(plan.course_id))
    return False


# --- enrollments -----------------------------------------------------------------


def enrollment_view(row: EnrollmentRow, staff_id: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "staff_id": staff_id,
        "course_id": row.course_id,
        "plan_id": row.plan_id,
        "enrolled_at": row.enrolled_at,
        "due_at": row.due_at,
        "completed_at": row.completed_at,
    }


def _enroll(
    uow: UnitOfWork, staff: StaffRow, course_id: int, plan_id: int | None, due: datetime | None
) -> EnrollmentRow | None:
    """A new enrollment, or None if the staff member is already taking the course."""
    uow.training.lock_staff(staff.id)
    current = uow.training.enrollments(staff.id, course_id)
    if any(e.completed_at is None for e in current):
        return None
    row = EnrollmentRow(staff_row_id=staff.id, course_id=course_id, plan_id=plan_id,
                        enrolled_at=uow.clock(), due_at=due, completed_at=None)  # fmt: skip
    return uow.training.add(row)  # type: ignore[no-any-return]


def enroll(
    uow: UnitOfWork, staff_id: str, course_id: int, due_at: datetime | None = None
) -> dict[str, Any]:
    if due_at is not None:
        require_aware(due_at, "due_at")
    with uow:
        staff = uow.training.staff(staff_id)
        if not staff.active:
            raise RuleViolation(f"staff member {staff_id!r} is inactive", code="staff_inactive")
        uow.training.course_row(course_id)
        row = _enroll(uow, staff, course_id, None, due_at)
        if row is None:
            raise Conflict(
                f"{staff_id!r} is already taking course {course_id}", code="already_enrolled"
            )
        uow.commit()
        return enrollment_view(row, staff_id)


def enroll_plan_audience(uow: UnitOfWork, plan_id: int) -> dict[str, Any]:
    """Enroll every active staff member the plan addresses (by role and store)."""
    with uow:
        plan = uow.training.plan(plan_id)
        enrolled: list[str] = []
        skipped: list[str] = []
        for staff in uow.training.staff_list(active=True):
            if plan.audience_roles and staff.role not in plan.audience_roles:
                continue
            if plan.audience_stores and staff.store not in plan.audience_stores:
                continue
            row = _enroll(uow, staff, plan.course_id, plan.id, plan.due_at)
            (enrolled if row is not None else skipped).append(staff.staff_id)
        uow.commit()
        return {"plan_id": plan_id, "enrolled": enrolled, "already_enrolled": skipped}
