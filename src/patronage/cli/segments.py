"""`patronage segments save|list|show|export|refresh|delete`: saved customer segments."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from patronage.cli.common import DbOption, cli_errors, console, err_console
from patronage.cli.operations import database
from patronage.errors import InvalidInput

app = typer.Typer(
    help="Saved segments: from RFM or a CSV list; campaign targets; CSV export.",
    no_args_is_help=True,
)
CodeArg = Annotated[str, typer.Argument(help="The segment code (used in campaign conditions).")]
ProgramOpt = Annotated[str, typer.Option("--program", help="Program code.")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="RFM as of this date (default: last purchase day).")
]
FileOpt = Annotated[
    Path | None, typer.Option("--file", help="CSV list with an external_id or member_id column.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--as-of: {text!r} is not a date (YYYY-MM-DD)", field="as_of") from None


def _read(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", field="file") from None


def _print(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@app.command("save")
def save(
    code: CodeArg,
    db: DbOption = None,
    rfm: Annotated[
        list[str] | None,
        typer.Option("--rfm", help="An RFM segment to include, e.g. Champions (repeatable)."),
    ] = None,
    as_of: AsOfOpt = None,
    file: FileOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="A readable name.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="What it is for.")
    ] = None,
    program: ProgramOpt = "default",
) -> None:
    """Save a segment from RFM segments (--rfm, --as-of) or from a CSV list (--file)."""
    from patronage.services import segments
    from patronage.storage.uow import UnitOfWork

    with cli_errors():
        if bool(rfm) == (file is not None):
            raise InvalidInput(
                "give either --rfm NAME (repeatable) or --file LIST.csv", field="rfm"
            )
        if file is not None and as_of is not None:
            raise InvalidInput("--as-of applies to --rfm segments only", field="as_of")
        new = segments.NewSegment(code, name, description, program)
        day, text = _as_of(as_of), _read(file)
        with database(db) as engine:
            uow = UnitOfWork(engine)
            saved = (
                segments.save_from_list(uow, new, text, "cli")
                if text is not None
                else segments.save_from_rfm(uow, new, rfm or [], day, "cli")
            )
    console.print(f"saved segment {saved.code!r}: {saved.member_count} members")


@app.command("list")
def list_segments(
    db: DbOption = None, program: ProgramOpt = "default", json_: JsonOpt = False
) -> None:
    """The program's saved segments with member counts."""
    from patronage.services import segments
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        found = segments.list_segments(UnitOfWork(engine), program)
    if json_:
        typer.echo(json.dumps([segments.describe(s) for s in found], indent=2, default=str))
        return
    table = Table("Code", "Name", "Source", "As of", "Members", "Refreshed")
    for s in found:
        table.add_row(
            s.code,
            s.name,
            s.source,
            str(s.as_of or ""),
            str(s.member_count),
            f"{s.refreshed_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@app.command("show")
def show(
    code: CodeArg, db: DbOption = None, program: ProgramOpt = "default", json_: JsonOpt = False
) -> None:
    """One segment: definition, as-of date, member count and revenue share (from RFM)."""
    from patronage.services import segments
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        data = segments.describe(segments.get_segment(UnitOfWork(engine), program, code))
    if json_:
        _print(data)
        return
    share = data["revenue_share"]
    console.print(f"{data['code']} ({data['name']}): {data['member_count']} members")
    console.print(
        f"source {data['source']} {json.dumps(data['definition'])}, as of {data['as_of']}"
    )
    if share is not None:
        console.print(f"revenue share {share:.1%} of all customers' net revenue")
    console.print(
        f"created by {data['created_by']} at {data['created_at']}, refreshed {data['refreshed_at']}"
    )


@app.command("export")
def export(
    code: CodeArg,
    db: DbOption = None,
    program: ProgramOpt = "default",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file, not stdout.")
    ] = None,
    with_names: Annotated[
        bool, typer.Option("--with-names", help="Add members' names (personal data).")
    ] = False,
) -> None:
    """The members as CSV: member_id, external_id (name with --with-names) and, for RFM
    segments, the RFM figures. Phone numbers and e-mail addresses are never exported."""
    from patronage.services import segments
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        text = segments.export_csv(UnitOfWork(engine), program, code, with_names)
        if output is not None:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(f"cannot write {output}: {exc}", field="output") from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        err_console.print(f"wrote {output}")


@app.command("refresh")
def refresh(
    code: CodeArg,
    db: DbOption = None,
    as_of: AsOfOpt = None,
    file: FileOpt = None,
    program: ProgramOpt = "default",
) -> None:
    """Recompute an RFM segment (optionally --as-of), or replace a list segment's members
    with a new --file. The old members are replaced in one transaction."""
    from patronage.services import segments
    from patronage.storage.uow import UnitOfWork

    with cli_errors():
        day, text = _as_of(as_of), _read(file)
        with database(db) as engine:
            saved = segments.refresh_segment(UnitOfWork(engine), program, code, "cli", day, text)
    console.print(f"refreshed segment {saved.code!r}: {saved.member_count} members")


@app.command("delete")
def delete(code: CodeArg, db: DbOption = None, program: ProgramOpt = "default") -> None:
    """Delete a segment and its members; campaigns naming it then match no one."""
    from patronage.services import segments
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        segments.delete_segment(UnitOfWork(engine), program, code, "cli")
    console.print(f"deleted segment {code!r}")
