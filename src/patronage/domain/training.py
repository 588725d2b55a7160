"""Staff loyalty training: courses, completion, certificates and learning gain.

A course is a sequence of modules; a module is a topic with activities: lessons
(Markdown), quizzes, coached role plays and case studies. A learner completes a
course when every lesson and case study is done, every quiz is passed under its
attempts policy, every role play has a passing rubric score and every attendance
requirement is met (present at enough live sessions of the course). A completed
course earns a certificate that expires; a reminder date before expiry prompts
re-certification.

Evaluation follows Kirkpatrick's four levels; this module holds level 2 (the
pre/post quiz gain) and Phillips' return on investment. Level 4 (effect on
customers) lives in ``patronage.analytics.training_effect``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from patronage.clock import require_aware
from patronage.domain.training_assessment import (
    Quiz,
    QuizAttempt,
    Rubric,
    RubricScore,
    quiz_passed,
)
from patronage.errors import InvalidInput, RuleViolation


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    body_markdown: str


@dataclass(frozen=True)
class RolePlay:
    """A customer situation acted out by a learner and scored by a coach."""

    id: str
    title: str
    situation: str
    customer_brief: str
    learner_goal: str
    rubric: Rubric


@dataclass(frozen=True)
class CaseStudy:
    id: str
    title: str
    company: str
    summary: str
    discussion: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attendance:
    """Being present at ``sessions`` live sessions (lecture, workshop, drill) of the
    course's training plans, as recorded by the trainer."""

    id: str
    title: str
    sessions: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.sessions <= 100:
            raise InvalidInput(f"{self.id}: sessions must be 1 to 100", field="sessions")


Activity = Lesson | Quiz | RolePlay | CaseStudy | Attendance


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    activities: tuple[Activity, ...]

    def __post_init__(self) -> None:
        if not self.activities:
            raise InvalidInput(f"module {self.id} has no activities", field="activities")


@dataclass(frozen=True)
class CertificationPolicy:
    valid_days: int = 365
    remind_days_before: int = 30

    def __post_init__(self) -> None:
        if self.valid_days < 1:
            raise InvalidInput("valid_days must be positive", field="valid_days")
        if not 0 <= self.remind_days_before < self.valid_days:
            raise InvalidInput(
                "remind_days_before must be within validity", field="remind_days_before"
            )


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    language: str
    modules: tuple[Module, ...]
    certification: CertificationPolicy = field(default_factory=CertificationPolicy)

    def __post_init__(self) -> None:
        ids = [m.id for m in self.modules] + [a.id for a in self.activities]
        if not self.modules:
            raise InvalidInput(f"course {self.id} has no modules", field="modules")
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"course {self.id} repeats an id", field="modules")

    @property
    def activities(self) -> tuple[Activity, ...]:
        return tuple(a for m in self.modules for a in m.activities)

    def activity(self, activity_id: str) -> Activity:
        for a in self.activities:
            if a.id == activity_id:
                return a
        raise InvalidInput(f"course {self.id} has no activity {activity_id}", field="activity_id")


@dataclass(frozen=True)
class Progress:
    """What one learner has done in one course."""

    done: frozenset[str] = frozenset()  # lessons read, case studies discussed
    quiz_attempts: Mapping[str, tuple[QuizAttempt, ...]] = field(default_factory=dict)
    role_play_scores: Mapping[str, tuple[RubricScore, ...]] = field(default_factory=dict)
    sessions_attended: int = 0  # live sessions of the course the learner was present at


def activity_complete(activity: Activity, progress: Progress) -> bool:
    if isinstance(activity, Quiz):
        return quiz_passed(activity, progress.quiz_attempts.get(activity.id, ()))
    if isinstance(activity, RolePlay):
        return any(s.passed for s in progress.role_play_scores.get(activity.id, ()))
    if isinstance(activity, Attendance):
        return progress.sessions_attended >= activity.sessions
    return activity.id in progress.done


