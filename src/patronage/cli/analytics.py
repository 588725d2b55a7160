"""`patronage analytics ...`: the command group. Commands live in analytics_*.py modules."""

from __future__ import annotations

import typer

app = typer.Typer(help="Customer analytics and survey statistics.", no_args_is_help=True)
