"""The fast path of `import transactions`: new members replayed in memory.

Most of a history file is about customers the platform has never seen. For them there
is no state in the database to read or lock: each one's purchases and refunds can be
replayed in memory, in time order, with the same domain functions the event path uses
(points_for_amount, repay_debt, lot_expiry, reversal_for_refund, the tier rules), and
the resulting members, events, entries, lots, allocations, orders and tier history
written with one multi-row statement per table and chunk of members, each chunk one
transaction. The result is the same, row for row, as recording the events one by one
(tests/integration/test_bulk_import.py checks that).

The fast path only takes what it can replay without the database: members not yet
stored, whose orders no other member's rows (nor any stored order) mention, in a
program whose purchases no rule, paid plan or webhook subscriber acts upon and whose
tiers qualify on points. Everything else goes through the event path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, select

from patronage.domain import tiers as tier_rules
from patronage.domain.ledger import (
    lot_available_at,
    lot_expiry,
    points_for_amount,
    repay_debt,
    reversal_for_refund,
)
from patronage.domain.program import Program, Tier
from patronage.errors import InvalidInput, PatronageError, RuleViolation
from patronage.services.events import EventRequest, to_minor
from patronage.storage.bulk import insert_rows, reserve_ids
from patronage.storage.rules_repository import RulesRepository
from patronage.storage.tables import (
    AllocationRow,
    EventRow,
    LedgerEntryRow,
    LotRow,
    MemberRow,
    OrderRow,
    TierHistoryRow,
)
from patronage.storage.uow import UnitOfWork

Row = tuple[int, EventRequest]  # (line in the file, the event)
IN_CHUNK = 900  # values per IN (...) list


def can_replay(uow: UnitOfWork, program: Program) -> bool:
    """Does nothing but the ledger and the tiers act on this program's purchases?"""
    rules = RulesRepository(uow.session)
    program_id = program.id or 0
    return (
        program.tier_metric == "points"
        and not uow.memberships.any_plan_multiplies_earning()
        and not any(rules.live(program_id, kind, ["active"]) for kind in ("purchase", "refund"))
        and not any(
            uow.webhooks.listening(program_id, event) for event in ("points.earned", "tier.changed")
        )
    )


