"""A learner's way through a course: lessons done, quiz attempts, coached role plays,
live sessions attended, completion and certificates, the post-course reaction and
re-certification reminders.

Quiz attempts lock the enrollment row first (``SELECT ... FOR UPDATE``; SQLite
serialises writers), so simultaneous attempts cannot exceed the quiz's maximum.
Completion is checked after every step; the step that completes the course also
issues the certificate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from patronage.clock import require_aware
from patronage.domain.training import (
    Activity,
    Attendance,
    CaseStudy,
    Certificate,
    Course,
    Lesson,
    Progress,
    RolePlay,
    activity_complete,
    issue_certificate,
)
from patronage.domain.training_assessment import (
    Quiz,
    RubricScore,
    counted_attempt,
    score_role_play,
    submit_quiz,
)
from patronage.errors import Forbidden, InvalidInput, RuleViolation
from patronage.storage.training_tables import (
    ActivityDoneRow,
    CertificateRow,
    EnrollmentRow,
    QuizAttemptRow,
    ReactionRow,
    RolePlayScoreRow,
)
from patronage.storage.uow import UnitOfWork
from patronage.training.starter import activity_kind

PHASES = ("pre", "post")


def _owned(uow: UnitOfWork, enrollment_id: int, staff_id: str | None, lock: bool) -> EnrollmentRow:
    """The enrollment; with a staff id, it must be that staff member's."""
    row = uow.training.enrollment(enrollment_id, lock=lock)
    if staff_id is not None and uow.training.staff(staff_id).id != row.staff_row_id:
        raise Forbidden(f"enrollment {enrollment_id} is not {staff_id!r}'s", field="staff_id")
    return row


def _activity(course: Course, activity_id: str, kind: Any, label: str) -> Any:
    activity = course.activity(activity_id)
    if not isinstance(activity, kind):
        raise InvalidInput(
            f"{activity_id} is a {activity_kind(activity)}, not a {label}", field="activity_id"
        )
    return activity


def progress_of(uow: UnitOfWork, enrollment: EnrollmentRow) -> Progress:
    scores: dict[str, list[RubricScore]] = {}
    for row in uow.training.role_play_scores(enrollment.id):
        scores.setdefault(row.activity_id, []).append(
            RubricScore(float(row.percent), row.passed, row.ratings)
        )
    return Progress(
        done=frozenset(uow.training.done(enrollment.id)),
        quiz_attempts={k: tuple(v) for k, v in uow.training.attempts(enrollment.id).items()},
        role_play_scores={k: tuple(v) for k, v in scores.items()},
        sessions_attended=_sessions_attended(uow, enrollment),
    )


def _sessions_attended(uow: UnitOfWork, enrollment: EnrollmentRow) -> int:
    """Live sessions of the course attended since the learner's previous completion of
    it (a re-certification needs fresh attendance)."""
    earlier = [
        e.completed_at
        for e in uow.training.enrollments(enrollment.staff_row_id, enrollment.course_id)
        if e.id != enrollment.id and e.completed_at is not None
    ]
    since = max(earlier) if earlier else None
    return uow.training.sessions_attended(enrollment.staff_row_id, enrollment.course_id, since)


def complete_if_done(uow: UnitOfWork, row: EnrollmentRow, course: Course) -> bool:
    """Mark the enrollment complete and certify, the first time it is complete."""
    if row.completed_at is not None:
        return True
    staff = uow.training.staff_by_row_ids([row.staff_row_id])[row.staff_row_id]
    try:
        cert = issue_certificate(course, progress_of(uow, row), staff.staff_id, uow.clock())
    except RuleViolation:
        return False
    row.completed_at = cert.issued_at
    uow.training.add(
        CertificateRow(staff_row_id=row.staff_row_id, course_id=row.course_id,
                       enrollment_id=row.id, issued_at=cert.issued_at,
                       expires_at=cert.expires_at, remind_at=cert.remind_at)
    )  # fmt: skip
    return True


def mark_done(
    uow: UnitOfWork, enrollment_id: int, activity_id: str, staff_id: str | None = None
) -> dict[str, Any]:
    """A lesson read or a case study discussed (repeating it changes nothing)."""
    with uow:
        row = _owned(uow, enrollment_id, staff_id, lock=True)
        course = uow.training.course(row.course_id)
        _activity(course, activity_id, (Lesson, CaseStudy), "lesson or case study")
        if activity_id not in uow.training.done(row.id):
            uow.training.add(
                ActivityDoneRow(enrollment_id=row.id, activity_id=activity_id, done_at=uow.clock())
            )
        complete_if_done(uow, row, course)
        uow.commit()
        return enrollment_progress(uow, row)


