"""Operating the outbox: the dead-letter list, requeueing, webhook subscribers, and
unsubscribe links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

from patronage.config import get_settings
from patronage.domain.messages import WEBHOOK_EVENTS, Message, read_unsubscribe
from patronage.errors import InvalidInput, NotFound
from patronage.services.privacy import change_consents
from patronage.storage.uow import UnitOfWork


def dead_letters(uow: UnitOfWork, limit: int = 100) -> list[Message]:
    """Messages that will not be sent without an operator: dead and in doubt."""
    with uow:
        return uow.outbox.failed(limit)


def retry_message(uow: UnitOfWork, message_id: int) -> Message:
    """Send a dead, in-doubt or skipped message again (an in-doubt journey message may
    then reach the member twice: the operator decides)."""
    with uow:
        uow.outbox.get(message_id)
        if not uow.outbox.requeue(message_id, uow.clock()):
            raise InvalidInput(
                "only dead, in_doubt or skipped messages can be retried", field="message_id"
            )
        message = uow.outbox.get(message_id)
        uow.commit()
        return message


@dataclass(frozen=True)
class Subscriber:
    id: int
    url: str
    events: tuple[str, ...]
    active: bool
    secret: str | None = None


def add_subscriber(uow: UnitOfWork, program_code: str, url: str, events: list[str]) -> Subscriber:
    """Register a webhook receiver; the secret is returned once, here."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput("url must be an http(s) URL", field="url")
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if not events or unknown:
        raise InvalidInput(
            f"events must be among {', '.join(WEBHOOK_EVENTS)}", field="events", unknown=unknown
        )
    secret = "whsec_" + secrets.token_urlsafe(24)
    with uow:
        program = uow.programs.get(program_code)
        subscriber_id = uow.webhooks.add(
            program.id or 0, url, secret, sorted(set(events)), uow.clock()
        )
        uow.commit()
    return Subscriber(subscriber_id, url, tuple(sorted(set(events))), True, secret)


def list_subscribers(uow: UnitOfWork, program_code: str) -> list[Subscriber]:
    with uow:
        program = uow.programs.get(program_code)
        return [
            Subscriber(r.id, r.url, tuple(r.events), r.active)
            for r in uow.webhooks.all(program.id or 0)
        ]


def remove_subscriber(uow: UnitOfWork, subscriber_id: int) -> None:
    """Stop sending to a subscriber; its queued events are skipped."""
    with uow:
        uow.webhooks.deactivate(subscriber_id)
        uow.commit()


def unsubscribe(uow: UnitOfWork, token: str) -> tuple[int, str]:
    """Withdraw the consent an unsubscribe link names; (member id, channel)."""
    member_id, channel = read_unsubscribe(get_settings().secret_key, token)
    try:
        change_consents(uow, member_id, {channel: False}, "unsubscribe link")
    except NotFound:
        raise NotFound("this unsubscribe link is not valid", field="token") from None
    return member_id, channel
