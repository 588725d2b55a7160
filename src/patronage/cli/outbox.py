"""Message delivery: `patronage worker`, `patronage outbox ...`, `patronage webhooks ...`."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from patronage.cli.common import DbOption, cli_errors, console, err_console
from patronage.cli.operations import database

outbox_app = typer.Typer(help="The outbox of messages to deliver.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhook subscribers.", no_args_is_help=True)


def worker(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="Deliver one batch, then exit.")] = False,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Messages per batch.")] = 100,
) -> None:
    """Deliver due messages (e-mail, SMS, WeChat, webhooks) with retries, until stopped."""
    from patronage.config import get_settings
    from patronage.journeys.channels import channels_from_settings
    from patronage.services.delivery import DeliveryPolicy, deliver_due

    settings = get_settings()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    with cli_errors(), database(db) as engine:
        policy = DeliveryPolicy.from_settings(settings)
        channels = channels_from_settings(settings)
        while True:
            outcomes = deliver_due(engine, channels, policy, batch)
            if outcomes:
                summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
                console.print(summary, highlight=False)
            if once or stop.is_set():
                return
            if sum(outcomes.values()) < batch:
                stop.wait(settings.worker_poll_seconds)
            if stop.is_set():
                return


@outbox_app.command("dead")
def outbox_dead(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
) -> None:
    """List dead-lettered and in-doubt messages."""
    from patronage.services.outbox import dead_letters
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        messages = dead_letters(UnitOfWork(engine), limit)
    table = Table(title=f"{len(messages)} message(s) not delivered")
    for column in ("id", "status", "channel", "template", "member", "attempts", "last error"):
        table.add_column(column)
    for m in messages:
        table.add_row(
            str(m.id),
            m.status,
            m.channel,
            m.template,
            str(m.member_id or ""),
            str(m.attempts),
            escape(m.last_error or ""),
        )
    console.print(table)


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int, typer.Argument(min=1, help="The message id.")],
    db: DbOption = None,
) -> None:
    """Requeue a dead, in-doubt or skipped message (sent again from its first attempt)."""
    from patronage.services.outbox import retry_message
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        message = retry_message(UnitOfWork(engine), message_id)
    console.print(f"message {message.id} is {message.status} again")


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="The receiver's http(s) URL.")],
    event: Annotated[list[str], typer.Option("--event", help="An event type (repeatable).")],
    db: DbOption = None,
    program: Annotated[str, typer.Option(help="Program code.")] = "default",
) -> None:
    """Register a receiver; its signing secret is printed once, as the last line."""
    from patronage.services.outbox import add_subscriber
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        subscriber = add_subscriber(UnitOfWork(engine), program, url, event)
    err_console.print(f"subscriber {subscriber.id} added; its secret (shown once):")
    print(subscriber.secret)  # noqa: T201 - the secret alone on stdout, for scripts


@webhooks_app.command("list")
def webhooks_list(
    db: DbOption = None,
    program: Annotated[str, typer.Option(help="Program code.")] = "default",
) -> None:
    """List webhook subscribers."""
    from patronage.services.outbox import list_subscribers
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        subscribers = list_subscribers(UnitOfWork(engine), program)
    table = Table(title="webhook subscribers")
    for column in ("id", "url", "events", "active"):
        table.add_column(column)
    for s in subscribers:
        table.add_row(str(s.id), escape(s.url), ", ".join(s.events), "yes" if s.active else "no")
    console.print(table)


@webhooks_app.command("remove")
def webhooks_remove(
    subscriber_id: Annotated[int, typer.Argument(min=1, help="The subscriber id.")],
    db: DbOption = None,
) -> None:
    """Stop sending to a subscriber (its queued events are skipped)."""
    from patronage.services.outbox import remove_subscriber
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        remove_subscriber(UnitOfWork(engine), subscriber_id)
    console.print(f"subscriber {subscriber_id} removed")