def submit_attempt(
    uow: UnitOfWork,
    enrollment_id: int,
    quiz_id: str,
    answers: Mapping[str, Iterable[str]],
    staff_id: str | None = None,
    phase: str = "post",
) -> dict[str, Any]:
    """Score an attempt under the quiz's attempts policy. A "pre" attempt is the
    baseline for the learning gain: one per quiz, before any counted attempt."""
    if phase not in PHASES:
        raise InvalidInput("phase must be pre or post", field="phase")
    with uow:
        row = _owned(uow, enrollment_id, staff_id, lock=True)
        if row.completed_at is not None and phase == "pre":
            raise RuleViolation("the course is already complete", code="course_complete")
        course = uow.training.course(row.course_id)
        quiz: Quiz = _activity(course, quiz_id, Quiz, "quiz")
        earlier = uow.training.attempts(row.id, phase).get(quiz_id, [])
        if phase == "pre" and (earlier or uow.training.attempts(row.id).get(quiz_id)):
            raise RuleViolation(
                "the pre-test is taken once, before training", code="pre_test_taken"
            )
        attempt = submit_quiz(quiz, earlier, answers, uow.clock())
        uow.training.add(
            QuizAttemptRow(enrollment_id=row.id, activity_id=quiz_id, phase=phase,
                           number=attempt.number, points=attempt.points,
                           max_points=attempt.max_points,
                           answers={k: sorted(v) for k, v in answers.items()},
                           submitted_at=attempt.submitted_at)
        )  # fmt: skip
        completed = phase == "post" and complete_if_done(uow, row, course)
        uow.commit()
        limit = quiz.attempts.max_attempts
        decisive = counted_attempt(quiz, [*earlier, attempt]) if phase == "post" else None
        return {
            "enrollment_id": row.id,
            "quiz_id": quiz_id,
            "phase": phase,
            "number": attempt.number,
            "points": attempt.points,
            "max_points": attempt.max_points,
            "percent": round(attempt.percent, 2),
            "passed": quiz.passes(attempt),
            "attempts_left": None if limit is None else limit - attempt.number,
            "counted_percent": None if decisive is None else round(decisive.percent, 2),
            "course_completed": completed,
        }


def score_coached_role_play(
    uow: UnitOfWork, enrollment_id: int, role_play_id: str, ratings: Mapping[str, int], coach: str
) -> dict[str, Any]:
    with uow:
        row = _owned(uow, enrollment_id, None, lock=True)
        course = uow.training.course(row.course_id)
        play: RolePlay = _activity(course, role_play_id, RolePlay, "role play")
        score = score_role_play(play.rubric, ratings)
        uow.training.add(
            RolePlayScoreRow(enrollment_id=row.id, activity_id=role_play_id,
                             ratings=dict(ratings),
                             percent=Decimal(str(round(score.percent, 4))),
                             passed=score.passed, coach=coach, scored_at=uow.clock())
        )  # fmt: skip
        completed = complete_if_done(uow, row, course)
        uow.commit()
        return {
            "enrollment_id": row.id,
            "role_play_id": role_play_id,
            "percent": round(score.percent, 2),
            "passed": score.passed,
            "course_completed": completed,
        }


def submit_reaction(
    uow: UnitOfWork,
    enrollment_id: int,
    rating: int,
    relevance: int | None = None,
    comment: str | None = None,
    staff_id: str | None = None,
) -> dict[str, Any]:
    """Kirkpatrick level 1: once per completed enrollment, 1-5."""
    for value, name in ((rating, "rating"), (relevance, "relevance")):
        if value is not None and not 1 <= value <= 5:
            raise InvalidInput(f"{name} must be 1 to 5", field=name)
    with uow:
        row = _owned(uow, enrollment_id, staff_id, lock=True)
        if row.completed_at is None:
            raise RuleViolation("react after completing the course", code="course_not_complete")
        if uow.training.reaction(row.id) is not None:
            raise RuleViolation("the reaction was already given", code="reaction_given")
        uow.training.add(
            ReactionRow(enrollment_id=row.id, rating=rating, relevance=relevance,
                        comment=comment, submitted_at=uow.clock())
        )  # fmt: skip
        uow.commit()
        return {"enrollment_id": row.id, "rating": rating, "relevance": relevance}


