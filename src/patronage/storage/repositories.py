"""Per-aggregate reads and writes, returning domain objects. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patronage.domain.ledger import Entry, Lot
from patronage.domain.members import Member
from patronage.domain.program import Program, Tier
from patronage.errors import Conflict, NotFound
from patronage.storage.reference import Reference
from patronage.storage.tables import (
    AllocationRow,
    ApiKeyRow,
    AuditRow,
    Base,
    EventRow,
    IdempotencyRow,
    JobRunRow,
    LedgerEntryRow,
    LotRow,
    MemberRow,
    OrderRow,
    ProgramRow,
    TierHistoryRow,
    TierRow,
)


def _table(row: type[Base]) -> Table:
    table = row.__table__
    assert isinstance(table, Table)
    return table


# Statements built once: their parameters are passed at execution, so SQLAlchemy
# reuses the compiled form (this is the hot path of every purchase).
_INSERT_EVENT = insert(_table(EventRow)).returning(EventRow.__table__.c.id)
_INSERT_ORDER = insert(_table(OrderRow))
_INSERT_ENTRY = insert(_table(LedgerEntryRow)).returning(LedgerEntryRow.__table__.c.id)
_INSERT_LOT = insert(_table(LotRow)).returning(LotRow.__table__.c.id)
_INSERT_ALLOCATION = insert(_table(AllocationRow))
_EVENT_COLUMNS = tuple(c.name for c in EventRow.__table__.c if c.name != "id")
_ENTRY_COLUMNS = tuple(c.name for c in LedgerEntryRow.__table__.c if c.name != "id")
_ORDER_COLUMNS = tuple(c.name for c in OrderRow.__table__.c if c.name != "id")
_LOT_COLUMNS = ("program_id", "member_id", "points", "remaining", "earned_at", "available_at",
                "expires_at", "order_id", "origin_lot_id")  # fmt: skip


def _earning() -> Any:
    """PostgreSQL: an entry, the lot it creates and their allocation in one statement
    (data-modifying CTEs), returning (entry id, lot id)."""
    entries, lots = _table(LedgerEntryRow), _table(LotRow)
    allocations = _table(AllocationRow)
    entry = (
        insert(entries)
        .values({c: bindparam(f"e_{c}", type_=entries.c[c].type) for c in _ENTRY_COLUMNS})
        .returning(entries.c.id)
        .cte("e")
    )
    lot_values = [bindparam(f"l_{c}", type_=lots.c[c].type) for c in _LOT_COLUMNS]
    lot = (
        insert(lots)
        .from_select([*_LOT_COLUMNS, "entry_id"], select(*lot_values, entry.c.id))
        .returning(lots.c.id, lots.c.entry_id, lots.c.points)
        .cte("l")
    )
    return (
        insert(allocations)
        .from_select(
            ["entry_id", "lot_id", "points"], select(lot.c.entry_id, lot.c.id, lot.c.points)
        )
        .returning(allocations.c.entry_id, allocations.c.lot_id)
    )


_INSERT_EARNING = _earning()


def _row(columns: tuple[str, ...], values: dict[str, Any], **defaults: Any) -> dict[str, Any]:
    """All columns present (so one compiled statement fits every call)."""
    return {name: values.get(name, defaults.get(name)) for name in columns}


_PROGRAM_FIELDS = [
    "code",
    "name",
    "unit",
    "currency",
    "timezone",
    "earn_rate",
    "expiry_policy",
    "expiry_days",
    "pending_days",
    "tier_metric",
    "tier_window",
    "tier_window_days",
    "tier_review_month",
    "tier_review_day",
    "tier_grace_days",
    "point_value_minor",
]


class ProgramRepository:
    """Programs change rarely: read once, then served from the reference cache."""

    def __init__(self, session: Session, reference: Reference) -> None:
        self.session = session
        self.reference = reference

    def _to_domain(self, row: ProgramRow, tiers: Sequence[TierRow] | None = None) -> Program:
        if tiers is None:
            tiers = self.session.scalars(
                select(TierRow).where(TierRow.program_id == row.id).order_by(TierRow.rank)
            ).all()
        return Program(
            id=row.id,
            tiers=tuple(
                Tier(t.code, t.name, t.rank, t.threshold, t.multiplier, id=t.id) for t in tiers
            ),
            **{name: getattr(row, name) for name in _PROGRAM_FIELDS},
        )

    def get(self, code: str) -> Program:
        return self.reference.get(
            ("program", code), lambda: self._load(ProgramRow.code == code, f"no program {code!r}")
        )

    def get_by_id(self, program_id: int) -> Program:
        return self.reference.get(
            ("program_id", program_id),
            lambda: self._load(ProgramRow.id == program_id, f"no program {program_id}"),
        )

    def _load(self, condition: Any, missing: str) -> Program:
        """Read a program and its tiers in one query."""
        rows = self.session.execute(
            select(ProgramRow, TierRow)
            .outerjoin(TierRow, TierRow.program_id == ProgramRow.id)
            .where(condition)
            .order_by(TierRow.rank)
        ).all()
        if not rows:
            raise NotFound(missing)
        return self._to_domain(rows[0][0], [tier for _, tier in rows if tier is not None])

    def exists(self, code: str) -> bool:
        return self.session.scalar(select(ProgramRow.id).where(ProgramRow.code == code)) is not None

    def add(self, program: Program, now: datetime) -> Program:
        row = ProgramRow(created_at=now, **{n: getattr(program, n) for n in _PROGRAM_FIELDS})
        self.session.add(row)
        self.session.flush()
        for tier in program.tiers:
            self.session.add(
                TierRow(
                    program_id=row.id,
                    code=tier.code,
                    name=tier.name,
                    rank=tier.rank,
                    threshold=tier.threshold,
                    multiplier=tier.multiplier,
                )
            )
        self.session.flush()
        return self._to_domain(row)

    def codes(self) -> list[str]:
        return list(self.session.scalars(select(ProgramRow.code).order_by(ProgramRow.id)))

    def change_tier(self, program_id: int, code: str, threshold: int, multiplier: Any) -> None:
        """Store a tier's new threshold and multiplier. The write moves the reference
        token, so this unit of work and every later one read the program again."""
        self.session.execute(
            update(TierRow)
            .where(TierRow.program_id == program_id, TierRow.code == code)
            .values(threshold=threshold, multiplier=multiplier)
        )


# Built once (building a statement costs more than running it): a member with its tier
# code, by id or by external id, with or without the row lock (PostgreSQL only).
_MEMBER = (
    select(
        MemberRow.id,
        MemberRow.program_id,
        MemberRow.external_id,
        MemberRow.joined_at,
        MemberRow.name,
        MemberRow.phone,
        MemberRow.email,
        MemberRow.birthday,
        MemberRow.consents,
        MemberRow.attributes,
        TierRow.code.label("tier_code"),
        MemberRow.tier_since,
        MemberRow.tier_override_until,
        MemberRow.debt,
        MemberRow.erased_at,
    )
    .select_from(MemberRow)
    .outerjoin(TierRow, MemberRow.tier_id == TierRow.id)
)
_BY_ID = _MEMBER.where(MemberRow.id == bindparam("member_id"))
_BY_EXTERNAL_ID = _MEMBER.where(
    MemberRow.program_id == bindparam("program_id"),
    MemberRow.external_id == bindparam("external_id"),
)
_FOR_UPDATE = {q: q.with_for_update(of=MemberRow) for q in (_BY_ID, _BY_EXTERNAL_ID)}
# A tier move: the open period ends, a new one starts, the member's row follows.
_TH = _table(TierHistoryRow).c
_END_TIER_PERIOD = (
    update(_table(TierHistoryRow))
    .where(_TH.member_id == bindparam("whose"), _TH.valid_to.is_(None))
    .values(valid_to=bindparam("at", type_=_TH.valid_to.type))
)
_START_TIER_PERIOD = insert(_table(TierHistoryRow))
_SET_MEMBER_TIER = (
    update(_table(MemberRow))
    .where(MemberRow.__table__.c.id == bindparam("whose"))
    .values(
        tier_id=bindparam("tier"),
        tier_since=bindparam("at"),
        tier_override_until=bindparam("until"),
    )
)


class MemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _to_domain(self, row: MemberRow, tier_code: str | None) -> Member:
        return Member(
            id=row.id,
            program_id=row.program_id,
            external_id=row.external_id,
            joined_at=row.joined_at,
            name=row.name,
            phone=row.phone,
            email=row.email,
            birthday=row.birthday,
            consents=dict(row.consents or {}),
            attributes=dict(row.attributes or {}),
            tier_code=tier_code,
            tier_since=row.tier_since,
            tier_override_until=row.tier_override_until,
            debt=row.debt,
            erased_at=row.erased_at,
        )

    def _query(self) -> Any:
        return select(MemberRow, TierRow.code).outerjoin(TierRow, MemberRow.tier_id == TierRow.id)

    def _one(self, query: Select[Any], lock: bool, params: dict[str, Any]) -> Member | None:
        """Run a prebuilt member query on the session's connection (after flushing what
        the session holds, as an ORM query would); ``lock`` takes the row lock on
        PostgreSQL (SQLite locks the whole database)."""
        self.session.flush()
        connection = self.session.connection()
        if lock and connection.dialect.name == "postgresql":
            query = _FOR_UPDATE[query]
        found = connection.execute(query, params).first()
        if found is None:
            return None
        values = found._asdict()
        values["consents"] = dict(values["consents"] or {})
        values["attributes"] = dict(values["attributes"] or {})
        return Member(**values)

    def get(self, member_id: int, lock: bool = False) -> Member:
        """One member; ``lock`` also takes the row lock that writes to it need."""
        found = self._one(_BY_ID, lock, {"member_id": member_id})
        if found is None:
            raise NotFound(f"no member {member_id}", member_id=member_id)
        return found

    def by_external_id(
        self, program_id: int, external_id: str, lock: bool = False
    ) -> Member | None:
        params = {"program_id": program_id, "external_id": external_id}
        return self._one(_BY_EXTERNAL_ID, lock, params)

    def ids_by_external_id(self, program_id: int, external_ids: Sequence[str]) -> dict[str, int]:
        rows = self.session.execute(
            select(MemberRow.external_id, MemberRow.id).where(
                MemberRow.program_id == program_id, MemberRow.external_id.in_(external_ids)
            )
        )
        return {ext: mid for ext, mid in rows}

    def find(
        self, program_id: int, phone: str | None = None, email: str | None = None
    ) -> list[Member]:
        query = self._query().where(MemberRow.program_id == program_id)
        if phone is not None:
            query = query.where(MemberRow.phone == phone)
        if email is not None:
            query = query.where(MemberRow.email == email)
        return [self._to_domain(r, c) for r, c in self.session.execute(query.limit(100))]

    def add(self, member: Member, tier_id: int, now: datetime) -> Member:
        row = MemberRow(
            program_id=member.program_id,
            external_id=member.external_id,
            name=member.name,
            phone=member.phone,
            email=member.email,
            birthday=member.birthday,
            joined_at=member.joined_at,
            consents=member.consents,
            attributes=member.attributes,
            tier_id=tier_id,
            tier_since=member.joined_at,
            debt=0,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        self.session.add(
            TierHistoryRow(
                member_id=row.id, tier_id=tier_id, valid_from=member.joined_at, reason="joined"
            )
        )
        return self.get(row.id)

    def lock(self, member_ids: Sequence[int]) -> None:
        """Lock members' rows in id order so concurrent transfers cannot deadlock.
        On SQLite the whole database is already locked by BEGIN IMMEDIATE."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        ids = sorted(set(member_ids))
        locked = self.session.scalars(
            select(MemberRow.id)
            .where(MemberRow.id.in_(ids))
            .order_by(MemberRow.id)
            .with_for_update()
        ).all()
        if len(locked) != len(ids):
            missing = sorted(set(ids) - set(locked))
            raise NotFound(f"no member {missing[0]}", member_id=missing[0])

    def change_debt(self, member_id: int, delta: int) -> None:
        self.session.execute(
            update(MemberRow).where(MemberRow.id == member_id).values(debt=MemberRow.debt + delta)
        )

    def set_tier(
        self,
        member_id: int,
        tier_id: int,
        at: datetime,
        reason: str,
        actor: str | None = None,
        override_until: datetime | None = None,
    ) -> None:
        self.session.flush()
        connection = self.session.connection()
        connection.execute(_END_TIER_PERIOD, {"whose": member_id, "at": at})
        period = {"member_id": member_id, "tier_id": tier_id, "valid_from": at, "valid_to": None}
        connection.execute(_START_TIER_PERIOD, {**period, "reason": reason, "actor": actor})
        move = {"whose": member_id, "tier": tier_id, "at": at, "until": override_until}
        connection.execute(_SET_MEMBER_TIER, move)

    def tier_history(self, member_id: int) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(TierHistoryRow, TierRow.code)
            .join(TierRow, TierHistoryRow.tier_id == TierRow.id)
            .where(TierHistoryRow.member_id == member_id)
            .order_by(TierHistoryRow.valid_from, TierHistoryRow.id)
        )
        return [
            {
                "tier": code,
                "valid_from": h.valid_from,
                "valid_to": h.valid_to,
                "reason": h.reason,
                "actor": h.actor,
            }
            for h, code in rows
        ]

    def ids_in_program(self, program_id: int, after_id: int, limit: int) -> list[int]:
        return list(
            self.session.scalars(
                select(MemberRow.id)
                .where(MemberRow.program_id == program_id, MemberRow.id > after_id)
                .order_by(MemberRow.id)
                .limit(limit)
            )
        )

    def with_expired_override(self, program_id: int, as_of: datetime) -> list[int]:
        return list(
            self.session.scalars(
                select(MemberRow.id)
                .where(
                    MemberRow.program_id == program_id,
                    MemberRow.tier_override_until.is_not(None),
                    MemberRow.tier_override_until <= as_of,
                )
                .order_by(MemberRow.id)
            )
        )

    def update_profile(self, member_id: int, values: dict[str, Any]) -> None:
        self.session.execute(update(MemberRow).where(MemberRow.id == member_id).values(**values))

    def birthday(self, member_id: int) -> date | None:
        return self.session.scalar(select(MemberRow.birthday).where(MemberRow.id == member_id))


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **values: Any) -> int:
        row = _row(_EVENT_COLUMNS, values, attributes={})
        return int(self.session.connection().execute(_INSERT_EVENT, row).scalar_one())

    def source_exists(self, program_id: int, source_id: str) -> bool:
        found = self.session.scalar(
            select(EventRow.id).where(
                EventRow.program_id == program_id, EventRow.source_id == source_id
            )
        )
        return found is not None

    def order(self, program_id: int, order_id: str) -> OrderRow | None:
        return self.session.scalar(
            select(OrderRow).where(OrderRow.program_id == program_id, OrderRow.order_id == order_id)
        )

    def add_order(self, **values: Any) -> None:
        """Record a purchase's order; Conflict if the program already has that order id
        (the unique index decides, also between concurrent purchases)."""
        row = _row(_ORDER_COLUMNS, values, refunded_minor=0, points_reversed=0)
        try:
            self.session.connection().execute(_INSERT_ORDER, row)
        except IntegrityError as exc:
            if "order_id" not in str(exc.orig):
                raise
            order_id = values.get("order_id")
            raise Conflict(
                f"order {order_id} is already recorded", code="duplicate_order", order_id=order_id
            ) from None

    def record_refund(self, order: OrderRow, amount_minor: int, points: int) -> None:
        self.session.execute(
            update(OrderRow)
            .where(OrderRow.id == order.id)
            .values(
                refunded_minor=OrderRow.refunded_minor + amount_minor,
                points_reversed=OrderRow.points_reversed + points,
            )
        )

    def spend_and_visits(self, member_id: int, start: datetime, end: datetime) -> tuple[int, int]:
        """Net spend (purchases less refunds) and purchase count in [start, end]."""
        amount = func.coalesce(func.sum(OrderRow.amount_minor - OrderRow.refunded_minor), 0)
        spend, visits = self.session.execute(
            select(amount, func.count(OrderRow.id)).where(
                OrderRow.member_id == member_id,
                OrderRow.occurred_at >= start,
                OrderRow.occurred_at <= end,
            )
        ).one()
        return int(spend), int(visits)


