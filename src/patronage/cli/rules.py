"""`patronage rules import|export|list|replay`: earning rules and campaigns as YAML, and
what a campaign would have cost over past purchases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patronage.cli.common import DbOption, cli_errors, console
from patronage.cli.operations import database

app = typer.Typer(
    help="Earning rules and campaigns: import, export, list, replay.", no_args_is_help=True
)
ProgramOpt = Annotated[str, typer.Option(help="Program code.")]


@app.command("import")
def import_rules(
    file: Annotated[Path, typer.Argument(help="A YAML file with campaigns and rules.")],
    db: DbOption = None,
) -> None:
    """Load campaigns and rules from YAML. All or nothing; changed rules get a new
    version, unchanged ones are left alone (safe to re-run)."""
    from patronage.services.rules import import_yaml
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        text = file.read_text(encoding="utf-8")
        report = import_yaml(UnitOfWork(engine), text, actor="cli")
    for line in report.lines:
        console.print(line)
    console.print(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged "
        f"(program {report.program})"
    )


@app.command("export")
def export_rules(
    db: DbOption = None,
    program: ProgramOpt = "default",
    output: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
) -> None:
    """Write a program's current campaigns and rules as YAML (the format import reads)."""
    from patronage.services.rules import export_yaml
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        text = export_yaml(UnitOfWork(engine), program)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


@app.command("list")
def list_rules(db: DbOption = None, program: ProgramOpt = "default") -> None:
    """The current version of every rule, with its campaign and status."""
    from patronage.services.rules import list_rules as current
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        rows = current(UnitOfWork(engine), program)
    table = Table("code", "version", "status", "event", "campaign", "action", "value", "name")
    for r in rows:
        table.add_row(
            r["code"],
            str(r["version"]),
            r["status"],
            r["event_type"],
            r["campaign"] or "",
            r["action"],
            str(r["value"]) + (f" (cap {r['cap_minor']})" if r["cap_minor"] else ""),
            r["name"],
        )
    console.print(table)


def _day(value: str, option: str) -> datetime:
    try:
        if "T" in value:
            at = datetime.fromisoformat(value)
            return at if at.tzinfo else at.replace(tzinfo=UTC)
        return datetime.combine(date.fromisoformat(value), time(0), UTC)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


@app.command("replay")
def replay(
    campaign: Annotated[str, typer.Option("--campaign", help="Campaign code.")],
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, UTC) or ISO time.")],
    end: Annotated[str, typer.Option("--to", help="Last day, included (YYYY-MM-DD) or ISO time.")],
    db: DbOption = None,
    program: ProgramOpt = "default",
    point_value: Annotated[
        str | None,
        typer.Option(
            "--point-value",
            help="Cost of one point in currency units "
            "(default: the program's point_value_minor / 100).",
        ),
    ] = None,
) -> None:
    """Replay stored events through a campaign's rules (drafts included) as if it had been
    on, and report the points, their cost, the cashback and the members reached. Writes
    nothing."""
    from patronage.services.rules import replay as run
    from patronage.storage.uow import UnitOfWork

    begin = _day(start, "--from")
    finish = _day(end, "--to")
    if "T" not in end:
        finish += timedelta(days=1)
    value = None
    if point_value is not None:
        try:
            value = Decimal(point_value)
        except InvalidOperation:
            raise typer.BadParameter("not a number", param_hint="--point-value") from None
    with cli_errors(), database(db) as engine:
        report = run(UnitOfWork(engine), campaign, begin, finish, program, value)
    table = Table("measure", "value", title=f"replay of {campaign}")
    table.add_row("period", f"{begin.isoformat()} to {finish.isoformat()}")
    table.add_row("events replayed", str(report.events))
    table.add_row("events that would earn", str(report.events_earning))
    table.add_row("points it would have issued", str(report.points))
    table.add_row("cost", f"{report.cost} (at {report.point_value} per point)")
    table.add_row("members reached", str(report.members))
    if report.cashback_minor:
        table.add_row("cashback it would have paid", f"{Decimal(report.cashback_minor) / 100:.2f}")
    if report.budget is not None:
        table.add_row(
            "budget",
            f"{report.budget} ({'exhausted' if report.budget_exhausted else 'not exhausted'})",
        )
    for rule, points in sorted(report.by_rule.items()):
        table.add_row(f"  rule {rule}", str(points))
    for rule, minor in sorted(report.cashback_by_rule.items()):
        table.add_row(f"  rule {rule} (cashback)", f"{Decimal(minor) / 100:.2f}")
    console.print(table)
