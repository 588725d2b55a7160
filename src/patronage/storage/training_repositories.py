"""Reads and writes of staff training. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patronage.domain.training import CertificationPolicy, Course, Module
from patronage.domain.training_assessment import QuizAttempt
from patronage.errors import NotFound
from patronage.storage.tables import (
    ComplaintRow,
    EventRow,
    SurveyResponseRow,
    SurveyRow,
)
from patronage.storage.training_reminder_tables import TrainingReminderRow
from patronage.storage.training_tables import (
    ActivityDoneRow,
    CertificateRow,
    CourseModuleRow,
    CourseRow,
    EnrollmentRow,
    QuizAttemptRow,
    ReactionRow,
    RolePlayScoreRow,
    SessionAttendanceRow,
    StaffRow,
    TrainingPlanRow,
    TrainingSessionRow,
)
from patronage.training.course_codec import activity_from_json


class TrainingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    # --- staff ---

    def staff(self, staff_id: str) -> StaffRow:
        row = self.session.scalar(select(StaffRow).where(StaffRow.staff_id == staff_id))
        if row is None:
            raise NotFound(f"no staff member {staff_id!r}", field="staff_id", staff_id=staff_id)
        return row

    def find_staff(self, staff_id: str) -> StaffRow | None:
        return self.session.scalar(select(StaffRow).where(StaffRow.staff_id == staff_id))

    def staff_list(
        self, store: str | None = None, role: str | None = None, active: bool | None = None
    ) -> list[StaffRow]:
        query = select(StaffRow).order_by(StaffRow.staff_id)
        if store is not None:
            query = query.where(StaffRow.store == store)
        if role is not None:
            query = query.where(StaffRow.role == role)
        if active is not None:
            query = query.where(StaffRow.active.is_(active))
        return list(self.session.scalars(query))

    def staff_by_row_ids(self, ids: Sequence[int]) -> dict[int, StaffRow]:
        if not ids:
            return {}
        rows = self.session.scalars(select(StaffRow).where(StaffRow.id.in_(set(ids))))
        return {row.id: row for row in rows}

    # --- courses ---

    def course_row(self, course_id: int) -> CourseRow:
        row = self.session.get(CourseRow, course_id)
        if row is None:
            raise NotFound(f"no course {course_id}", field="course_id", course_id=course_id)
        return row

    def course_by_code(self, code: str, language: str) -> CourseRow | None:
        return self.session.scalar(
            select(CourseRow).where(CourseRow.code == code, CourseRow.language == language)
        )

    def courses(self) -> list[CourseRow]:
        return list(self.session.scalars(select(CourseRow).order_by(CourseRow.id)))

    def module_rows(self, course_id: int) -> list[CourseModuleRow]:
        query = (
            select(CourseModuleRow)
            .where(CourseModuleRow.course_id == course_id)
            .order_by(CourseModuleRow.position)
        )
        return list(self.session.scalars(query))

    def remove_modules(self, course_id: int) -> None:
        for row in self.module_rows(course_id):
            self.session.delete(row)
        self.session.flush()

    def course(self, course_id: int) -> Course:
        """The stored course as a domain object, ready to score attempts."""
        row = self.course_row(course_id)
        modules = tuple(
            Module(m.code, m.title, tuple(activity_from_json(a) for a in m.activities))
            for m in self.module_rows(course_id)
        )
        policy = CertificationPolicy(row.valid_days, row.remind_days_before)
        return Course(row.code, row.title, row.language, modules, policy)

    # --- plans and live sessions ---

    def plan(self, plan_id: int) -> TrainingPlanRow:
        row = self.session.get(TrainingPlanRow, plan_id)
        if row is None:
            raise NotFound(f"no training plan {plan_id}", field="plan_id", plan_id=plan_id)
        return row

    def plans(self) -> list[TrainingPlanRow]:
        return list(self.session.scalars(select(TrainingPlanRow).order_by(TrainingPlanRow.id)))

    def sessions(self, plan_id: int) -> list[TrainingSessionRow]:
        query = (
            select(TrainingSessionRow)
            .where(TrainingSessionRow.plan_id == plan_id)
            .order_by(TrainingSessionRow.starts_at, TrainingSessionRow.id)
        )
        return list(self.session.scalars(query))

    def live_session(self, session_id: int) -> TrainingSessionRow:
        row = self.session.get(TrainingSessionRow, session_id)
        if row is None:
            raise NotFound(f"no training session {session_id}", session_id=session_id)
        return row

    def attendance(self, session_id: int, staff_row_id: int) -> SessionAttendanceRow | None:
        return self.session.scalar(
            select(SessionAttendanceRow).where(
                SessionAttendanceRow.session_id == session_id,
                SessionAttendanceRow.staff_row_id == staff_row_id,
            )
        )

    def attendance_of(self, session_ids: Sequence[int]) -> list[SessionAttendanceRow]:
        if not session_ids:
            return []
        query = select(SessionAttendanceRow).where(SessionAttendanceRow.session_id.in_(session_ids))
        return list(self.session.scalars(query))

    # --- enrollments and progress ---

    def enrollment(self, enrollment_id: int, lock: bool = False) -> EnrollmentRow:
        query = select(EnrollmentRow).where(EnrollmentRow.id == enrollment_id)
        if lock:
            query = query.with_for_update()
        row = self.session.scalar(query)
        if row is None:
            raise NotFound(f"no enrollment {enrollment_id}", enrollment_id=enrollment_id)
        return row

    def enrollments(
        self, staff_row_id: int | None = None, course_id: int | None = None
    ) -> list[EnrollmentRow]:
        query = select(EnrollmentRow).order_by(EnrollmentRow.id)
        if staff_row_id is not None:
            query = query.where(EnrollmentRow.staff_row_id == staff_row_id)
        if course_id is not None:
            query = query.where(EnrollmentRow.course_id == course_id)
        return list(self.session.scalars(query))

    def lock_staff(self, staff_row_id: int) -> None:
        self.session.execute(
            select(StaffRow.id).where(StaffRow.id == staff_row_id).with_for_update()
        )

    def done(self, enrollment_id: int) -> dict[str, datetime]:
        query = select(ActivityDoneRow).where(ActivityDoneRow.enrollment_id == enrollment_id)
        return {row.activity_id: row.done_at for row in self.session.scalars(query)}

    def attempts(self, enrollment_id: int, phase: str = "post") -> dict[str, list[QuizAttempt]]:
        query = (
            select(QuizAttemptRow)
            .where(QuizAttemptRow.enrollment_id == enrollment_id, QuizAttemptRow.phase == phase)
            .order_by(QuizAttemptRow.number)
        )
        found: dict[str, list[QuizAttempt]] = {}
        for row in self.session.scalars(query):
            attempt = QuizAttempt(row.number, row.points, row.max_points, row.submitted_at)
            found.setdefault(row.activity_id, []).append(attempt)
        return found

    def role_play_scores(self, enrollment_id: int) -> list[RolePlayScoreRow]:
        query = (
            select(RolePlayScoreRow)
            .where(RolePlayScoreRow.enrollment_id == enrollment_id)
            .order_by(RolePlayScoreRow.id)
        )
        return list(self.session.scalars(query))

    def reaction(self, enrollment_id: int) -> ReactionRow | None:
        return self.session.scalar(
            select(ReactionRow).where(ReactionRow.enrollment_id == enrollment_id)
        )

    # --- certificates ---

    def certificates(self, staff_row_id: int | None = None) -> list[CertificateRow]:
        query = select(CertificateRow).order_by(CertificateRow.issued_at, CertificateRow.id)
        if staff_row_id is not None:
            query = query.where(CertificateRow.staff_row_id == staff_row_id)
        return list(self.session.scalars(query))

    def latest_certificates_due(self, as_of: datetime) -> list[CertificateRow]:
        """The newest certificate per staff member and course, if its reminder date passed."""
        newest = (
            select(
                CertificateRow.staff_row_id,
                CertificateRow.course_id,
                func.max(CertificateRow.issued_at).label("issued_at"),
            )
            .group_by(CertificateRow.staff_row_id, CertificateRow.course_id)
            .subquery()
        )
        query = (
            select(CertificateRow)
            .join(
                newest,
                and_(
                    CertificateRow.staff_row_id == newest.c.staff_row_id,
                    CertificateRow.course_id == newest.c.course_id,
                    CertificateRow.issued_at == newest.c.issued_at,
                ),
            )
            .where(CertificateRow.remind_at <= as_of)
            .order_by(CertificateRow.expires_at, CertificateRow.id)
        )
        return list(self.session.scalars(query))

    def sessions_attended(self, staff_row_id: int, course_id: int, since: datetime | None) -> int:
        """Live sessions of the course's plans the staff member was present at
        (those starting at or after ``since``, when given)."""
        query = (
            select(func.count(SessionAttendanceRow.id))
            .join(TrainingSessionRow, TrainingSessionRow.id == SessionAttendanceRow.session_id)
            .join(TrainingPlanRow, TrainingPlanRow.id == TrainingSessionRow.plan_id)
            .where(
                SessionAttendanceRow.staff_row_id == staff_row_id,
                SessionAttendanceRow.present,
                TrainingPlanRow.course_id == course_id,
            )
        )
        if since is not None:
            query = query.where(TrainingSessionRow.starts_at >= since)
        return int(self.session.scalar(query) or 0)

    # --- reminders ---

    def open_enrollments_due_by(self, until: datetime) -> list[EnrollmentRow]:
        """Enrollments not completed whose due date is at or before ``until``."""
        query = (
            select(EnrollmentRow)
            .where(EnrollmentRow.completed_at.is_(None), EnrollmentRow.due_at <= until)
            .order_by(EnrollmentRow.due_at, EnrollmentRow.id)
        )
        return list(self.session.scalars(query))

    def remind_once(self, **values: Any) -> bool:
        """Record a reminder; False when this (kind, enrollment) was already reminded."""
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(TrainingReminderRow)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(TrainingReminderRow.id)
        )
        return self.session.execute(statement).scalar_one_or_none() is not None

    # --- evaluation reads (levels 1-4) ---

    def completions(self) -> list[tuple[str, str, datetime]]:
        """(staff_id, course code, completed_at) of every completed enrollment."""
        query = (
            select(StaffRow.staff_id, CourseRow.code, EnrollmentRow.completed_at)
            .join(StaffRow, StaffRow.id == EnrollmentRow.staff_row_id)
            .join(CourseRow, CourseRow.id == EnrollmentRow.course_id)
            .where(EnrollmentRow.completed_at.is_not(None))
        )
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def purchases(self) -> list[tuple[int, datetime, str | None, int | None]]:
        """(member_id, occurred_at, staff_id, amount_minor) of every purchase."""
        query = select(
            EventRow.member_id, EventRow.occurred_at, EventRow.staff_id, EventRow.amount_minor
        ).where(EventRow.type == "purchase")
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def staff_responses(self) -> list[tuple[str, int, datetime, dict[str, Any], list[Any]]]:
        """(staff_id, member_id, submitted_at, answers, survey questions) naming a staff member."""
        query = (
            select(
                SurveyResponseRow.staff_id,
                SurveyResponseRow.member_id,
                SurveyResponseRow.submitted_at,
                SurveyResponseRow.answers,
                SurveyRow.questions,
            )
            .join(SurveyRow, SurveyRow.id == SurveyResponseRow.survey_id)
            .where(SurveyResponseRow.staff_id.is_not(None))
        )
        return [tuple(row) for row in self.session.execute(query)]

    def complaint_times(self) -> list[tuple[int, datetime]]:
        """(member_id, filed_at) of every complaint."""
        query = select(ComplaintRow.member_id, ComplaintRow.filed_at)
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def assigned_complaints(self) -> list[ComplaintRow]:
        query = select(ComplaintRow).where(ComplaintRow.assignee.is_not(None))
        return list(self.session.scalars(query))

    def reactions(self) -> list[tuple[str | None, str, int, int | None]]:
        """(store, course code, rating, relevance) of every post-course reaction."""
        query = (
            select(StaffRow.store, CourseRow.code, ReactionRow.rating, ReactionRow.relevance)
            .join(EnrollmentRow, EnrollmentRow.id == ReactionRow.enrollment_id)
            .join(StaffRow, StaffRow.id == EnrollmentRow.staff_row_id)
            .join(CourseRow, CourseRow.id == EnrollmentRow.course_id)
        )
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def attempts_of_completed(self) -> list[tuple[EnrollmentRow, QuizAttemptRow]]:
        """Every quiz attempt of every completed enrollment, oldest first."""
        query = (
            select(EnrollmentRow, QuizAttemptRow)
            .join(QuizAttemptRow, QuizAttemptRow.enrollment_id == EnrollmentRow.id)
            .where(EnrollmentRow.completed_at.is_not(None))
            .order_by(QuizAttemptRow.enrollment_id, QuizAttemptRow.number)
        )
        return [(e, a) for e, a in self.session.execute(query)]
