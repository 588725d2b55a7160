"""Running the platform: init, db upgrade, serve, check, jobs, apikey."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from patronage.cli.common import DbOption, cli_errors, console, database_url, err_console
from patronage.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from patronage.services.imports import ImportReport

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
jobs_app = typer.Typer(
    help="Periodic jobs (the server runs them on its own too).", no_args_is_help=True
)
apikey_app = typer.Typer(help="API keys.", no_args_is_help=True)


@contextmanager
def database(db: str | None, prepare: bool = False) -> Iterator[Engine]:
    """The engine for --db, closed when the command ends. ``prepare`` migrates to
    the newest schema and makes sure the default program exists."""
    from patronage.storage.db import make_engine

    engine = make_engine(database_url(db))
    try:
        if prepare:
            _prepare(engine)
        yield engine
    finally:
        engine.dispose()


def _prepare(engine: Engine) -> None:
    from patronage.services.programs import ensure_default_program
    from patronage.storage.migrate import upgrade
    from patronage.storage.uow import UnitOfWork

    upgrade(engine)
    ensure_default_program(UnitOfWork(engine))


def init(db: DbOption = None) -> None:
    """Create or upgrade the database and the default program."""
    with cli_errors(), database(db, prepare=True) as engine:
        console.print(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply schema migrations up to the newest."""
    from patronage.storage.migrate import upgrade

    with cli_errors(), database(db) as engine:
        upgrade(engine)
        console.print("schema is up to date")


def serve(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (docs at /docs) and run due jobs in the background."""
    import uvicorn

    from patronage.config import get_settings
    from patronage.http import logs
    from patronage.http.app import create_app
    from patronage.services.scheduler import start_scheduler

    settings = get_settings()
    settings.check_production()
    host, port = host or settings.host, port or settings.port
    logs.configure(settings.log_format)  # each worker process does the same (http/workers.py)
    with database(db, prepare=True) as engine:
        if settings.scheduler:
            start_scheduler(engine, settings.scheduler_interval_seconds)
        if workers == 1:
            from patronage.http.workers import settle_garbage_collector

            app = create_app(engine)
            settle_garbage_collector()
            uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
        else:  # a socket per worker process (http/workers.py)
            from patronage.http import workers as server_workers

            os.environ["PATRONAGE_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
            try:
                server_workers.serve(host, port, workers, settings.log_format)
            except OSError as exc:
                err_console.print(
                    f"[red]error[/red]: cannot listen on {host}:{port}: {exc.strerror}"
                )
                raise typer.Exit(2) from None
            except server_workers.WorkerFailedToStart as exc:
                err_console.print(f"[red]error[/red]: {exc}")
                raise typer.Exit(1) from None


def check(db: DbOption = None) -> None:
    """Verify every ledger invariant; exit 1 and list the violations if any fails."""
    from patronage.storage.invariants import CHECKS, find_violations

    with cli_errors(), database(db) as engine:
        violations = find_violations(engine)
    for name, (rule, _) in CHECKS.items():
        mark = "[red]FAIL[/red]" if name in violations else "[green]ok[/green]"
        console.print(f"{mark}  {name}: {rule}")
        for subject, detail in violations.get(name, []):
            console.print(f"      subject {subject}: {detail}")
    if violations:
        raise typer.Exit(1)


def parse_as_of(as_of: str | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(as_of)
    except ValueError:
        raise InvalidInput(f"--as-of: {as_of!r} is not a date or time", field="as_of") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="The job: see the list below.")],
    db: DbOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date or time (UTC if no zone).")
    ] = None,
    program: Annotated[str, typer.Option(help="Program code.")] = "default",
) -> None:
    """Run a job now: `expire` lapses due lots, `tiers` applies tier reviews,
    `retention` erases members inactive longer than PATRONAGE_RETENTION_DAYS,
    `journeys` schedules the care-journey messages that are due, `referrals` rewards
    referrals whose referee bought, `birthdays` awards birthday bonus points,
    `surveys` invites recent buyers to purchase-triggered surveys, `escalations` records
    complaint clocks at risk or breached,
    `personalisation` renews paid memberships and refreshes recommendations,
    `training-reminders` records and announces training due soon, overdue, or due for
    re-certification (shop-wide, whichever --program)."""
    from patronage.services.jobs import JOBS
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        if name not in JOBS:
            raise InvalidInput(f"unknown job {name!r}; jobs: {', '.join(JOBS)}", field="name")
        console.print(JOBS[name](UnitOfWork(engine), program, parse_as_of(as_of)))


@apikey_app.command("create")
def apikey_create(
    role: Annotated[str, typer.Option(help="admin, staff, analyst or member.")],
    db: DbOption = None,
    member: Annotated[int | None, typer.Option(help="Member id, for a member key.")] = None,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
) -> None:
    """Create an API key; the key is printed once, as the last line."""
    from patronage.services.access import create_api_key
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        key = create_api_key(UnitOfWork(engine), role, member, name)
    err_console.print(f"created a {role} key; store it now, it is not shown again:")
    print(key)  # noqa: T201 - the key alone on stdout, for scripts


def print_report(report: ImportReport, title: str) -> None:
    table = Table(title=title)
    for column in ("rows", "imported", "already imported", "rejected"):
        table.add_column(column, justify="right")
    table.add_row(
        str(report.rows),
        str(report.imported),
        str(report.already_imported),
        str(len(report.rejected)),
    )
    console.print(table)
    for line, reason in report.rejected[:200]:
        err_console.print(escape(f"line {line}: {reason}"))


def backup_command(
    file: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
    db: DbOption = None,
) -> None:
    """Back up the database while it runs (SQLite online backup, or pg_dump)."""
    from patronage.storage.backup import backup

    with cli_errors(), database(db) as engine:
        backup(engine, file)
    console.print(f"backup written to {file}")


def restore_command(
    file: Annotated[Path, typer.Argument(help="A file written by `patronage backup`.")],
    db: DbOption = None,
) -> None:
    """Replace the database with a backup, then run `patronage check`."""
    from patronage.storage.backup import restore

    with cli_errors():
        restore(database_url(db), file)
    console.print(f"restored from {file}")
    check(db)


@apikey_app.command("revoke")
def apikey_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after pat_).")],
    db: DbOption = None,
) -> None:
    """Revoke an API key at once."""
    from patronage.services.access import revoke_api_key
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        revoke_api_key(UnitOfWork(engine), prefix)
    console.print(f"revoked key pat_{prefix}_…")
