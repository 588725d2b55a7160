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
    from patronage.cli import (
        analytics,
        analytics_customers,  # noqa: F401
        analytics_voice,  # noqa: F401
        demo,
        imports,
        operations,
    )

    app.command()(operations.init)
    app.add_typer(operations.db_app, name="db")
    app.command()(operations.serve)
    app.command()(demo.demo)
    app.add_typer(operations.apikey_app, name="apikey")
    app.add_typer(imports.app, name="import")
    app.command()(operations.check)
    app.command("backup")(operations.backup_command)
    app.command("restore")(operations.restore_command)
    app.add_typer(operations.jobs_app, name="jobs")
    app.add_typer(analytics.app, name="analytics")
    from patronage.cli import rules

    app.add_typer(rules.app, name="rules")
    from patronage.cli import coupons

    app.add_typer(coupons.app, name="coupons")
    from patronage.cli import training

    app.add_typer(training.app, name="training")
    from patronage.cli import complaints, surveys

    app.add_typer(surveys.app, name="surveys")
    app.add_typer(complaints.app, name="complaints")
    from patronage.cli import web_users

    app.add_typer(web_users.user_app, name="user")
    app.add_typer(web_users.portal_app, name="portal")
    from patronage.cli import outbox

    app.command()(outbox.worker)
    app.add_typer(outbox.outbox_app, name="outbox")
    app.add_typer(outbox.webhooks_app, name="webhooks")
    from patronage.cli import personalisation

    app.add_typer(personalisation.recommend_app, name="recommend")
    app.add_typer(personalisation.membership_app, name="membership")
    from patronage.cli import segments

    app.add_typer(segments.app, name="segments")


_register()
