"""Complaints through the stored path, on SQLite and PostgreSQL: SLA clocks in
business hours of the stored calendar, pauses, escalation, recovery, report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.errors import InvalidInput, NotFound, RuleViolation
from patronage.services import complaints as care
from patronage.services.complaint_report import complaints_report
from patronage.services.escalation import escalate_complaints
from patronage.services.recovery import approve_recovery, request_recovery
from patronage.services.sla_setup import set_calendar
from patronage.storage.tables import (
    ComplaintNoteRow,
    ComplaintRow,
    ComplaintStatusRow,
    LedgerEntryRow,
    SurveyInvitationRow,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0, month: int = 4) -> datetime:
    """2026 in Shanghai; 3 April 2026 is a Friday, 6 April (Qingming) a Monday."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    return Shop(engine, clock)


def count(engine: Engine, row: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(row)) or 0)


def file(shop: Shop, member_id: int, severity: str = "high", **extra: object) -> dict:  # type: ignore[type-arg]
    request = care.NewComplaint(
        member_id=member_id,
        category="delivery",
        severity=severity,
        subject="late delivery",
        channel="phone",
        **extra,  # type: ignore[arg-type]
    )
    return care.file_complaint(shop.uow(), request, "staff:li")


def test_filed_friday_17h_before_a_holiday_is_due_tuesday(shop: Shop) -> None:
    set_calendar(shop.uow(), add_holidays=[date(2026, 4, 6)])
    member = shop.member()
    shop.clock.now = local(3, 17)
    complaint = file(shop, member.id, assignee="li")
    first = complaint["clocks"]["first_response"]
    # high: 2 business hours; Fri 17-18 is one, Mon is a holiday, Tue 09-10 the other
    assert datetime.fromisoformat(first["due_at"]) == local(7, 10)
    assert complaint["history"][0]["status"] == "new"
    assert [h["status"] for h in complaint["history"]] == ["new", "assigned"]
    shop.clock.now = local(7, 9, 45)  # Saturday to Monday do not count
    view = care.get_complaint(shop.uow(), complaint["id"])
    assert view["clocks"]["first_response"]["elapsed_hours"] == 1.75
    assert view["clocks"]["first_response"]["state"] == "at_risk"


def test_waiting_on_the_customer_pauses_and_resuming_runs_on(shop: Shop) -> None:
    member = shop.member()
    shop.clock.now = local(8, 9)  # Wednesday
    complaint = file(shop, member.id, severity="medium", assignee="li")
    shop.clock.now = local(8, 10)
    care.respond(
        shop.uow(), complaint["id"], "could you send a photo?", "li", wait_for_customer=True
    )
    shop.clock.now = local(9, 15)  # a day and more later: paused all the time
    paused = care.get_complaint(shop.uow(), complaint["id"])["clocks"]["resolution"]
    assert (paused["elapsed_hours"], paused["paused"], paused["due_at"]) == (1.0, True, None)
    care.change_status(shop.uow(), complaint["id"], "in_progress", "li")
    shop.clock.now = local(9, 17)
    running = care.get_complaint(shop.uow(), complaint["id"])
    assert running["clocks"]["resolution"]["elapsed_hours"] == 3.0
    assert running["clocks"]["first_response"]["state"] == "met"
    assert [h["status"] for h in running["history"]] == [
        "new",
        "assigned",
        "in_progress",
        "waiting_on_customer",
        "in_progress",
    ]


def test_escalation_is_recorded_once_per_clock_and_state(shop: Shop) -> None:
    member = shop.member()
    shop.clock.now = local(8, 9)
    complaint = file(shop, member.id, severity="critical")  # 1 h to first response
    shop.clock.now = local(8, 9, 50)
    at_risk = escalate_complaints(shop.uow())
    assert [(e.complaint_id, e.clock, e.state, e.new) for e in at_risk] == [
        (complaint["id"], "first_response", "at_risk", True)
    ]
    assert [e.new for e in escalate_complaints(shop.uow())] == [False]
    shop.clock.now = local(8, 11)
    breached = escalate_complaints(shop.uow())
    assert [(e.clock, e.state, e.new) for e in breached] == [("first_response", "breached", True)]
    view = care.get_complaint(shop.uow(), complaint["id"])
    assert [(e["clock"], e["state"]) for e in view["escalations"]] == [
        ("first_response", "at_risk"),
        ("first_response", "breached"),
    ]
    assert view["needs_escalation"] is True