def missing_activities(course: Course, progress: Progress) -> tuple[str, ...]:
    """Ids of the activities still standing between the learner and completion."""
    return tuple(a.id for a in course.activities if not activity_complete(a, progress))


def course_complete(course: Course, progress: Progress) -> bool:
    return not missing_activities(course, progress)


def enrollment_reminder(
    due_at: datetime | None, completed_at: datetime | None, at: datetime, warn_days: int
) -> str | None:
    """The reminder an open enrollment calls for at ``at``: ``overdue`` once its due
    date has passed, ``due_soon`` within ``warn_days`` before it, else none."""
    require_aware(at, "at")
    if due_at is None or completed_at is not None:
        return None
    if at >= due_at:
        return "overdue"
    return "due_soon" if at >= due_at - timedelta(days=warn_days) else None


class CertificateStatus(StrEnum):
    VALID = "valid"
    RENEWAL_DUE = "renewal_due"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Certificate:
    staff_id: str
    course_id: str
    issued_at: datetime
    expires_at: datetime
    remind_at: datetime

    def status(self, at: datetime) -> CertificateStatus:
        require_aware(at, "at")
        if at >= self.expires_at:
            return CertificateStatus.EXPIRED
        if at >= self.remind_at:
            return CertificateStatus.RENEWAL_DUE
        return CertificateStatus.VALID


def issue_certificate(
    course: Course, progress: Progress, staff_id: str, at: datetime
) -> Certificate:
    """Certify a learner who has completed the course; refuse otherwise."""
    require_aware(at, "issued_at")
    missing = missing_activities(course, progress)
    if missing:
        raise RuleViolation(
            f"course {course.id} is not complete",
            code="course_not_complete",
            course_id=course.id,
            missing=list(missing),
        )
    policy = course.certification
    expires = at + timedelta(days=policy.valid_days)
    return Certificate(
        staff_id, course.id, at, expires, expires - timedelta(days=policy.remind_days_before)
    )


@dataclass(frozen=True)
class LearningGain:
    """Kirkpatrick level 2 for one learner: quiz percent before and after training."""

    pre_percent: float
    post_percent: float

    def __post_init__(self) -> None:
        for name in ("pre_percent", "post_percent"):
            if not 0.0 <= getattr(self, name) <= 100.0:
                raise InvalidInput(f"{name} must be within 0..100", field=name)

    @property
    def gain(self) -> float:
        """Raw gain in percentage points."""
        return self.post_percent - self.pre_percent

    @property
    def normalised_gain(self) -> float | None:
        """Hake's normalised gain: share of the possible improvement achieved."""
        room = 100.0 - self.pre_percent
        return None if room == 0 else self.gain / room


@dataclass(frozen=True)
class CohortGain:
    learners: int
    mean_pre: float
    mean_post: float
    mean_gain: float


def cohort_gain(gains: Sequence[LearningGain]) -> CohortGain:
    if not gains:
        raise InvalidInput("no pre/post scores to compare", field="gains")
    n = len(gains)
    pre = sum(g.pre_percent for g in gains) / n
    post = sum(g.post_percent for g in gains) / n
    return CohortGain(n, pre, post, post - pre)


@dataclass(frozen=True)
class Roi:
    benefit: Decimal
    cost: Decimal
    net_benefit: Decimal
    roi: Decimal  # a ratio: 0.5 means the training paid back 150 % of its cost


def phillips_roi(
    outcome_change: Decimal, value_per_unit: Decimal, affected: int, cost: Decimal
) -> Roi:
    """Phillips ROI: (outcome change x value per unit x affected interactions - cost) / cost."""
    if cost <= 0:
        raise InvalidInput("training cost must be positive", field="cost")
    if affected < 0:
        raise InvalidInput("affected interactions cannot be negative", field="affected")
    benefit = outcome_change * value_per_unit * affected
    net = benefit - cost
    return Roi(benefit, cost, net, net / cost)