# --- views -------------------------------------------------------------------------


def _status(activity: Activity, progress: Progress) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": activity.id,
        "kind": activity_kind(activity),
        "complete": activity_complete(activity, progress),
    }
    if isinstance(activity, Quiz):
        attempts = progress.quiz_attempts.get(activity.id, ())
        decisive = counted_attempt(activity, attempts)
        view["attempts"] = len(attempts)
        view["counted_percent"] = None if decisive is None else round(decisive.percent, 2)
    if isinstance(activity, Attendance):
        view["sessions_attended"] = progress.sessions_attended
        view["sessions_required"] = activity.sessions
    return view


def enrollment_progress(uow: UnitOfWork, row: EnrollmentRow) -> dict[str, Any]:
    course = uow.training.course(row.course_id)
    progress = progress_of(uow, row)
    modules = []
    for module in course.modules:
        statuses = [_status(a, progress) for a in module.activities]
        share = sum(s["complete"] for s in statuses) / len(statuses)
        modules.append({"id": module.id, "percent": round(100 * share, 1), "activities": statuses})
    total = sum(len(m.activities) for m in course.modules)
    done = sum(s["complete"] for m in modules for s in m["activities"])
    staff = uow.training.staff_by_row_ids([row.staff_row_id])[row.staff_row_id]
    return {
        "enrollment_id": row.id,
        "staff_id": staff.staff_id,
        "course_id": row.course_id,
        "percent": round(100 * done / total, 1),
        "completed_at": row.completed_at,
        "due_at": row.due_at,
        "modules": modules,
    }


def get_progress(uow: UnitOfWork, enrollment_id: int) -> dict[str, Any]:
    with uow:
        return enrollment_progress(uow, uow.training.enrollment(enrollment_id))


def certificate_view(row: CertificateRow, staff_id: str, at: datetime) -> dict[str, Any]:
    cert = Certificate(staff_id, str(row.course_id), row.issued_at, row.expires_at, row.remind_at)
    return {
        "id": row.id,
        "staff_id": staff_id,
        "course_id": row.course_id,
        "enrollment_id": row.enrollment_id,
        "issued_at": row.issued_at,
        "expires_at": row.expires_at,
        "remind_at": row.remind_at,
        "status": cert.status(at).value,
    }


def certificates(uow: UnitOfWork, staff_id: str | None = None) -> list[dict[str, Any]]:
    with uow:
        now = uow.clock()
        staff_row = None if staff_id is None else uow.training.staff(staff_id).id
        rows = uow.training.certificates(staff_row)
        staff = uow.training.staff_by_row_ids([r.staff_row_id for r in rows])
        return [certificate_view(r, staff[r.staff_row_id].staff_id, now) for r in rows]


def due_reminders(uow: UnitOfWork, as_of: datetime) -> list[dict[str, Any]]:
    """Staff whose newest certificate of a course is due for renewal or expired."""
    require_aware(as_of, "as_of")
    with uow:
        rows = uow.training.latest_certificates_due(as_of)
        staff = uow.training.staff_by_row_ids([r.staff_row_id for r in rows])
        return [
            {**certificate_view(r, staff[r.staff_row_id].staff_id, as_of),
             "name": staff[r.staff_row_id].name, "store": staff[r.staff_row_id].store}
            for r in rows
            if staff[r.staff_row_id].active
        ]  # fmt: skip


def learner_report(
    uow: UnitOfWork, store: str | None = None, course_id: int | None = None
) -> list[dict[str, Any]]:
    """One row per enrollment: progress, due date, overdue, completion."""
    with uow:
        now = uow.clock()
        staff = {s.id: s for s in uow.training.staff_list(store=store)}
        rows = []
        for row in uow.training.enrollments(course_id=course_id):
            if row.staff_row_id not in staff:
                continue
            view = enrollment_progress(uow, row)
            del view["modules"]
            view["store"] = staff[row.staff_row_id].store
            view["overdue"] = bool(row.completed_at is None and row.due_at and row.due_at < now)
            rows.append(view)
        return rows