def _lot(row: LotRow) -> Lot:
    return Lot(row.id, row.remaining, row.earned_at, row.available_at, row.expires_at)


def _entry(row: LedgerEntryRow) -> Entry:
    return Entry(
        id=row.id,
        member_id=row.member_id,
        kind=row.kind,
        points=row.points,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        order_id=row.order_id,
        reason=row.reason,
        actor=row.actor,
        counterparty_id=row.counterparty_id,
        details=dict(row.details or {}),
    )


_NET_EARNED = select(func.coalesce(func.sum(LedgerEntryRow.points), 0)).where(
    LedgerEntryRow.member_id == bindparam("member_id"),
    LedgerEntryRow.kind.in_(("earn", "reverse")),
    LedgerEntryRow.occurred_at >= bindparam("start"),
    LedgerEntryRow.occurred_at <= bindparam("end"),
)


class PointsHolder(NamedTuple):
    """What a balance read needs of a member, beside the lots."""

    program_id: int
    tier_code: str | None
    debt: int


# Built once: a balance read is the hottest request, and building a statement costs more
# than running it. The member and its open lots in one round trip (one row per lot, or
# one row with no lot).
_OPEN_LOT = (
    LotRow.id,
    LotRow.remaining,
    LotRow.earned_at,
    LotRow.available_at,
    LotRow.expires_at,
)
_OPEN_LOTS = (
    select(*_OPEN_LOT)
    .where(LotRow.member_id == bindparam("member_id"), LotRow.remaining > 0)
    .order_by(LotRow.id)
)
_HOLDING = (
    select(MemberRow.program_id, TierRow.code, MemberRow.debt, *_OPEN_LOT)
    .select_from(MemberRow)
    .outerjoin(TierRow, MemberRow.tier_id == TierRow.id)
    .outerjoin(LotRow, (LotRow.member_id == MemberRow.id) & (LotRow.remaining > 0))
    .where(MemberRow.id == bindparam("member_id"))
    .order_by(LotRow.id)
)


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def holding(self, member_id: int) -> tuple[PointsHolder, list[Lot]]:
        """The member's program, tier and debt, and its lots with points left (expired
        or not), in one statement run on the connection (no ORM objects are made)."""
        self.session.flush()
        rows = self.session.connection().execute(_HOLDING, {"member_id": member_id}).all()
        if not rows:
            raise NotFound(f"no member {member_id}", member_id=member_id)
        first = rows[0]
        lots = [Lot(*row[3:]) for row in rows if row[3] is not None]
        return PointsHolder(first[0], first[1], first[2]), lots

    def open_lots(self, member_id: int) -> list[Lot]:
        """Lots with points left, expired or not (callers decide what counts now)."""
        self.session.flush()
        rows = self.session.connection().execute(_OPEN_LOTS, {"member_id": member_id})
        return [Lot(*row) for row in rows]

    def lot_rows(self, member_id: int) -> list[LotRow]:
        return list(
            self.session.scalars(
                select(LotRow).where(LotRow.member_id == member_id).order_by(LotRow.id)
            )
        )

    def lot(self, lot_id: int) -> LotRow:
        row = self.session.get(LotRow, lot_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no lot {lot_id}", lot_id=lot_id)
        return row

    def add_entry(self, **values: Any) -> int:
        row = _row(_ENTRY_COLUMNS, values, details={})
        return int(self.session.connection().execute(_INSERT_ENTRY, row).scalar_one())

    def add_entry_with_lot(self, entry: dict[str, Any], lot: dict[str, Any]) -> tuple[int, int]:
        """An entry and the new lot holding its points (``lot``: the add_lot arguments
        but ``entry_id``); one round trip on PostgreSQL. Returns (entry id, lot id)."""
        if self.session.get_bind().dialect.name != "postgresql":
            entry_id = self.add_entry(**entry)
            return entry_id, self.add_lot(entry_id=entry_id, **lot)
        values = {f"e_{k}": v for k, v in _row(_ENTRY_COLUMNS, entry, details={}).items()}
        lot = {**lot, "remaining": lot["points"]}
        values.update({f"l_{k}": lot.get(k) for k in _LOT_COLUMNS})
        entry_id, lot_id = self.session.connection().execute(_INSERT_EARNING, values).one()
        return int(entry_id), int(lot_id)

    def add_lot(
        self,
        entry_id: int,
        points: int,
        program_id: int,
        member_id: int,
        earned_at: datetime,
        available_at: datetime,
        expires_at: datetime | None,
        order_id: str | None = None,
        origin_lot_id: int | None = None,
    ) -> int:
        """A new lot holding ``points``, with the allocation that put them there."""
        conn = self.session.connection()
        lot_id = int(
            conn.execute(
                _INSERT_LOT,
                {
                    "program_id": program_id,
                    "member_id": member_id,
                    "entry_id": entry_id,
                    "points": points,
                    "remaining": points,
                    "earned_at": earned_at,
                    "available_at": available_at,
                    "expires_at": expires_at,
                    "order_id": order_id,
                    "origin_lot_id": origin_lot_id,
                },
            ).scalar_one()
        )
        conn.execute(_INSERT_ALLOCATION, {"entry_id": entry_id, "lot_id": lot_id, "points": points})
        return lot_id

    def allocate(self, entry_id: int, moves: Sequence[tuple[int, int]]) -> None:
        """Record that an entry moved points into (+) or out of (-) lots, and update
        each lot's remaining in one statement per lot (never read-modify-write)."""
        if not moves:
            return
        self.session.execute(
            insert(AllocationRow),
            [{"entry_id": entry_id, "lot_id": lot_id, "points": pts} for lot_id, pts in moves],
        )
        for lot_id, pts in moves:
            self.session.execute(
                update(LotRow).where(LotRow.id == lot_id).values(remaining=LotRow.remaining + pts)
            )

    def entries(self, member_id: int, limit: int, before_id: int | None = None) -> list[Entry]:
        query = select(LedgerEntryRow).where(LedgerEntryRow.member_id == member_id)
        if before_id is not None:
            query = query.where(LedgerEntryRow.id < before_id)
        rows = self.session.scalars(query.order_by(LedgerEntryRow.id.desc()).limit(limit))
        return [_entry(r) for r in rows]

    def entries_by_id(self, entry_ids: Sequence[int]) -> dict[int, Entry]:
        rows = self.session.scalars(select(LedgerEntryRow).where(LedgerEntryRow.id.in_(entry_ids)))
        return {r.id: _entry(r) for r in rows}

    def allocations_of_lots(self, lot_ids: Sequence[int]) -> list[AllocationRow]:
        return list(
            self.session.scalars(
                select(AllocationRow)
                .where(AllocationRow.lot_id.in_(lot_ids))
                .order_by(AllocationRow.id)
            )
        )

    def net_earned(self, member_id: int, start: datetime, end: datetime) -> int:
        """Points earned less points reversed in [start, end]: what tiers qualify on."""
        self.session.flush()
        params = {"member_id": member_id, "start": start, "end": end}
        total = self.session.connection().execute(_NET_EARNED, params).scalar()
        return int(total or 0)

    def due_lots(self, program_id: int, as_of: datetime, limit: int) -> list[LotRow]:
        return list(
            self.session.scalars(
                select(LotRow)
                .where(
                    LotRow.program_id == program_id,
                    LotRow.remaining > 0,
                    LotRow.expires_at.is_not(None),
                    LotRow.expires_at <= as_of,
                )
                .order_by(LotRow.member_id, LotRow.id)
                .limit(limit)
                .execution_options(populate_existing=True)
            )
        )


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, scope: str, key: str) -> IdempotencyRow | None:
        return self.session.scalar(
            select(IdempotencyRow).where(IdempotencyRow.scope == scope, IdempotencyRow.key == key)
        )

    def add(
        self, scope: str, key: str, fingerprint: str, result: dict[str, Any], now: datetime
    ) -> None:
        self.session.add(
            IdempotencyRow(
                scope=scope, key=key, fingerprint=fingerprint, result=result, created_at=now
            )
        )
        self.session.flush()


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **values: Any) -> None:
        self.session.add(AuditRow(**values))

    def list(self, target_type: str | None, target_id: str | None, limit: int) -> list[AuditRow]:
        query = select(AuditRow)
        if target_type is not None:
            query = query.where(AuditRow.target_type == target_type)
        if target_id is not None:
            query = query.where(AuditRow.target_id == target_id)
        return list(self.session.scalars(query.order_by(AuditRow.id.desc()).limit(limit)))


