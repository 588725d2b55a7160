"""`patronage demo`: fill a database with the demo data set."""

from __future__ import annotations

from typing import Annotated

import typer

from patronage.cli.common import DbOption, cli_errors, console
from patronage.cli.operations import database, print_report


def demo(
    db: DbOption = None,
    members: Annotated[int, typer.Option(min=1, max=1_000_000, help="How many members.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
) -> None:
    """Create the database if needed and load 18 months of realistic demo activity."""
    from patronage.services.demo import load_demo
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db, prepare=True) as engine, console.status("loading demo data"):
        report = load_demo(UnitOfWork(engine), members, seed)
        from patronage.services.staff_users import ensure_demo_admin

        password = ensure_demo_admin(UnitOfWork(engine))
    print_report(report, "demo events")
    console.print(f"web app: sign in at /login as [bold]admin[/bold] / [bold]{password}[/bold]")
