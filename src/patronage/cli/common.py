"""What every command shares: the --db option, the error printer and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from patronage.errors import PatronageError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: PATRONAGE_DATABASE_URL or ./patronage.db)."),
]


def database_url(db: str | None) -> str:
    from patronage.config import get_settings

    return db or get_settings().database_url


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn platform errors into one red line and exit code 2 (bad input) or 1."""
    try:
        yield
    except PatronageError as exc:
        detail = ", ".join(f"{k}={v}" for k, v in exc.details.items())
        text = f"{exc.message} [{detail}]" if detail else exc.message
        err_console.print(f"[red]error[/red] ({exc.code}): {escape(text)}")
        raise typer.Exit(2) from None
