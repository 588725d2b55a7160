from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from patronage.domain.training import (
    Attendance,
    CaseStudy,
    CertificateStatus,
    CertificationPolicy,
    Course,
    LearningGain,
    Lesson,
    Module,
    Progress,
    RolePlay,
    cohort_gain,
    course_complete,
    enrollment_reminder,
    issue_certificate,
    missing_activities,
    phillips_roi,
)
from patronage.domain.training_assessment import (
    AttemptsPolicy,
    Choice,
    CountedAttempt,
    Question,
    QuestionKind,
    Quiz,
    Rubric,
    RubricCriterion,
    RubricLevel,
    counted_attempt,
    quiz_passed,
    score_role_play,
    submit_quiz,
)
from patronage.errors import InvalidInput, RuleViolation
from patronage.training.course_codec import activity_from_json, activity_to_json

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ABC = (Choice("a", "A"), Choice("b", "B"), Choice("c", "C"))


def make_quiz(
    max_attempts: int | None = 2, counts: CountedAttempt = CountedAttempt.HIGHEST
) -> Quiz:
    return Quiz(
        "q1",
        "Loyalty basics",
        (
            Question("single", QuestionKind.SINGLE, "Pick b", ABC, frozenset({"b"})),
            Question("multi", QuestionKind.MULTIPLE, "Pick a and c", ABC, frozenset({"a", "c"})),
        ),
        pass_mark_percent=100,
        attempts=AttemptsPolicy(max_attempts, counts),
    )


def make_rubric() -> Rubric:
    scale = (RubricLevel(0, "absent"), RubricLevel(1, "partly"), RubricLevel(2, "fully"))
    return Rubric(
        (RubricCriterion("empathy", "Empathy", 3, scale), RubricCriterion("fix", "Fix", 1, scale)),
        pass_mark_percent=70,
    )


def make_course(quiz: Quiz | None = None) -> Course:
    role_play = RolePlay("rp", "Expired points", "situation", "brief", "goal", make_rubric())
    return Course(
        "loyalty",
        "Loyalty",
        "en",
        (
            Module("m1", "Theory", (Lesson("l1", "Intro", "# Hi"), quiz or make_quiz())),
            Module("m2", "Practice", (role_play, CaseStudy("cs", "Case", "Acme", "summary"))),
        ),
        CertificationPolicy(valid_days=365, remind_days_before=30),
    )


def test_multiple_choice_is_all_or_nothing() -> None:
    question = make_quiz().questions[1]
    assert question.score({"a", "c"}) == 1
    assert question.score({"a"}) == 0
    assert question.score({"a", "b", "c"}) == 0
    assert question.score(()) == 0


def test_single_choice_refuses_two_answers_and_unknown_choices() -> None:
    question = make_quiz().questions[0]
    with pytest.raises(InvalidInput) as exc:
        question.score({"a", "b"})
    assert exc.value.details["field"] == "single"
    with pytest.raises(InvalidInput):
        question.score({"z"})


def test_question_definition_is_validated() -> None:
    with pytest.raises(InvalidInput) as exc:
        Question("x", QuestionKind.SINGLE, "?", ABC, frozenset({"a", "b"}))
    assert exc.value.details["field"] == "correct"
    with pytest.raises(InvalidInput):
        Question("x", QuestionKind.MULTIPLE, "?", ABC, frozenset({"d"}))


def test_attempts_run_out() -> None:
    quiz = make_quiz(max_attempts=2)
    first = submit_quiz(quiz, [], {"single": ["a"]}, T0)
    second = submit_quiz(quiz, [first], {"single": ["b"]}, T0 + timedelta(hours=1))
    assert (first.points, second.points, second.number) == (0, 1, 2)
    with pytest.raises(RuleViolation) as exc:
        submit_quiz(quiz, [first, second], {"single": ["b"]}, T0 + timedelta(hours=2))
    assert exc.value.code == "no_attempts_left"


def test_unlimited_attempts_and_naive_time_refused() -> None:
    quiz = make_quiz(max_attempts=None)
    attempts = [submit_quiz(quiz, [], {}, T0)] * 10
    assert submit_quiz(quiz, attempts, {}, T0).number == 11
    with pytest.raises(InvalidInput):
        submit_quiz(quiz, [], {}, datetime(2026, 1, 1))  # noqa: DTZ001


def test_highest_attempt_counts_or_last_attempt_counts() -> None:
    answers_full = {"single": ["b"], "multi": ["a", "c"]}
    highest = make_quiz(counts=CountedAttempt.HIGHEST)
    good = submit_quiz(highest, [], answers_full, T0)
    worse = submit_quiz(highest, [good], {"single": ["b"]}, T0 + timedelta(days=1))
    assert counted_attempt(highest, [good, worse]) == good
    assert quiz_passed(highest, [good, worse])

    last = make_quiz(counts=CountedAttempt.LAST)
    assert counted_attempt(last, [good, worse]) == worse
    assert not quiz_passed(last, [good, worse])
    assert not quiz_passed(last, [])


def test_pass_mark_is_inclusive() -> None:
    quiz = Quiz("q", "t", make_quiz().questions, pass_mark_percent=50)
    half = submit_quiz(quiz, [], {"single": ["b"]}, T0)
    assert half.percent == 50.0
    assert quiz.passes(half)


def test_rubric_weights_the_criteria() -> None:
    score = score_role_play(make_rubric(), {"empathy": 2, "fix": 0})
    assert score.percent == pytest.approx(75.0)
    assert score.passed
    assert not score_role_play(make_rubric(), {"empathy": 1, "fix": 2}).passed  # 62.5 %