class ApiKey(NamedTuple):
    id: int
    key_hash: str
    role: str
    member_id: int | None
    name: str | None
    revoked_at: datetime | None


class KeyRepository:
    def __init__(self, session: Session, reference: Reference) -> None:
        self.session = session
        self.reference = reference

    def add(self, **values: Any) -> ApiKeyRow:
        row = ApiKeyRow(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def by_prefix(self, prefix: str) -> ApiKeyRow | None:
        return self.session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))

    def credentials(self, prefix: str) -> ApiKey | None:
        """The key's hash, role and state, from the reference cache."""

        def load() -> ApiKey | None:
            row = self.by_prefix(prefix)
            if row is None:
                return None
            return ApiKey(row.id, row.key_hash, row.role, row.member_id, row.name, row.revoked_at)

        return self.reference.get(("api_key", prefix), load)

    def revoke(self, prefix: str, at: datetime) -> bool:
        """Mark the key revoked; False if it already was."""
        result = self.session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.prefix == prefix, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def last_as_of(self, name: str, program_id: int) -> datetime | None:
        return self.session.scalar(
            select(func.max(JobRunRow.as_of)).where(
                JobRunRow.name == name, JobRunRow.program_id == program_id
            )
        )

    def record(
        self, name: str, program_id: int, as_of: datetime, now: datetime, **details: Any
    ) -> None:
        self.session.add(
            JobRunRow(
                name=name, program_id=program_id, as_of=as_of, finished_at=now, details=details
            )
        )
