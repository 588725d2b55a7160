"""Tables of staff training (issue 6), on the shared metadata of ``storage.tables``.

Staff are keyed by ``staff_id``, the same text that purchases (``events.staff_id``),
survey responses and complaint assignees carry. A course is stored once per
language; its modules hold their activities as JSON (the domain objects,
serialised by ``training.course_codec``), so quizzes are scored by the domain
rules from what is stored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base, BigId


class StaffRow(Base):
    __tablename__ = "training_staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    store: Mapped[str | None] = mapped_column(String(128), index=True)
    role: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class CourseRow(Base):
    """One course in one language; ``fingerprint`` makes seeding idempotent."""

    __tablename__ = "training_courses"
    __table_args__ = (UniqueConstraint("code", "language"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    valid_days: Mapped[int]
    remind_days_before: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CourseModuleRow(Base):
    __tablename__ = "training_modules"
    __table_args__ = (UniqueConstraint("course_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    activities: Mapped[list[Any]] = mapped_column(JSON)


class TrainingPlanRow(Base):
    """Goals, audience (roles and stores; empty = everyone) and a due date for one course."""

    __tablename__ = "training_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    goals: Mapped[list[Any]] = mapped_column(JSON, default=list)
    audience_roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    audience_stores: Mapped[list[Any]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    cost: Mapped[Decimal | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(128))


class TrainingSessionRow(Base):
    """A live session of a plan: lecture, workshop or role-play drill."""

    __tablename__ = "training_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("training_plans.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))


class SessionAttendanceRow(Base):
    __tablename__ = "training_attendance"
    __table_args__ = (UniqueConstraint("session_id", "staff_row_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"))
    staff_row_id: Mapped[int] = mapped_column(ForeignKey("training_staff.id"))
    present: Mapped[bool]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(128))


class EnrollmentRow(Base):
    """A staff member taking a course. Locked (FOR UPDATE) around every quiz attempt."""

    __tablename__ = "training_enrollments"
    __table_args__ = (Index("ix_training_enrollments_staff_course", "staff_row_id", "course_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_row_id: Mapped[int] = mapped_column(ForeignKey("training_staff.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("training_plans.id"))
    enrolled_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class ActivityDoneRow(Base):
    """A lesson read or a case study discussed."""

    __tablename__ = "training_activity_done"
    __table_args__ = (UniqueConstraint("enrollment_id", "activity_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"))
    activity_id: Mapped[str] = mapped_column(String(64))
    done_at: Mapped[datetime]


class QuizAttemptRow(Base):
    """A scored attempt; phase "pre" is the untimed baseline before training (level 2)."""

    __tablename__ = "training_quiz_attempts"
    __table_args__ = (UniqueConstraint("enrollment_id", "activity_id", "phase", "number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"))
    activity_id: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(8))
    number: Mapped[int]
    points: Mapped[int]
    max_points: Mapped[int]
    answers: Mapped[dict[str, Any]]
    submitted_at: Mapped[datetime]


class RolePlayScoreRow(Base):
    __tablename__ = "training_role_play_scores"
    __table_args__ = (Index("ix_training_role_play_enrollment", "enrollment_id", "activity_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"))
    activity_id: Mapped[str] = mapped_column(String(64))
    ratings: Mapped[dict[str, Any]]
    percent: Mapped[Decimal]
    passed: Mapped[bool]
    coach: Mapped[str] = mapped_column(String(128))
    scored_at: Mapped[datetime]


class ReactionRow(Base):
    """Kirkpatrick level 1: the learner's post-course reaction (1-5), once per enrollment."""

    __tablename__ = "training_reactions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"), unique=True)
    rating: Mapped[int]
    relevance: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime]


class CertificateRow(Base):
    __tablename__ = "training_certificates"
    __table_args__ = (Index("ix_training_certificates_remind", "remind_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_row_id: Mapped[int] = mapped_column(ForeignKey("training_staff.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    remind_at: Mapped[datetime]
