"""Building blocks for tests: a ready database with the default program, and events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from patronage.clock import FixedClock
from patronage.domain.members import Member
from patronage.services.events import EventRequest, EventResult, record_event
from patronage.services.members import NewMember, enroll_member
from patronage.services.programs import ensure_default_program
from patronage.services.rules import save_rule
from patronage.storage.uow import UnitOfWork


class Shop:
    """The default program on a real database, driven through the services."""

    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        self.engine = engine
        self.clock = clock
        ensure_default_program(self.uow())
        self._orders = 0

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)

    def member(self, external_id: str = "m1", **profile: Any) -> Member:
        return enroll_member(self.uow(), NewMember(external_id=external_id, **profile))

    def rule(self, **rule: Any) -> dict[str, Any]:
        """Save an earning rule; named after its code and firing on every event unless
        the rule says otherwise."""
        data = {"name": rule.get("code", "r").title(), "condition": "true", **rule}
        return save_rule(self.uow(), data, "test")

    def buy(
        self,
        member: Member,
        amount: str,
        order_id: str | None = None,
        at: datetime | None = None,
        key: str | None = None,
        **extra: Any,
    ) -> EventResult:
        self._orders += 1
        request = EventRequest(
            type="purchase",
            member_id=member.id,
            order_id=order_id or f"o{self._orders}",
            amount=Decimal(amount),
            occurred_at=at or self.clock(),
            **extra,
        )
        return record_event(self.uow(), request, key)

    def refund(
        self, member: Member, order_id: str, amount: str, at: datetime | None = None
    ) -> EventResult:
        request = EventRequest(
            type="refund",
            member_id=member.id,
            original_order_id=order_id,
            amount=Decimal(amount),
            occurred_at=at or self.clock(),
        )
        return record_event(self.uow(), request)
