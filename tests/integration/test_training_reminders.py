"""Training reminders as a job (`jobs run training-reminders` and the server's
scheduler) on SQLite and PostgreSQL: each reminder once, announced to subscribers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from tests.training_data import write_course
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.clock import FixedClock
from patronage.services import training, training_progress
from patronage.services.jobs import JOBS
from patronage.services.outbox import add_subscriber
from patronage.services.programs import ensure_default_program
from patronage.services.scheduler import run_due_jobs
from patronage.services.training_reminders import send_training_reminders
from patronage.storage.tables import OutboxRow
from patronage.storage.training_reminder_tables import TrainingReminderRow
from patronage.storage.uow import UnitOfWork

runner = CliRunner()


def course(engine: Engine, clock: FixedClock, folder: Path) -> int:
    """A one-lesson course, so a learner completes it by reading the lesson."""
    ensure_default_program(UnitOfWork(engine, clock))
    return int(training.install_course(UnitOfWork(engine, clock), write_course(folder))["id"])


def enrolled(engine: Engine, clock: FixedClock, course_id: int, staff_id: str, due: int) -> int:
    """``staff_id`` enrolled, due ``due`` days from the clock."""
    training.add_staff(UnitOfWork(engine, clock), staff_id, staff_id.title(), "sh-01", "cashier")
    due_at = clock() + timedelta(days=due)
    return int(training.enroll(UnitOfWork(engine, clock), staff_id, course_id, due_at)["id"])


def webhook_events(engine: Engine) -> list[dict[str, object]]:
    with UnitOfWork(engine) as uow:
        rows = uow.session.scalars(
            select(OutboxRow.payload).where(OutboxRow.template == "training.reminder")
        ).all()
    return [dict(r) for r in rows]


def test_each_reminder_is_sent_once_and_told_to_subscribers(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    course_id = course(engine, clock, tmp_path / "course")
    add_subscriber(
        UnitOfWork(engine, clock), "default", "http://127.0.0.1:9/h", ["training.reminder"]
    )
    enrolled(engine, clock, course_id, "soon", 3)
    enrolled(engine, clock, course_id, "late", -1)
    enrolled(engine, clock, course_id, "relaxed", 30)
    enrolled(engine, clock, course_id, "gone", -1)
    training.update_staff(UnitOfWork(engine, clock), "gone", {"active": False})
    year_ago = FixedClock(clock() - timedelta(days=340))  # certificate: remind from day 335
    done = enrolled(engine, year_ago, course_id, "certified", 10)
    training_progress.mark_done(UnitOfWork(engine, year_ago), done, "intro")

    first = send_training_reminders(UnitOfWork(engine, clock), clock())
    assert first == Counter({"due_soon": 1, "overdue": 1, "renewal_due": 1})
    again = send_training_reminders(UnitOfWork(engine, clock), clock())
    assert again == Counter({"already_sent": 3})
    told = {(e["staff_id"], e["kind"]) for e in webhook_events(engine)}
    assert told == {("soon", "due_soon"), ("late", "overdue"), ("certified", "renewal_due")}
    [event] = [e for e in webhook_events(engine) if e["staff_id"] == "soon"]
    assert (
        event["course"] == "counter-care"
        and event["due_at"] == (clock() + timedelta(days=3)).isoformat()
    )

    in_a_month = FixedClock(clock() + timedelta(days=30))
    training.enroll(UnitOfWork(engine, in_a_month), "certified", course_id)  # re-certifying
    later = send_training_reminders(UnitOfWork(engine, in_a_month), in_a_month())
    assert later == Counter({"overdue": 2, "already_sent": 1})  # "soon" and "relaxed" now late
    with UnitOfWork(engine) as uow:
        kinds = Counter(uow.session.scalars(select(TrainingReminderRow.kind)).all())
    assert kinds == Counter({"overdue": 3, "due_soon": 1, "renewal_due": 1})  # no "expired"


def test_the_job_runs_by_name_and_in_the_scheduler(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    now = FixedClock(datetime.now(UTC))
    course_id = course(engine, now, tmp_path / "course")
    enrolled(engine, now, course_id, "soon", 2)
    enrolled(engine, now, course_id, "late", -2)
    as_of = (now() + timedelta(days=3)).isoformat()
    args = ["jobs", "run", "training-reminders", "--db", db_url]
    result = runner.invoke(app, [*args, "--as-of", as_of])
    assert result.exit_code == 0, result.output
    assert "'overdue': 2" in result.output
    assert "training reminders" in JOBS["training-reminders"](UnitOfWork(engine), "default", now())

    fresh = enrolled(engine, now, course_id, "fresh", 1)
    run_due_jobs(engine)  # the server's scheduler pass, at the real time
    with UnitOfWork(engine) as uow:
        reminded = uow.session.scalars(
            select(TrainingReminderRow.kind).where(TrainingReminderRow.enrollment_id == fresh)
        ).all()
        total = uow.session.scalar(select(func.count()).select_from(TrainingReminderRow))
    assert (reminded, total) == (["due_soon"], 4)  # and "soon" is now due soon
    assert runner.invoke(app, [*args, "--as-of", "someday"]).exit_code == 2
