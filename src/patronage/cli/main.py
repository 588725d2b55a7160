"""The `patronage` command. Sub-command groups register themselves here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="patronage",
    help="Patronage: customer-loyalty platform (points ledger, tiers, analytics, care, training).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def main() -> None:  # pragma: no cover - console entry
    app()


def _register() -> None:
    from patronage.cli import analytics

    app.add_typer(analytics.app, name="analytics")


_register()
