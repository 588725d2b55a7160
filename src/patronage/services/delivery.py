"""The outbox worker: claim due messages, then send each one with its own bookkeeping.

Per message: (1) a short transaction checks consent, quiet hours and the weekly cap
again and marks the message ``sending`` with a fresh attempt id, (2) the channel sends
it outside any transaction, (3) a second short transaction records the outcome. A
crash between (1) and (3) leaves the message ``sending``; see
docs/adr/0006-outbox-delivery.md for what happens to it then.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from patronage.clock import Clock, system_clock
from patronage.config import Settings
from patronage.domain.journeys import QuietHours, member_zone
from patronage.domain.messages import (
    CLAIMED,
    DEAD,
    IN_DOUBT,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    Message,
    Send,
    Skip,
    backoff,
    decide_member_message,
    sign_unsubscribe,
)
from patronage.journeys.channels import Channels, Envelope, NotDelivered, webhook_body
from patronage.journeys.rendering import render
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_seconds: int = 30
    lease_seconds: int = 300
    quiet_hours: QuietHours | None = None
    weekly_cap: int = 3
    secret_key: str = "change-me"
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_settings(cls, s: Settings) -> DeliveryPolicy:
        return cls(
            max_attempts=s.outbox_max_attempts,
            backoff_seconds=s.outbox_backoff_seconds,
            lease_seconds=s.outbox_lease_seconds,
            quiet_hours=QuietHours.parse(s.quiet_hours),
            weekly_cap=s.messages_per_week,
            secret_key=s.secret_key,
            public_url=s.public_url.rstrip("/"),
        )


@dataclass(frozen=True)
class Ready:
    """A message marked ``sending``: what to send and under which attempt."""

    message: Message
    envelope: Envelope | None = None
    webhook: tuple[str, str, bytes] | None = None  # url, secret, body


def deliver_due(
    engine: Engine,
    channels: Channels,
    policy: DeliveryPolicy,
    batch: int = 100,
    clock: Clock = system_clock,
) -> Counter[str]:
    """One pass: recover lapsed claims, claim up to ``batch`` due messages, send them.
    Returns how many ended in each outcome (sent, skipped, waiting, retry, dead, in_doubt)."""
    uow = UnitOfWork(engine, clock)
    claim_id = uuid.uuid4().hex
    outcomes: Counter[str] = Counter()
    with uow:
        now = uow.clock()
        requeued, resent, doubtful = uow.outbox.release_lapsed_claims(
            now - timedelta(seconds=policy.lease_seconds)
        )
        ids = uow.outbox.claim(now, batch, claim_id)
        uow.commit()
    outcomes.update(recovered=requeued + resent, in_doubt=doubtful)
    for message_id in ids:
        outcomes[_deliver_one(uow, channels, policy, message_id, claim_id)] += 1
    return +outcomes


def _deliver_one(
    uow: UnitOfWork, channels: Channels, policy: DeliveryPolicy, message_id: int, claim_id: str
) -> str:
    prepared = _prepare(uow, policy, message_id, claim_id)
    if isinstance(prepared, str):
        return prepared
    message = prepared.message
    try:
        if prepared.envelope is not None:
            channels.members[message.channel].send(prepared.envelope)
        elif prepared.webhook is not None:
            url, secret, body = prepared.webhook
            channels.webhooks.post(url, secret, message.template, message.id, body)
    except NotDelivered as exc:
        return _failed(uow, policy, message, claim_id, str(exc), exc.permanent)
    except Exception as exc:  # noqa: BLE001 - the channel cannot tell: maybe delivered
        if message.at_most_once:
            _finish(uow, message, claim_id, status=IN_DOUBT, last_error=f"maybe sent: {exc!r}")
            return IN_DOUBT
        return _failed(uow, policy, message, claim_id, repr(exc), permanent=False)
    _finish(uow, message, claim_id, status=SENT, sent_at=uow.clock(), last_error=None)
    return SENT


def _prepare(
    uow: UnitOfWork, policy: DeliveryPolicy, message_id: int, claim_id: str
) -> Ready | str:
    """Check the message may go now and mark it ``sending``; or record why not."""
    with uow:
        message = uow.outbox.get(message_id)
        if message.status != CLAIMED or message.claim_id != claim_id:
            return "lost_claim"
        now = uow.clock()
        try:
            ready = _ready(uow, policy, message, now)
        except NotDelivered as exc:  # e.g. no such template: retrying cannot help
            uow.outbox.change(message.id, CLAIMED, claim_id, status=DEAD, last_error=str(exc))
            uow.commit()
            return DEAD
        if isinstance(ready, str):
            uow.commit()
            return ready
        uow.outbox.change(
            message.id,
            CLAIMED,
            claim_id,
            status=SENDING,
            attempt_id=uuid.uuid4().hex,
            attempts=message.attempts + 1,
            sending_at=now,
        )
        uow.commit()
        return ready


def _ready(uow: UnitOfWork, policy: DeliveryPolicy, message: Message, now: datetime) -> Ready | str:
    if message.subscriber_id is not None:
        subscriber = uow.webhooks.get(message.subscriber_id)
        if not subscriber.active:
            uow.outbox.change(
                message.id, CLAIMED, message.claim_id, status=SKIPPED, last_error="unsubscribed"
            )
            return SKIPPED
        body = webhook_body(
            message.id, message.template, message.created_at.isoformat(), message.payload
        )
        return Ready(message, webhook=(subscriber.url, subscriber.secret, body))
    assert message.member_id is not None and message.recipient is not None
    uow.members.lock([message.member_id])  # one decision at a time per member (the cap)
    contact = uow.journeys.contact(message.member_id)
    program = uow.programs.get_by_id(message.program_id)
    decision = decide_member_message(
        contact,
        message.channel,
        now,
        member_zone(contact.attributes, program.timezone),
        policy.quiet_hours,
        uow.outbox.sent_since(message.member_id, now - timedelta(days=7)),
        policy.weekly_cap,
    )
    if isinstance(decision, Skip):
        uow.outbox.change(
            message.id, CLAIMED, message.claim_id, status=SKIPPED, last_error=decision.reason
        )
        return SKIPPED
    if not isinstance(decision, Send):
        uow.outbox.change(
            message.id,
            CLAIMED,
            message.claim_id,
            status=PENDING,
            claim_id=None,
            next_attempt_at=decision.until,
            last_error=decision.reason,
        )
        return "waiting"
    return Ready(message, envelope=_envelope(policy, message, contact.name, program.name))


def _envelope(policy: DeliveryPolicy, message: Message, name: str | None, program: str) -> Envelope:
    assert message.member_id is not None and message.recipient is not None
    token = sign_unsubscribe(policy.secret_key, message.member_id, message.channel)
    unsubscribe_url = f"{policy.public_url}/api/v1/unsubscribe/{token}"
    context = {
        **message.payload,
        "name": name,
        "program": program,
        "unsubscribe_url": unsubscribe_url,
    }
    try:
        rendered = render(message.template, message.language, context)
    except Exception as exc:  # noqa: BLE001 - a broken template or payload is permanent
        raise NotDelivered(f"cannot render {message.template!r}: {exc}", permanent=True) from exc
    return Envelope(
        message_id=message.id,
        recipient=message.recipient,
        subject=rendered.subject,
        body=rendered.body,
        template=message.template,
        language=message.language,
        unsubscribe_url=unsubscribe_url,
        data=dict(message.payload),
    )


def _failed(
    uow: UnitOfWork,
    policy: DeliveryPolicy,
    message: Message,
    claim_id: str,
    error: str,
    permanent: bool,
) -> str:
    attempts = message.attempts + 1
    if permanent or attempts >= policy.max_attempts:
        _finish(uow, message, claim_id, status=DEAD, last_error=error)
        return DEAD
    retry_at = uow.clock() + backoff(attempts, policy.backoff_seconds)
    _finish(
        uow,
        message,
        claim_id,
        status=PENDING,
        claim_id=None,
        next_attempt_at=retry_at,
        last_error=error,
    )
    return "retry"


def _finish(uow: UnitOfWork, message: Message, held_by: str, **values: object) -> None:
    with uow:
        uow.outbox.change(message.id, SENDING, held_by, **values)
        uow.commit()
