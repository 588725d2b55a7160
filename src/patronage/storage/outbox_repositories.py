"""The outbox and webhook subscribers. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patronage.domain.messages import (
    CLAIMED,
    DEAD,
    IN_DOUBT,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    WEBHOOK,
    Message,
)
from patronage.errors import NotFound
from patronage.storage.reference import Reference
from patronage.storage.tables import OutboxRow, WebhookSubscriberRow

_MESSAGE_FIELDS = tuple(Message.__dataclass_fields__)


def _message(row: OutboxRow) -> Message:
    return Message(**{name: getattr(row, name) for name in _MESSAGE_FIELDS})


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_ignoring_duplicates(self) -> Insert:
        """INSERT that does nothing when the (member, journey, step, occurrence) key exists."""
        if self.session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(OutboxRow).on_conflict_do_nothing()
        return sqlite.insert(OutboxRow).on_conflict_do_nothing()

    def add(self, **values: Any) -> int | None:
        """A new message; None when this journey step was already recorded."""
        statement = self._insert_ignoring_duplicates().values(**values).returning(OutboxRow.id)
        return self.session.execute(statement).scalar_one_or_none()

    def add_once(self, rows: Sequence[dict[str, Any]]) -> list[str | None]:
        """Many journey messages in one statement, skipping keys already recorded;
        returns the journey of each message actually added."""
        if not rows:
            return []
        statement = self._insert_ignoring_duplicates().values(list(rows))
        return list(self.session.scalars(statement.returning(OutboxRow.journey)))

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(OutboxRow), list(rows))

    def get(self, message_id: int) -> Message:
        row = self.session.get(OutboxRow, message_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no outbox message {message_id}", message_id=message_id)
        return _message(row)

    def change(
        self, message_id: int, expected_status: str, held_by: str | None, **values: Any
    ) -> bool:
        """Move a message on, only if it is still in ``expected_status`` under the claim ``held_by``
        (so a worker whose claim lapsed cannot overwrite another worker's result)."""
        statement = update(OutboxRow).where(
            OutboxRow.id == message_id, OutboxRow.status == expected_status
        )
        if held_by is not None:
            statement = statement.where(OutboxRow.claim_id == held_by)
        return bool(self.session.execute(statement.values(**values)).rowcount)  # type: ignore[attr-defined]

    def claim(self, now: datetime, limit: int, claim_id: str) -> list[int]:
        """Take up to ``limit`` due messages for one worker. PostgreSQL skips rows
        another worker holds (FOR UPDATE SKIP LOCKED); SQLite has one writer anyway."""
        query = (
            select(OutboxRow.id)
            .where(OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(self.session.scalars(query))
        if ids:
            self.session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids))
                .values(status=CLAIMED, claim_id=claim_id, claimed_at=now)
            )
        return ids

    def release_lapsed_claims(self, cutoff: datetime) -> tuple[int, int, int]:
        """Messages whose worker vanished before ``cutoff``: claimed ones go back to
        pending (nothing was sent); a webhook caught sending is sent again (at least
        once); a journey message caught sending becomes in_doubt (at most once).
        Returns (requeued, webhooks resent, in doubt)."""
        lapsed_claims = self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.status == CLAIMED, OutboxRow.claimed_at < cutoff)
            .values(status=PENDING, claim_id=None)
        )
        webhooks = self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.status == SENDING, OutboxRow.sending_at < cutoff)
            .where(OutboxRow.channel == WEBHOOK)
            .values(status=PENDING, claim_id=None, last_error="worker stopped while sending")
        )
        doubtful = self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.status == SENDING, OutboxRow.sending_at < cutoff)
            .where(OutboxRow.channel != WEBHOOK)
            .values(
                status=IN_DOUBT,
                claim_id=None,
                last_error="worker stopped while sending: may or may not have been delivered",
            )
        )
        return tuple(r.rowcount for r in (lapsed_claims, webhooks, doubtful))  # type: ignore[attr-defined]

    def sent_since(self, member_id: int, since: datetime) -> int:
        """Journey messages sent to a member since ``since`` (for the weekly cap)."""
        return int(
            self.session.scalar(
                select(func.count(OutboxRow.id)).where(
                    OutboxRow.member_id == member_id,
                    OutboxRow.sent_at >= since,
                    OutboxRow.status == SENT,
                    OutboxRow.channel != WEBHOOK,
                )
            )
            or 0
        )

    def failed(self, limit: int) -> list[Message]:
        """The dead-letter list: dead (attempts used up) and in_doubt, oldest first."""
        rows = self.session.scalars(
            select(OutboxRow)
            .where(OutboxRow.status.in_((DEAD, IN_DOUBT)))
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        return [_message(r) for r in rows]

    def requeue(self, message_id: int, now: datetime) -> bool:
        """Send a dead, in-doubt or skipped message again from scratch."""
        result = self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id, OutboxRow.status.in_((DEAD, IN_DOUBT, SKIPPED)))
            .values(status=PENDING, attempts=0, next_attempt_at=now, claim_id=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def for_member(self, member_id: int) -> list[Message]:
        rows = self.session.scalars(
            select(OutboxRow).where(OutboxRow.member_id == member_id).order_by(OutboxRow.id)
        )
        return [_message(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.session.execute(
            select(OutboxRow.status, func.count(OutboxRow.id)).group_by(OutboxRow.status)
        )
        return {status: int(n) for status, n in rows}


class WebhookRepository:
    def __init__(self, session: Session, reference: Reference) -> None:
        self.session = session
        self.reference = reference

    def add(self, program_id: int, url: str, secret: str, events: list[str], now: datetime) -> int:
        row = WebhookSubscriberRow(
            program_id=program_id,
            url=url,
            secret=secret,
            events=events,
            active=True,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def listening(self, program_id: int, event: str) -> list[tuple[int, str]]:
        """(id, url) of the active subscribers of a program that want ``event``
        (from the reference cache)."""

        def load() -> list[tuple[int, str, list[Any]]]:
            rows = self.session.execute(
                select(
                    WebhookSubscriberRow.id, WebhookSubscriberRow.url, WebhookSubscriberRow.events
                )
                .where(WebhookSubscriberRow.program_id == program_id, WebhookSubscriberRow.active)
                .order_by(WebhookSubscriberRow.id)
            )
            return [(i, url, list(ev or [])) for i, url, ev in rows]

        subscribers = self.reference.get(("webhook_subscribers", program_id), load)
        return [(i, url) for i, url, events in subscribers if event in events]

    def get(self, subscriber_id: int) -> WebhookSubscriberRow:
        row = self.session.get(WebhookSubscriberRow, subscriber_id)
        if row is None:
            raise NotFound(f"no webhook subscriber {subscriber_id}", subscriber_id=subscriber_id)
        return row

    def all(self, program_id: int) -> list[WebhookSubscriberRow]:
        return list(
            self.session.scalars(
                select(WebhookSubscriberRow)
                .where(WebhookSubscriberRow.program_id == program_id)
                .order_by(WebhookSubscriberRow.id)
            )
        )

    def deactivate(self, subscriber_id: int) -> None:
        self.get(subscriber_id).active = False
        self.session.flush()
