"""`patronage import transactions|members FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from patronage.cli.common import DbOption, cli_errors
from patronage.cli.operations import database, print_report

app = typer.Typer(help="Import data from CSV or Parquet files.", no_args_is_help=True)
FileArg = Annotated[Path, typer.Argument(help="A .csv or .parquet file.")]
ProgramOpt = Annotated[str, typer.Option(help="Program code.")]
BatchOpt = Annotated[int, typer.Option(min=1, max=100_000, help="Rows per transaction.")]


@app.command("transactions")
def transactions(
    file: FileArg, db: DbOption = None, program: ProgramOpt = "default", batch_size: BatchOpt = 500
) -> None:
    """Import purchases and refunds: member_external_id, order_id, occurred_at, amount,
    currency, type (and optionally original_order_id, store, channel, staff_id, items).
    Safe to re-run: rows already imported are skipped."""
    from patronage.services.imports import import_transactions
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine, Progress(transient=True) as bar:
        task = bar.add_task("importing", total=None)
        report = import_transactions(
            UnitOfWork(engine), file, program, batch_size, progress=lambda n: bar.advance(task, n)
        )
    print_report(report, f"transactions from {file.name}")
    if report.rejected:
        raise typer.Exit(2)


@app.command("members")
def members(file: FileArg, db: DbOption = None, program: ProgramOpt = "default") -> None:
    """Import members: external_id, and optionally name, phone, email, birthday,
    joined_at, consent_<channel>, attributes (JSON). Existing members are skipped."""
    from patronage.services.imports import import_members
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine, Progress(transient=True) as bar:
        task = bar.add_task("importing", total=None)
        report = import_members(
            UnitOfWork(engine), file, program, progress=lambda n: bar.advance(task, n)
        )
    print_report(report, f"members from {file.name}")
    if report.rejected:
        raise typer.Exit(2)