def split(uow: UnitOfWork, program: Program, rows: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """(rows the fast path can replay, rows for the event path), each in file time order."""
    by_member: dict[str, list[Row]] = defaultdict(list)
    owners: dict[str, set[str]] = defaultdict(set)
    for line, request in rows:
        member = request.member_external_id or ""
        by_member[member].append((line, request))
        for order in (request.order_id, request.original_order_id):
            if order:
                owners[order].add(member)
    tangled = {m for members in owners.values() if len(members) > 1 for m in members}
    stored_members = _existing(uow, MemberRow.external_id, list(by_member), program)
    stored_orders = _existing(uow, OrderRow.order_id, list(owners), program)
    stored_sources = _existing(
        uow, EventRow.source_id, [r.source_id for _, r in rows if r.source_id], program
    )
    slow = tangled | stored_members
    for member, member_rows in by_member.items():
        if any(
            r.source_id in stored_sources or (r.order_id or r.original_order_id) in stored_orders
            for _, r in member_rows
        ):
            slow.add(member)
    fast = [row for row in rows if (row[1].member_external_id or "") not in slow]
    return fast, [row for row in rows if (row[1].member_external_id or "") in slow]


def _existing(uow: UnitOfWork, column: Any, values: list[str], program: Program) -> set[str]:
    """Which of ``values`` the program's rows already hold in ``column``. PostgreSQL
    gets them as one array parameter, SQLite in lists of at most IN_CHUNK values."""
    table = column.class_
    in_program = table.program_id == program.id
    if uow.is_postgres:
        wanted = any_(bindparam("values", values, type_=ARRAY(String)))
        return set(uow.session.scalars(select(column).where(in_program, column == wanted)))
    found: set[str] = set()
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        found.update(uow.session.scalars(select(column).where(in_program, column.in_(chunk))))
    return found


# --- replaying one member in memory -------------------------------------------------------


@dataclass
class _Lot:
    key: int
    values: dict[str, Any]


@dataclass
class _Order:
    amount: int
    event_key: int
    lot: _Lot | None
    points: int
    refunded: int = 0
    reversed: int = 0


@dataclass
class Replay:
    """What one chunk of members writes, with keys standing in for ids until insert."""

    program: Program
    now: datetime
    members: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    lots: list[_Lot] = field(default_factory=list)
    allocations: list[tuple[int, int, int]] = field(default_factory=list)  # entry, lot, pts
    orders: list[tuple[str, _Order, dict[str, Any]]] = field(default_factory=list)
    imported: int = 0
    already_imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class MemberReplay:
    """One new member's rows, in time order, as the event path would record them."""

    def __init__(self, replay: Replay, member_key: int, external_id: str) -> None:
        self.replay = replay
        self.key = member_key
        self.external_id = external_id
        self.program = replay.program
        self.tier: Tier = replay.program.base_tier()
        self.tier_since: datetime | None = None
        self.debt = 0
        self.orders: dict[str, _Order] = {}
        self.sources: set[str] = set()
        self.earned: list[tuple[datetime, int]] = []  # earn and reverse entries, for tiers
        self.history: list[dict[str, Any]] = []

    def run(self, rows: Iterable[Row]) -> None:
        if len(self.external_id) > 128:  # as enrolment refuses it (services.members)
            message = "external_id is required (at most 128 characters)"
            self.replay.rejected.extend((line, message) for line, _ in rows)
            return
        for line, request in rows:
            if request.source_id in self.sources or (
                request.type == "purchase" and request.order_id in self.orders
            ):
                self.replay.already_imported += 1
                continue
            try:
                if request.type == "purchase":
                    self._purchase(request)
                else:
                    self._refund(request)
            except PatronageError as exc:
                self.replay.rejected.append((line, exc.message))
                continue
            self.sources.add(request.source_id or "")
            self.replay.imported += 1
        if self.tier_since is not None:
            self._store_member()

    def _event(self, request: EventRequest) -> int:
        currency = self.program.currency
        if request.currency and request.currency.upper() != currency:
            raise InvalidInput(
                f"currency {request.currency} differs from the program's {currency}",
                field="currency",
            )
        if self.tier_since is None:  # the first event recorded enrols the member
            self.tier_since = request.occurred_at
            self.history.append(self._history(self.tier, request.occurred_at, "joined"))
        self.replay.events.append(
            {
                "member": self.key,
                "type": request.type,
                "source_id": request.source_id,
                "order_id": request.order_id,
                "original_order_id": request.original_order_id,
                "occurred_at": request.occurred_at,
                "amount_minor": to_minor(request.amount) if request.amount is not None else None,
                "store": request.store,
                "channel": request.channel,
                "staff_id": request.staff_id,
                "items": request.items,
            }
        )
        return len(self.replay.events) - 1

    def _entry(
        self, kind: str, points: int, at: datetime, event: int, order_id: str, **details: Any
    ) -> int:
        self.replay.entries.append(
            {
                "member": self.key,
                "kind": kind,
                "points": points,
                "occurred_at": at,
                "event": event,
                "order_id": order_id,
                "details": details,
            }
        )
        self.earned.append((at, points))
        return len(self.replay.entries) - 1

    def _purchase(self, request: EventRequest) -> None:
        amount = to_minor(request.amount or Decimal(0))
        event = self._event(request)
        tier, order_id, at = self.tier, request.order_id or "", request.occurred_at
        points = points_for_amount(amount, self.program.earn_rate, tier.multiplier)
        lot = None
        if points > 0:
            details = {
                "amount_minor": amount,
                "tier": tier.code,
                "multiplier": str(tier.multiplier),
            }
            entry = self._entry("earn", points, at, event, order_id, **details)
            repaid, to_lot = repay_debt(points, self.debt)
            self.debt -= repaid
            if to_lot:
                lot = self._lot(entry, to_lot, request)
        order = _Order(amount, event, lot, points)
        self.orders[order_id] = order
        self.replay.orders.append((order_id, order, {"member": self.key}))
        self._requalify(at, points)

    def _lot(self, entry: int, points: int, request: EventRequest) -> _Lot:
        at = request.occurred_at
        lot = _Lot(
            len(self.replay.lots),
            {
                "member": self.key,
                "entry": entry,
                "points": points,
                "remaining": points,
                "earned_at": at,
                "available_at": lot_available_at(self.program, at),
                "expires_at": lot_expiry(self.program, at),
                "order_id": request.order_id,
            },
        )
        self.replay.lots.append(lot)
        self.replay.allocations.append((entry, lot.key, points))
        return lot

    def _refund(self, request: EventRequest) -> None:
        original = request.original_order_id or request.order_id or ""
        order = self.orders.get(original)
        if order is None:
            raise RuleViolation(
                f"no order {original} to refund", code="unknown_order", original_order_id=original
            )
        amount = to_minor(request.amount or Decimal(0))
        points = reversal_for_refund(
            order.amount, order.refunded, amount, order.points, order.reversed
        )
        event = self._event(request)
        order.refunded += amount
        order.reversed += points
        if points <= 0:
            return
        taken = min(points, order.lot.values["remaining"]) if order.lot else 0
        debt = points - taken
        entry = self._entry(
            "reverse",
            -(taken + debt),
            request.occurred_at,
            event,
            original,
            from_lot=taken,
            to_debt=debt,
            expired_not_owed=0,
        )
        if taken and order.lot is not None:
            order.lot.values["remaining"] -= taken
            self.replay.allocations.append((entry, order.lot.key, -taken))
        self.debt += debt

    def _requalify(self, at: datetime, points: int) -> None:
        top = max(t.rank for t in self.program.tiers)
        if self.tier.rank == top or points <= 0:
            return
        start = tier_rules.window_start(self.program, at)
        value = sum(p for when, p in self.earned if start <= when <= at)
        decision = tier_rules.on_activity(
            self.program, self.tier, tier_rules.qualifying_tier(self.program, value), False
        )
        if decision is None:
            return
        since = max(at, self.tier_since) if self.tier_since else at
        self.history[-1]["valid_to"] = since
        self.history.append(self._history(decision.tier, since, decision.reason))
        self.tier, self.tier_since = decision.tier, since

    def _history(self, tier: Tier, at: datetime, reason: str) -> dict[str, Any]:
        return {"member": self.key, "tier_id": tier.id, "valid_from": at, "reason": reason}

    def _store_member(self) -> None:
        joined = self.history[0]["valid_from"]
        self.replay.members.append(
            {
                "key": self.key,
                "external_id": self.external_id,
                "joined_at": joined,
                "tier_id": self.tier.id,
                "tier_since": self.tier_since,
                "debt": self.debt,
            }
        )
        self.replay.history.extend(self.history)


def replay_members(program: Program, now: datetime, rows: Sequence[Row]) -> Replay:
    """Replay the rows (new members only) in memory; nothing is written."""
    replay = Replay(program, now)
    by_member: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_member[row[1].member_external_id or ""].append(row)
    for key, (external_id, member_rows) in enumerate(by_member.items()):
        MemberReplay(replay, key, external_id).run(member_rows)
    return replay


# --- writing a replay ----------------------------------------------------------------------


def _with_ids(uow: UnitOfWork, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Give ``rows`` new ids (in place) and return them."""
    ids = reserve_ids(uow.session, model.__table__, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    return ids


def write(uow: UnitOfWork, replay: Replay) -> None:
    """Insert everything the replay produced, inside the caller's transaction."""
    program, now = replay.program, replay.now
    members = [
        {
            "program_id": program.id,
            "external_id": m["external_id"],
            "joined_at": m["joined_at"],
            "consents": {},
            "attributes": {},
            "tier_id": m["tier_id"],
            "tier_since": m["tier_since"],
            "debt": m["debt"],
            "created_at": now,
        }
        for m in replay.members
    ]
    if not members:
        return
    member_ids = dict(
        zip([m["key"] for m in replay.members], _with_ids(uow, MemberRow, members), strict=True)
    )
    history = [
        {
            "member_id": member_ids[h["member"]],
            "tier_id": h["tier_id"],
            "valid_from": h["valid_from"],
            "valid_to": h.get("valid_to"),
            "reason": h["reason"],
        }
        for h in replay.history
    ]
    events = [
        {
            **{k: v for k, v in e.items() if k != "member"},
            "program_id": program.id,
            "member_id": member_ids[e["member"]],
            "recorded_at": now,
            "currency": program.currency,
            "attributes": {},
        }
        for e in replay.events
    ]
    event_ids = _with_ids(uow, EventRow, events)
    entries = [
        {
            "program_id": program.id,
            "member_id": member_ids[e["member"]],
            "kind": e["kind"],
            "points": e["points"],
            "occurred_at": e["occurred_at"],
            "recorded_at": now,
            "event_id": event_ids[e["event"]],
            "order_id": e["order_id"],
            "details": e["details"],
        }
        for e in replay.entries
    ]
    entry_ids = _with_ids(uow, LedgerEntryRow, entries)
    lots = [
        {
            **{k: v for k, v in lot.values.items() if k not in ("member", "entry")},
            "program_id": program.id,
            "member_id": member_ids[lot.values["member"]],
            "entry_id": entry_ids[lot.values["entry"]],
        }
        for lot in replay.lots
    ]
    lot_ids = _with_ids(uow, LotRow, lots)
    allocations = [
        {"entry_id": entry_ids[e], "lot_id": lot_ids[lot], "points": pts}
        for e, lot, pts in replay.allocations
    ]
    orders = [
        {
            "program_id": program.id,
            "member_id": member_ids[extra["member"]],
            "order_id": order_id,
            "event_id": event_ids[order.event_key],
            "amount_minor": order.amount,
            "refunded_minor": order.refunded,
            "points_earned": order.points,
            "points_reversed": order.reversed,
            "lot_id": lot_ids[order.lot.key] if order.lot else None,
            "occurred_at": replay.events[order.event_key]["occurred_at"],
        }
        for order_id, order, extra in replay.orders
    ]
    for model, rows in (
        (MemberRow, members),
        (TierHistoryRow, history),
        (EventRow, events),
        (LedgerEntryRow, entries),
        (LotRow, lots),
        (AllocationRow, allocations),
        (OrderRow, orders),
    ):
        insert_rows(uow.session, model.__table__, rows)  # type: ignore[arg-type]


def chunks_by_member(rows: Sequence[Row], members_per_chunk: int) -> Iterator[list[Row]]:
    """The rows in chunks holding whole members, each chunk in file time order."""
    order: dict[str, int] = {}
    for _, request in rows:
        order.setdefault(request.member_external_id or "", len(order) // members_per_chunk)
    chunks: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        chunks[order[row[1].member_external_id or ""]].append(row)
    for index in sorted(chunks):
        yield chunks[index]
