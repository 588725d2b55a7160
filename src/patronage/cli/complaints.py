"""`patronage complaints ...`: file and work complaints, escalate, recover, report."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date
from typing import Annotated, Any

import typer

from patronage.cli.common import DbOption, cli_errors
from patronage.cli.operations import database, parse_as_of
from patronage.errors import InvalidInput

app = typer.Typer(
    help="Complaints (投诉): SLAs, escalation, service recovery, report.", no_args_is_help=True
)
Id = Annotated[int, typer.Argument(help="Complaint id.")]
Actor = Annotated[str, typer.Option("--as", help="Who does this (staff id).")]


def _run(db: str | None, action: Callable[[Any], Any]) -> None:
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        result = action(UnitOfWork(engine))
    if isinstance(result, list):
        result = [asdict(r) if is_dataclass(r) and not isinstance(r, type) else r for r in result]
    elif is_dataclass(result) and not isinstance(result, type):
        result = asdict(result)
    typer.echo(json.dumps(result, ensure_ascii=False, default=str, indent=2))


@app.command("file")
def file(
    member: Annotated[int, typer.Option("--member", help="Member id.")],
    category: Annotated[str, typer.Option("--category")],
    severity: Annotated[str, typer.Option("--severity", help="low, medium, high, critical.")],
    subject: Annotated[str, typer.Option("--subject")],
    channel: Annotated[str, typer.Option("--channel", help="phone, store, wechat, email...")],
    actor: Actor,
    order: Annotated[str | None, typer.Option("--order", help="Order id concerned.")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    db: DbOption = None,
) -> None:
    """File a complaint for a member (the member, and the order if given, must exist)."""
    from patronage.services.complaints import NewComplaint, file_complaint

    request = NewComplaint(
        member, category, severity, subject, channel, description, order, assignee
    )
    _run(db, lambda uow: file_complaint(uow, request, actor))


@app.command("show")
def show(complaint: Id, db: DbOption = None) -> None:
    """A complaint with its history, notes, SLA clocks and escalations."""
    from patronage.services.complaints import get_complaint

    _run(db, lambda uow: get_complaint(uow, complaint))


@app.command("assign")
def assign(
    complaint: Id, assignee: Annotated[str, typer.Option("--to")], actor: Actor, db: DbOption = None
) -> None:
    """Assign to a staff member."""
    from patronage.services.complaints import assign as assign_to

    _run(db, lambda uow: assign_to(uow, complaint, assignee, actor))


@app.command("respond")
def respond(
    complaint: Id,
    message: Annotated[str, typer.Option("--message")],
    actor: Actor,
    wait: Annotated[bool, typer.Option("--wait", help="Then wait on the customer.")] = False,
    db: DbOption = None,
) -> None:
    """Answer the customer (stops the first-response clock)."""
    from patronage.services.complaints import respond as respond_to

    _run(db, lambda uow: respond_to(uow, complaint, message, actor, wait))


@app.command("status")
def status(
    complaint: Id,
    to: Annotated[str, typer.Option("--to", help=("waiting_on_customer, in_progress or closed."))],
    actor: Actor,
    db: DbOption = None,
) -> None:
    """Wait on the customer (pauses the clocks), resume, or close."""
    from patronage.services.complaints import change_status

    _run(db, lambda uow: change_status(uow, complaint, to, actor))


@app.command("resolve")
def resolve(
    complaint: Id,
    summary: Annotated[str, typer.Option("--summary")],
    actor: Actor,
    db: DbOption = None,
) -> None:
    """Resolve; the member is invited to a CSAT survey (consent allowing)."""
    from patronage.services.complaints import resolve as resolve_it

    _run(db, lambda uow: resolve_it(uow, complaint, summary, actor))


@app.command("reopen")
def reopen(
    complaint: Id,
    reason: Annotated[str, typer.Option("--reason")],
    actor: Actor,
    db: DbOption = None,
) -> None:
    """Reopen a resolved complaint."""
    from patronage.services.complaints import reopen as reopen_it

    _run(db, lambda uow: reopen_it(uow, complaint, reason, actor))


@app.command("note")
def note(
    complaint: Id, body: Annotated[str, typer.Option("--body")], actor: Actor, db: DbOption = None
) -> None:
    """Add an internal note."""
    from patronage.services.complaints import add_note

    _run(db, lambda uow: add_note(uow, complaint, body, actor))


@app.command("recover")
def recover(
    complaint: Id,
    actor: Actor,
    points: Annotated[int, typer.Option("--points", min=0)] = 0,
    coupon: Annotated[str | None, typer.Option("--coupon", help="Coupon reference.")] = None,
    db: DbOption = None,
) -> None:
    """Apology points (above PATRONAGE_RECOVERY_APPROVAL_POINTS: pending) or a coupon."""
    from patronage.services.recovery import request_recovery

    _run(db, lambda uow: request_recovery(uow, complaint, actor, points, coupon))


@app.command("approve")
def approve(
    recovery: Annotated[int, typer.Argument(help="Recovery action id.")],
    actor: Actor,
    db: DbOption = None,
) -> None:
    """Approve a pending recovery action (an admin's decision) and post its points."""
    from patronage.services.recovery import approve_recovery

    _run(db, lambda uow: approve_recovery(uow, recovery, actor))


@app.command("escalate")
def escalate(
    as_of: Annotated[str | None, typer.Option("--as-of", help="UTC if no zone.")] = None,
    db: DbOption = None,
) -> None:
    """Record and list open complaints whose SLA target is at risk or missed."""
    from patronage.services.escalation import escalate_complaints

    _run(db, lambda uow: escalate_complaints(uow, parse_as_of(as_of)))


@app.command("sla-target")
def sla_target(
    severity: Annotated[str, typer.Option("--severity")],
    first_response: Annotated[int, typer.Option("--first-response-minutes", min=1)],
    resolution: Annotated[int, typer.Option("--resolution-minutes", min=1)],
    category: Annotated[str, typer.Option("--category", help='"*" for any.')] = "*",
    db: DbOption = None,
) -> None:
    """Set the business-time targets for a category and severity."""
    from patronage.services.sla_setup import set_target

    _run(db, lambda uow: set_target(uow, category, severity, first_response, resolution))


@app.command("calendar")
def calendar(
    timezone: Annotated[str | None, typer.Option("--timezone")] = None,
    hours: Annotated[str | None, typer.Option("--hours", help="e.g. 09:00-18:00")] = None,
    holiday: Annotated[list[str] | None, typer.Option("--holiday", help="YYYY-MM-DD")] = None,
    not_holiday: Annotated[list[str] | None, typer.Option("--not-holiday")] = None,
    db: DbOption = None,
) -> None:
    """Change the business calendar: time zone, daily hours (Mon-Fri), holidays."""
    from patronage.services.sla_setup import set_calendar

    with cli_errors():
        span = None
        if hours is not None:
            start, _, end = hours.partition("-")
            span = [(start.strip(), end.strip())]
        try:
            add = [date.fromisoformat(d) for d in holiday or []]
            remove = [date.fromisoformat(d) for d in not_holiday or []]
        except ValueError:
            raise InvalidInput("holidays are YYYY-MM-DD", field="holiday") from None
    _run(db, lambda uow: set_calendar(uow, timezone, span, None, add, remove))


@app.command("report")
def report(
    since: Annotated[str, typer.Option("--from", help="Start (UTC if no zone).")],
    until: Annotated[str, typer.Option("--to", help="End (UTC if no zone).")],
    days: Annotated[int, typer.Option("--repurchase-days", min=1, max=730)] = 90,
    db: DbOption = None,
) -> None:
    """SLA attainment, times, complaint rate, repeat complainants, repurchase after recovery."""
    from patronage.services.complaint_report import complaints_report

    with cli_errors():
        start, end = parse_as_of(since), parse_as_of(until)
    _run(db, lambda uow: complaints_report(uow, start, end, days))