def test_unknown_member_writes_nothing(shop: Shop, engine: Engine) -> None:
    shop.member()
    before = [count(engine, r) for r in (ComplaintRow, ComplaintStatusRow, ComplaintNoteRow)]
    with pytest.raises(NotFound) as raised:
        file(shop, 999_999)
    assert raised.value.details == {"member_id": 999_999}
    after = [count(engine, r) for r in (ComplaintRow, ComplaintStatusRow, ComplaintNoteRow)]
    assert after == before


def test_order_must_exist_and_be_the_members(shop: Shop, engine: Engine) -> None:
    alice, bob = shop.member("a"), shop.member("b")
    shop.buy(alice, "10.00", order_id="o-a")
    with pytest.raises(NotFound):
        file(shop, alice.id, order_id="nope")
    with pytest.raises(InvalidInput) as raised:
        file(shop, bob.id, order_id="o-a")
    assert raised.value.details["field"] == "order_id"
    assert count(engine, ComplaintRow) == 0
    assert file(shop, alice.id, order_id="o-a")["order_id"] == "o-a"


def test_status_rules_and_reopen(shop: Shop) -> None:
    member = shop.member(consents={"sms": True})
    complaint = file(shop, member.id)
    with pytest.raises(RuleViolation):
        care.respond(shop.uow(), complaint["id"], "hello", "li")  # not assigned yet
    care.assign(shop.uow(), complaint["id"], "li", "lead")
    care.respond(shop.uow(), complaint["id"], "sorry, on it", "li")
    care.add_note(shop.uow(), complaint["id"], "courier lost the parcel", "li")
    resolved = care.resolve(shop.uow(), complaint["id"], "re-sent the parcel", "li")
    assert resolved["status"] == "resolved"
    assert "path" in resolved["survey_invitation"]
    with pytest.raises(RuleViolation):
        care.resolve(shop.uow(), complaint["id"], "again", "li")
    reopened = care.reopen(shop.uow(), complaint["id"], "parcel never came", "li")
    assert (reopened["status"], reopened["resolved_at"]) == ("in_progress", None)
    kinds = [n["kind"] for n in reopened["notes"]]
    assert kinds == ["assignment", "response", "internal", "resolution", "reopened"]
    assert all(h["actor"] for h in reopened["history"])


def test_resolution_invites_to_csat_only_with_consent(shop: Shop, engine: Engine) -> None:
    member = shop.member()  # no consent on any channel
    complaint = file(shop, member.id, assignee="li")
    care.respond(shop.uow(), complaint["id"], "sorry", "li")
    resolved = care.resolve(shop.uow(), complaint["id"], "refunded", "li")
    assert resolved["survey_invitation"] == {"skipped": "no_consent"}
    assert count(engine, SurveyInvitationRow) == 0


def test_recovery_points_post_to_the_ledger_and_large_ones_wait(shop: Shop, engine: Engine) -> None:
    member = shop.member()
    complaint = file(shop, member.id, assignee="li")
    small = request_recovery(shop.uow(), complaint["id"], "staff:li", points=200)
    assert small.status == "applied" and small.entry_id is not None
    large = request_recovery(shop.uow(), complaint["id"], "staff:li", points=5000)
    assert (large.status, large.entry_id) == ("pending", None)
    entries = count(engine, LedgerEntryRow)
    approved = approve_recovery(shop.uow(), large.id, "admin")
    assert approved.status == "applied"
    assert count(engine, LedgerEntryRow) == entries + 1
    with pytest.raises(RuleViolation):
        approve_recovery(shop.uow(), large.id, "admin")
    with engine.connect() as conn:
        reasons = conn.scalars(select(LedgerEntryRow.reason).order_by(LedgerEntryRow.id)).all()
    assert reasons[-2:] == [f"service recovery: complaint {complaint['id']}"] * 2