def test_rubric_needs_every_criterion_and_known_levels() -> None:
    with pytest.raises(InvalidInput) as exc:
        score_role_play(make_rubric(), {"empathy": 2})
    assert exc.value.details["field"] == "fix"
    with pytest.raises(InvalidInput):
        score_role_play(make_rubric(), {"empathy": 5, "fix": 1})


def test_course_completion_needs_every_activity() -> None:
    course = make_course()
    quiz = course.activity("q1")
    assert isinstance(quiz, Quiz)
    passed = submit_quiz(quiz, [], {"single": ["b"], "multi": ["a", "c"]}, T0)
    progress = Progress(done=frozenset({"l1"}), quiz_attempts={"q1": (passed,)})
    assert missing_activities(course, progress) == ("rp", "cs")

    coached = score_role_play(make_rubric(), {"empathy": 2, "fix": 2})
    finished = Progress(
        done=frozenset({"l1", "cs"}),
        quiz_attempts={"q1": (passed,)},
        role_play_scores={"rp": (coached,)},
    )
    assert course_complete(course, finished)


def test_failed_role_play_keeps_course_open() -> None:
    course = make_course()
    failing = score_role_play(make_rubric(), {"empathy": 0, "fix": 2})
    progress = Progress(role_play_scores={"rp": (failing,)})
    assert "rp" in missing_activities(course, progress)


def test_certificate_refused_until_complete() -> None:
    with pytest.raises(RuleViolation) as exc:
        issue_certificate(make_course(), Progress(), "staff-1", T0)
    assert exc.value.code == "course_not_complete"
    assert exc.value.details["missing"] == ["l1", "q1", "rp", "cs"]


def test_certificate_expires_with_reminder() -> None:
    course = make_course()
    quiz = course.activity("q1")
    assert isinstance(quiz, Quiz)
    passed = submit_quiz(quiz, [], {"single": ["b"], "multi": ["a", "c"]}, T0)
    coached = score_role_play(make_rubric(), {"empathy": 2, "fix": 2})
    progress = Progress(frozenset({"l1", "cs"}), {"q1": (passed,)}, {"rp": (coached,)})
    cert = issue_certificate(course, progress, "staff-1", T0)
    assert cert.expires_at == T0 + timedelta(days=365)
    assert cert.remind_at == T0 + timedelta(days=335)
    assert cert.status(T0 + timedelta(days=334)) is CertificateStatus.VALID
    assert cert.status(T0 + timedelta(days=335)) is CertificateStatus.RENEWAL_DUE
    assert cert.status(T0 + timedelta(days=365)) is CertificateStatus.EXPIRED


def test_attendance_at_live_sessions_can_complete_a_module() -> None:
    drill = Attendance("drill", "Complaint drill workshop", sessions=2)
    course = Course(
        "c", "Care", "en", (Module("m", "Drills", (Lesson("l1", "Intro", "x"), drill)),)
    )
    read = frozenset({"l1"})
    assert missing_activities(course, Progress(done=read, sessions_attended=1)) == ("drill",)
    assert course_complete(course, Progress(done=read, sessions_attended=2))
    assert not course_complete(course, Progress(sessions_attended=5))  # the lesson still counts
    assert activity_from_json(activity_to_json(drill)) == drill
    for sessions in (0, 101):
        with pytest.raises(InvalidInput) as bad:
            Attendance("drill", "Drill", sessions)
        assert bad.value.details["field"] == "sessions"


def test_enrollment_reminders_before_and_after_the_due_date() -> None:
    due = T0 + timedelta(days=10)
    assert enrollment_reminder(due, None, T0, 7) is None
    assert enrollment_reminder(due, None, due - timedelta(days=7), 7) == "due_soon"
    assert enrollment_reminder(due, None, due - timedelta(seconds=1), 7) == "due_soon"
    assert enrollment_reminder(due, None, due, 7) == "overdue"
    assert enrollment_reminder(due, T0, due + timedelta(days=3), 7) is None  # completed
    assert enrollment_reminder(None, None, due, 7) is None  # no due date
    with pytest.raises(InvalidInput):
        enrollment_reminder(due, None, datetime(2026, 1, 5), 7)  # noqa: DTZ001 - naive on purpose


def test_course_refuses_repeated_ids() -> None:
    with pytest.raises(InvalidInput):
        Course("c", "c", "en", (Module("m", "m", (Lesson("m", "dup", "x"),)),))


def test_learning_gain() -> None:
    gain = LearningGain(40.0, 70.0)
    assert gain.gain == 30.0
    assert gain.normalised_gain == pytest.approx(0.5)
    assert LearningGain(100.0, 100.0).normalised_gain is None
    cohort = cohort_gain([gain, LearningGain(60.0, 80.0)])
    assert (cohort.learners, cohort.mean_gain) == (2, 25.0)
    with pytest.raises(InvalidInput):
        LearningGain(-1.0, 50.0)


def test_phillips_roi() -> None:
    roi = phillips_roi(Decimal("0.2"), Decimal("50"), 1000, Decimal("4000"))
    assert roi.benefit == Decimal("10000")
    assert roi.roi == Decimal("1.5")
    with pytest.raises(InvalidInput) as exc:
        phillips_roi(Decimal("1"), Decimal("1"), 1, Decimal("0"))
    assert exc.value.details["field"] == "cost"
