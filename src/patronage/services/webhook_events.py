"""Webhook events, written to the outbox inside the transaction of the change itself.

The services call ``emit`` right where the change happens (a credit or debit of
points, a tier move, a coupon issued to a member, a reward redeemed): one outbox row
per interested subscriber, in the same transaction, so a rolled-back change sends
nothing and a committed one is never lost. Fan-out happens here, at write time, so a
subscriber added later does not receive older events. With no subscriber nothing is
written (the purchase path pays one small query, cached per transaction).
"""

from __future__ import annotations

from typing import Any

from patronage.domain.messages import PENDING, WEBHOOK
from patronage.storage.uow import UnitOfWork


def emit(
    uow: UnitOfWork,
    program_id: int | None,
    event: str,
    member_id: int | None,
    data: dict[str, Any],
    once_per: str | None = None,
) -> int:
    """Queue ``event`` for every subscriber that wants it; returns how many.
    ``once_per`` (e.g. a lot id) makes the event unique per member and subscriber."""
    if program_id is None:
        return 0
    now = uow.clock()
    queued = 0
    for subscriber_id, url in uow.webhooks.listening(program_id, event):
        added = uow.outbox.add(
            program_id=program_id,
            channel=WEBHOOK,
            recipient=url,
            template=event,
            language="en",
            payload={"member_id": member_id, **data},
            member_id=member_id,
            subscriber_id=subscriber_id,
            journey="webhook" if once_per else None,
            step=f"{event}:{subscriber_id}" if once_per else None,
            occurrence=once_per,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        queued += added is not None
    return queued


def tier_changed(
    uow: UnitOfWork, program_id: int | None, member_id: int, tier: str, reason: str
) -> None:
    emit(uow, program_id, "tier.changed", member_id, {"tier": tier, "reason": reason})
