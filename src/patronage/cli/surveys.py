"""`patronage surveys ...`: define surveys, invite members, and statistics over
the responses stored in the database (the file-based statistics are under
`patronage analytics`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from patronage.cli.common import DbOption, cli_errors
from patronage.cli.operations import database, parse_as_of
from patronage.errors import InvalidInput

app = typer.Typer(
    help="Surveys stored in the database: NPS, CSAT, SERVQUAL, comments.", no_args_is_help=True
)
SurveyOption = Annotated[int, typer.Option("--survey", help="Survey id.")]


def _print(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=str, indent=2))


@app.command("define")
def define(
    file: Annotated[Path, typer.Option("--file", help="JSON: code, title, questions, trigger.")],
    db: DbOption = None,
) -> None:
    """Add a survey from a JSON definition (bilingual zh-CN/en texts)."""
    from patronage.services.surveys import define_survey
    from patronage.storage.uow import UnitOfWork

    with cli_errors():
        try:
            spec = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read {file}: {exc}", field="file") from None
        if not isinstance(spec, dict):
            raise InvalidInput("the definition must be a JSON object", field="file")
        with database(db) as engine:
            survey = define_survey(
                UnitOfWork(engine),
                spec.get("code", ""),
                spec.get("title", {}),
                spec.get("questions", []),
                spec.get("trigger", "manual"),
                spec.get("recontact_days"),
                spec.get("link_days", 30),
            )
    _print({"id": survey.id, "code": survey.code})


@app.command("invite")
def invite(
    survey: SurveyOption,
    member: Annotated[int, typer.Option("--member", help="Member id.")],
    channel: Annotated[str, typer.Option("--channel", help="email, sms, wechat, app...")],
    event: Annotated[int | None, typer.Option("--event", help="Triggering purchase.")] = None,
    db: DbOption = None,
) -> None:
    """Invite one member (consent and the re-contact limit apply); prints the link path."""
    from patronage.services.surveys import invite_member
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        invitation = invite_member(UnitOfWork(engine), survey, member, channel, event)
    _print(asdict(invitation))


@app.command("invite-purchases")
def invite_purchases(
    survey: SurveyOption,
    since: Annotated[str, typer.Option("--from", help="Start (UTC if no zone).")],
    until: Annotated[str | None, typer.Option("--to", help="End (default now).")] = None,
    db: DbOption = None,
) -> None:
    """Invite the members who bought in [from, to) on their preferred consented channel."""
    from patronage.services.surveys import invite_after_purchases
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        counts = invite_after_purchases(
            UnitOfWork(engine), survey, parse_as_of(since), parse_as_of(until)
        )
    _print(counts)


@app.command("results")
def results(
    survey: SurveyOption,
    since: Annotated[str | None, typer.Option("--from", help="Start (UTC if no zone).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="End (UTC if no zone).")] = None,
    group_by: Annotated[
        str | None, typer.Option("--group-by", help="store, staff, channel or period.")
    ] = None,
    db: DbOption = None,
) -> None:
    """NPS (adjusted-Wald), CSAT (Wilson), SERVQUAL gaps of the stored responses, as JSON."""
    from patronage.services.survey_results import survey_results
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        payload = survey_results(
            UnitOfWork(engine),
            survey,
            parse_as_of(since) if since else None,
            parse_as_of(until) if until else None,
            group_by,
        )
    _print(payload)
