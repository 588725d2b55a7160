"""Staff training stored in real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.factories import Shop
from tests.training_data import plant_spend_effect, write_course
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.clock import FixedClock
from patronage.domain.training import Quiz, RolePlay
from patronage.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from patronage.services import training, training_progress
from patronage.services.training_evaluation import interactions, training_impact
from patronage.storage.training_tables import CourseModuleRow, CourseRow
from patronage.storage.uow import UnitOfWork
from patronage.training.starter import load_starter_course

runner = CliRunner()


def uow(engine: Engine, clock: FixedClock) -> UnitOfWork:
    return UnitOfWork(engine, clock)


def counts(engine: Engine) -> tuple[int, int]:
    with UnitOfWork(engine) as u:
        return (
            u.session.scalar(select(func.count()).select_from(CourseRow)) or 0,
            u.session.scalar(select(func.count()).select_from(CourseModuleRow)) or 0,
        )


def test_seed_is_idempotent_and_both_languages_load(engine: Engine, clock: FixedClock) -> None:
    first = training.seed_curriculum(uow(engine, clock))
    assert {(r["language"], r["status"]) for r in first} == {
        ("en", "created"),
        ("zh-CN", "created"),
    }
    before = counts(engine)
    second = training.seed_curriculum(uow(engine, clock))
    assert [r["status"] for r in second] == ["unchanged", "unchanged"]
    assert counts(engine) == before == (2, 18)
    with UnitOfWork(engine, clock) as u:
        for row in first:
            assert u.training.course(row["id"]) == load_starter_course(row["language"])


def test_seed_command_twice_changes_nothing(db_url: str, engine: Engine) -> None:
    result = runner.invoke(app, ["training", "seed", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    before = counts(engine)
    again = runner.invoke(app, ["training", "seed", "--db", db_url, "--lang", "both"])
    assert again.exit_code == 0, again.output
    assert again.output.count("unchanged") == 2
    assert counts(engine) == before
    bad = runner.invoke(app, ["training", "seed", "--db", db_url, "--lang", "fr"])
    assert bad.exit_code == 2


def enrolled(engine: Engine, clock: FixedClock, staff_id: str = "s1") -> tuple[int, int]:
    """(course id of the English starter course, enrollment id)."""
    course_id = training.seed_curriculum(uow(engine, clock), ["en"])[0]["id"]
    training.add_staff(uow(engine, clock), staff_id, "Wang Fang", "sh-01", "cashier")
    return course_id, training.enroll(uow(engine, clock), staff_id, course_id)["id"]


def complete(engine: Engine, clock: FixedClock, enrollment_id: int) -> None:
    for activity in load_starter_course("en").activities:
        if isinstance(activity, Quiz):
            right = {q.id: sorted(q.correct) for q in activity.questions}
            training_progress.submit_attempt(uow(engine, clock), enrollment_id, activity.id, right)
        elif isinstance(activity, RolePlay):
            top = {c.id: c.top for c in activity.rubric.criteria}
            training_progress.score_coached_role_play(
                uow(engine, clock), enrollment_id, activity.id, top, "coach"
            )
        else:
            training_progress.mark_done(uow(engine, clock), enrollment_id, activity.id)


def test_attempts_policy_and_pre_test(engine: Engine, clock: FixedClock) -> None:
    _, enrollment = enrolled(engine, clock)
    quiz = next(a for a in load_starter_course("en").activities if isinstance(a, Quiz))
    wrong = {q.id: [] for q in quiz.questions}
    pre = training_progress.submit_attempt(
        uow(engine, clock), enrollment, quiz.id, wrong, "s1", phase="pre"
    )
    assert pre["points"] == 0
    with pytest.raises(RuleViolation) as again:
        training_progress.submit_attempt(
            uow(engine, clock), enrollment, quiz.id, wrong, "s1", phase="pre"
        )
    assert again.value.code == "pre_test_taken"
    for number in (1, 2, 3):
        result = training_progress.submit_attempt(uow(engine, clock), enrollment, quiz.id, wrong)
        assert (result["number"], result["passed"]) == (number, False)
    assert result["attempts_left"] == 0
    with pytest.raises(RuleViolation) as refused:
        training_progress.submit_attempt(uow(engine, clock), enrollment, quiz.id, wrong)
    assert refused.value.code == "no_attempts_left"
    training.add_staff(uow(engine, clock), "s2", "Other")
    with pytest.raises(Forbidden):
        training_progress.submit_attempt(uow(engine, clock), enrollment, quiz.id, wrong, "s2")
    with pytest.raises(InvalidInput):
        training_progress.submit_attempt(uow(engine, clock), enrollment, "no-such-quiz", wrong)


def test_bad_input_names_what_is_wrong(engine: Engine, clock: FixedClock) -> None:
    course_id, _ = enrolled(engine, clock)
    with pytest.raises(NotFound):
        training.enroll(uow(engine, clock), "nobody", course_id)
    with pytest.raises(NotFound):
        training.enroll(uow(engine, clock), "s1", 999)
    with pytest.raises(Conflict) as twice:
        training.enroll(uow(engine, clock), "s1", course_id)
    assert twice.value.code == "already_enrolled"
    with pytest.raises(Conflict):
        training.add_staff(uow(engine, clock), "s1", "Again")


def test_completion_certificate_expiry_and_reminders(engine: Engine, clock: FixedClock) -> None:
    course_id, enrollment = enrolled(engine, clock)
    assert training_progress.get_progress(uow(engine, clock), enrollment)["completed_at"] is None
    complete(engine, clock, enrollment)
    progress = training_progress.get_progress(uow(engine, clock), enrollment)
    assert progress["percent"] == 100.0
    assert progress["completed_at"] == clock()
    [cert] = training_progress.certificates(uow(engine, clock), "s1")
    assert cert["expires_at"] == clock() + timedelta(days=365)
    assert cert["status"] == "valid"
    remind = clock() + timedelta(days=335)
    assert training_progress.due_reminders(uow(engine, clock), remind - timedelta(seconds=1)) == []
    [due] = training_progress.due_reminders(uow(engine, clock), remind)
    assert (due["staff_id"], due["status"]) == ("s1", "renewal_due")
    [late] = training_progress.due_reminders(uow(engine, clock), clock() + timedelta(days=366))
    assert late["status"] == "expired"
    later = FixedClock(clock() + timedelta(days=340))
    renewal = training.enroll(uow(engine, later), "s1", course_id)["id"]
    complete(engine, later, renewal)
    assert training_progress.due_reminders(uow(engine, later), remind + timedelta(days=6)) == []
    training.update_staff(uow(engine, clock), "s1", {"active": False})
    assert training_progress.due_reminders(uow(engine, later), later() + timedelta(days=400)) == []


def test_reminders_command(db_url: str, engine: Engine, clock: FixedClock) -> None:
    _, enrollment = enrolled(engine, clock)
    complete(engine, clock, enrollment)
    args = ["training", "reminders", "--db", db_url, "--json", "--as-of"]
    result = runner.invoke(app, [*args, "2027-02-20"])
    assert result.exit_code == 0, result.output
    assert [r["staff_id"] for r in json.loads(result.output)] == ["s1"]
    assert json.loads(runner.invoke(app, [*args, "2026-06-01"]).output) == []
    assert runner.invoke(app, [*args, "someday"]).exit_code == 2


def test_reaction_and_learning_gain(engine: Engine, clock: FixedClock) -> None:
    _, enrollment = enrolled(engine, clock)
    quiz = next(a for a in load_starter_course("en").activities if isinstance(a, Quiz))
    none = {q.id: [] for q in quiz.questions}
    training_progress.submit_attempt(uow(engine, clock), enrollment, quiz.id, none, phase="pre")
    with pytest.raises(RuleViolation):
        training_progress.submit_reaction(uow(engine, clock), enrollment, 5)
    complete(engine, clock, enrollment)
    training_progress.submit_reaction(uow(engine, clock), enrollment, 4, 5, "useful")
    from patronage.services.training_evaluation import kirkpatrick

    report = kirkpatrick(uow(engine, clock))
    assert report["level1_reaction"]["by_store"] == [
        {"store": "sh-01", "responses": 1, "mean_rating": 4.0}
    ]
    gain = report["level2_learning"]
    assert (gain["learners"], gain["mean_pre_percent"], gain["mean_post_percent"]) == (1, 0, 100)
    assert report["level3_behaviour"][0]["staff_id"] == "s1"


def test_repeat_purchase_outcome_from_events(engine: Engine, clock: FixedClock) -> None:
    shop = Shop(engine, clock)
    alice, bob = shop.member("alice"), shop.member("bob")
    start = clock() - timedelta(days=100)
    shop.buy(alice, "10", at=start, staff_id="s1")
    shop.buy(alice, "10", at=start + timedelta(days=20))  # no staff: not an interaction
    shop.buy(bob, "10", at=start, staff_id="s2")
    shop.buy(bob, "10", at=start + timedelta(days=40), staff_id="s2")
    shop.buy(bob, "10", at=clock() - timedelta(days=5), staff_id="s2")  # window not over
    with UnitOfWork(engine, clock) as u:
        frame = interactions(u, "repeat_purchase_30d", clock())
    got = sorted(zip(frame["staff_id"], frame["outcome"], strict=True))
    assert got == [("s1", 1.0), ("s2", 0.0), ("s2", 0.0)]
    with UnitOfWork(engine, clock) as u, pytest.raises(InvalidInput):
        interactions(u, "happiness", clock())


@pytest.mark.parametrize("effect", [8.0, 0.0])
def test_evaluate_from_the_database_recovers_a_planted_effect(
    engine: Engine, clock: FixedClock, effect: float
) -> None:
    staff = plant_spend_effect(engine, clock, effect)
    payload = training_impact(uow(engine, clock), "spend", course="loyalty-starter")
    low, high = payload["ci95"]
    assert low <= effect <= high
    assert high - low < 6
    assert payload["staff_treated"] == staff["trained"]
    assert payload["staff_control"] == staff["never"]
    assert payload["interactions"] == 40 * 8 * 5
    roi = training_impact(uow(engine, clock), "spend", roi=(Decimal(1), Decimal(1000)))["roi"]
    assert roi["affected_interactions"] > 0


def test_evaluate_command_on_the_database(db_url: str, engine: Engine, clock: FixedClock) -> None:
    base = ["training", "evaluate", "--db", db_url, "--outcome", "spend"]
    empty = runner.invoke(app, base)
    assert empty.exit_code == 2
    plant_spend_effect(engine, clock, 8.0, n_staff=24)
    result = runner.invoke(app, [*base, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ci95"][0] <= 8.0 <= payload["ci95"][1]
    assert {"effect", "method", "event_study", "staff_treated", "interactions"} <= set(payload)
    unknown = runner.invoke(app, [*base, "--course", "no-such-course"])
    assert unknown.exit_code == 2
    assert runner.invoke(app, [*base[:-1], "happiness"]).exit_code == 2


def test_plan_audience_sessions_and_attendance(engine: Engine, clock: FixedClock) -> None:
    course_id = training.seed_curriculum(uow(engine, clock), ["zh-CN"])[0]["id"]
    for staff_id, store, role in [("a", "x", "cashier"), ("b", "y", "cashier"), ("c", "x", "chef")]:
        training.add_staff(uow(engine, clock), staff_id, staff_id.upper(), store, role)
    start = datetime(2026, 4, 1, 9, tzinfo=UTC)
    plan = training.create_plan(
        uow(engine, clock),
        training.NewPlan(
            name="Spring wave",
            course_id=course_id,
            goals=("NPS +5",),
            roles=("cashier",),
            starts_at=start,
            due_at=start + timedelta(days=30),
            sessions=(training.LiveSession("Role-play drill", start, start + timedelta(hours=2)),),
        ),
        "test",
    )
    first = training.enroll_plan_audience(uow(engine, clock), plan["id"])
    assert first["enrolled"] == ["a", "b"]
    assert training.enroll_plan_audience(uow(engine, clock), plan["id"])["enrolled"] == []
    session_id = plan["sessions"][0]["id"]
    training.record_attendance(uow(engine, clock), session_id, "a", True, "test")
    training.record_attendance(uow(engine, clock), session_id, "b", False, "test")
    assert training.get_plan(uow(engine, clock), plan["id"])["sessions"][0]["present"] == ["a"]


def past_sessions(engine: Engine, clock: FixedClock, course_id: int, n: int) -> list[int]:
    """A plan for the course with ``n`` live sessions held over the last days."""
    start = clock() - timedelta(days=10)
    sessions = tuple(
        training.LiveSession(
            f"Drill {i}", start + timedelta(days=i), start + timedelta(days=i, hours=2)
        )
        for i in range(n)
    )
    plan = training.NewPlan(name="Drills", course_id=course_id, sessions=sessions)
    return [s["id"] for s in training.create_plan(uow(engine, clock), plan, "test")["sessions"]]


def test_attending_live_sessions_completes_a_course_that_asks_for_it(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    folder = write_course(
        tmp_path / "course", "{kind: attendance, id: drill, title: Drill, sessions: 2}"
    )
    course_id = training.install_course(uow(engine, clock), folder)["id"]
    training.add_staff(uow(engine, clock), "s1", "Wang Fang", "sh-01", "cashier")
    enrollment = training.enroll(uow(engine, clock), "s1", course_id)["id"]
    first, second = past_sessions(engine, clock, course_id, 2)
    starter = training.seed_curriculum(uow(engine, clock), ["en"])[0]["id"]
    [elsewhere] = past_sessions(engine, clock, starter, 1)
    training_progress.mark_done(uow(engine, clock), enrollment, "intro")

    def attend(session_id: int, present: bool = True, at: FixedClock = clock) -> bool:
        result = training.record_attendance(uow(engine, at), session_id, "s1", present, "coach")
        return bool(result["course_completed"])

    assert not attend(elsewhere)  # another course's session
    assert not attend(first, present=False)
    assert not attend(first)
    [drill] = training_progress.get_progress(uow(engine, clock), enrollment)["modules"][0][
        "activities"
    ][1:]
    assert (drill["kind"], drill["complete"], drill["sessions_attended"]) == (
        "attendance",
        False,
        1,
    )
    assert drill["sessions_required"] == 2
    with pytest.raises(InvalidInput):  # attendance is recorded by the trainer, not ticked off
        training_progress.mark_done(uow(engine, clock), enrollment, "drill")
    assert attend(second)
    [cert] = training_progress.certificates(uow(engine, clock), "s1")
    assert (cert["course_id"], cert["issued_at"]) == (course_id, clock())

    later = FixedClock(clock() + timedelta(days=340))  # re-certification needs fresh attendance
    renewal = training.enroll(uow(engine, later), "s1", course_id)["id"]
    training_progress.mark_done(uow(engine, later), renewal, "intro")
    assert training_progress.get_progress(uow(engine, later), renewal)["completed_at"] is None
    third, fourth = past_sessions(engine, later, course_id, 2)
    assert not attend(third, at=later)
    assert attend(fourth, at=later)


def test_seed_from_a_folder_installs_a_course_of_ones_own(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    folder = write_course(tmp_path / "good", "{kind: attendance, id: drill, title: Drill}")
    args = ["training", "seed", "--db", db_url, "--from", str(folder)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "course counter-care (en): created" in first.output
    assert "unchanged" in runner.invoke(app, args).output
    assert counts(engine) == (1, 1)
    bad = write_course(
        tmp_path / "bad", "{kind: attendance, id: drill, title: Drill, sessions: two}"
    )
    refused = runner.invoke(app, ["training", "seed", "--db", db_url, "--from", str(bad)])
    assert refused.exit_code == 2 and "sessions" in refused.output
    missing = runner.invoke(
        app, ["training", "seed", "--db", db_url, "--from", str(tmp_path / "x")]
    )
    assert missing.exit_code == 2
    assert counts(engine) == (1, 1)