def test_report_attainment_times_rate_and_repeats(shop: Shop) -> None:
    alice, bob = shop.member("a"), shop.member("b")
    shop.clock.now = local(1, 9, month=4)  # Wednesday
    for i in range(4):
        shop.buy(alice if i % 2 else bob, "50.00", order_id=f"o{i}")
    first = file(shop, alice.id, assignee="li")  # high: 2 h / 16 h
    shop.clock.now = local(1, 10)
    care.respond(shop.uow(), first["id"], "on it", "li")
    shop.clock.now = local(1, 12)
    care.resolve(shop.uow(), first["id"], "done", "li")
    second = file(shop, alice.id, assignee="li")
    shop.clock.now = local(1, 15)  # three hours, no response: first response missed
    care.respond(shop.uow(), second["id"], "sorry for the wait", "li")
    file(shop, bob.id)  # still open, within target
    report = complaints_report(shop.uow(), local(1, 0), local(2, 0))
    assert (report["complaints"], report["orders"]) == (3, 4)
    assert report["complaints_per_1000_orders"] == 750.0
    sla = report["sla"]
    assert sla["first_response"] == {
        "met": 1,
        "missed": 1,
        "open_within_target": 1,
        "attainment": 0.5,
    }
    assert sla["time_to_first_response"] == {"n": 2, "median_hours": 2.0, "p90_hours": 2.8}
    assert sla["time_to_resolution"]["median_hours"] == 3.0
    assert report["repeat_complainants"]["repeat"] == 1
    assert report["repeat_complainants"]["member_ids"] == [alice.id]


def test_report_compares_repurchase_with_matched_non_complainants(shop: Shop) -> None:
    start = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    shop.clock.now = start - timedelta(days=200)
    complainants = [shop.member(f"c{i}") for i in range(4)]
    others = [shop.member(f"n{i}") for i in range(6)]
    shop.clock.now = start - timedelta(days=30)
    for member in complainants + others:
        shop.buy(member, "200.00")  # all in band <1000, tenure 90-364
    shop.clock.now = start
    for member in complainants:
        complaint = file(shop, member.id, assignee="li")
        care.respond(shop.uow(), complaint["id"], "sorry", "li")
        care.resolve(shop.uow(), complaint["id"], "fixed", "li")
    shop.clock.now = start + timedelta(days=10)
    for member in complainants[:3] + others[:1]:
        shop.buy(member, "80.00")
    shop.clock.now = start + timedelta(days=40)
    report = complaints_report(
        shop.uow(), start - timedelta(days=1), start + timedelta(days=1), repurchase_days=30
    )
    repurchase = report["repurchase"]
    assert (repurchase["recovered_complainants"], repurchase["matched"]) == (4, 4)
    # controls are the closest in prior spend, ties by lowest id: n0..n3; only n0 bought
    assert (repurchase["recovered_rate"], repurchase["control_rate"]) == (0.75, 0.25)
    assert repurchase["difference"] == 0.5
    low, high = repurchase["ci95"]
    assert low < 0.5 < high and low >= -1 and high <= 1
    too_early = complaints_report(
        shop.uow(), start - timedelta(days=1), start + timedelta(days=1), repurchase_days=60
    )
    assert too_early["repurchase"]["recovered_complainants"] == 0


def test_the_command_line_files_works_and_reports(shop: Shop, db_url: str) -> None:
    import json

    from typer.testing import CliRunner

    from patronage.cli.main import app

    runner = CliRunner()
    member = shop.member()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--db", db_url])
        return result.exit_code, result.output

    code, out = run(
        "complaints",
        "file",
        "--member",
        str(member.id),
        "--category",
        "delivery",
        "--severity",
        "high",
        "--subject",
        "late",
        "--channel",
        "phone",
        "--as",
        "li",
    )
    assert code == 0, out
    complaint_id = str(json.loads(out)["id"])
    assert run("complaints", "assign", complaint_id, "--to", "li", "--as", "lead")[0] == 0
    assert run("complaints", "respond", complaint_id, "--message", "sorry", "--as", "li")[0] == 0
    code, out = run(
        "complaints",
        "file",
        "--member",
        "999999",
        "--category",
        "x",
        "--severity",
        "high",
        "--subject",
        "s",
        "--channel",
        "phone",
        "--as",
        "li",
    )
    assert code == 2 and "member_id=999999" in out
    code, out = run("complaints", "escalate")
    assert code == 0 and json.loads(out) == []
    code, out = run("complaints", "report", "--from", "2020-01-01", "--to", "2100-01-01")
    assert code == 0, out
    assert json.loads(out)["complaints"] == 1
