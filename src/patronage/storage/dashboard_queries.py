"""SQL aggregates behind the manager's dashboard (read-only, SQLite and PostgreSQL).

Months are calendar months in UTC, labelled 'YYYY-MM'. The store filter applies to what
an event carries a store for (purchases and the points they earned); redemptions,
expiry and the outstanding balance are program-wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import Session

from patronage.storage.tables import EventRow, LedgerEntryRow, MemberRow

ACTIVE_DAYS = 90


@dataclass(frozen=True)
class DashboardFilter:
    program_id: int
    start: datetime
    end: datetime  # exclusive
    store: str | None = None


def month_of(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _purchases(f: DashboardFilter, start: datetime | None = None) -> list[ColumnElement[bool]]:
    conditions = [
        EventRow.program_id == f.program_id,
        EventRow.type == "purchase",
        EventRow.occurred_at >= (start or f.start),
        EventRow.occurred_at < f.end,
    ]
    if f.store:
        conditions.append(EventRow.store == f.store)
    return conditions


def member_counts(session: Session, f: DashboardFilter) -> dict[str, int]:
    in_program = MemberRow.program_id == f.program_id
    total = session.scalar(select(func.count()).where(in_program, MemberRow.joined_at < f.end))
    new = session.scalar(
        select(func.count()).where(
            in_program, MemberRow.joined_at >= f.start, MemberRow.joined_at < f.end
        )
    )
    # Buyers and revenue in the range, and members active in its last ACTIVE_DAYS (even
    # before its start), in one pass over the purchases: three separate counts cost
    # three scans of the events on a large program.
    active_from = f.end - timedelta(days=ACTIVE_DAYS)
    in_range = EventRow.occurred_at >= f.start
    recent = EventRow.occurred_at >= active_from
    buyers, revenue, active = session.execute(
        select(
            func.count(distinct(case((in_range, EventRow.member_id)))),
            func.coalesce(func.sum(case((in_range, EventRow.amount_minor))), 0),
            func.count(distinct(case((recent, EventRow.member_id)))),
        ).where(*_purchases(f, min(f.start, active_from)))
    ).one()
    return {
        "members": int(total or 0),
        "new_members": int(new or 0),
        "active_members": int(active or 0),
        "buyers": int(buyers or 0),
        "revenue_minor": int(revenue or 0),
    }


def stores(session: Session, program_id: int) -> list[str]:
    rows = session.scalars(
        select(EventRow.store)
        .where(EventRow.program_id == program_id, EventRow.store.is_not(None))
        .distinct()
        .order_by(EventRow.store)
    )
    return [s for s in rows if s]


def monthly_points(session: Session, f: DashboardFilter) -> list[dict[str, Any]]:
    """Per month: points issued (earned and positive adjustments), redeemed, expired."""
    month = month_of(session, LedgerEntryRow.occurred_at)
    points = LedgerEntryRow.points
    kind = LedgerEntryRow.kind
    query = (
        select(
            month.label("month"),
            func.sum(case((kind.in_(("earn", "adjust")) & (points > 0), points), else_=0)),
            func.sum(case((kind == "redeem", -points), else_=0)),
            func.sum(case((kind == "expire", -points), else_=0)),
            func.sum(points),
        )
        .where(
            LedgerEntryRow.program_id == f.program_id,
            LedgerEntryRow.occurred_at >= f.start,
            LedgerEntryRow.occurred_at < f.end,
        )
        .group_by(month)
        .order_by(month)
    )
    if f.store:
        query = query.join(EventRow, EventRow.id == LedgerEntryRow.event_id).where(
            EventRow.store == f.store
        )
    return [
        {
            "month": m,
            "issued": int(i or 0),
            "redeemed": int(r or 0),
            "expired": int(e or 0),
            "net": int(n or 0),
        }
        for m, i, r, e, n in session.execute(query)
    ]


def outstanding_before(session: Session, program_id: int, at: datetime) -> int:
    """Net points of every ledger entry before ``at``: the points still owed then."""
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntryRow.points), 0)).where(
            LedgerEntryRow.program_id == program_id, LedgerEntryRow.occurred_at < at
        )
    )
    return int(total or 0)


def revenue_by_member(session: Session, f: DashboardFilter) -> list[int]:
    """Net spend (purchases less refunds) per member who bought in the range, minor units."""
    sign = case((EventRow.type == "refund", -1), else_=1)
    conditions = [
        EventRow.program_id == f.program_id,
        EventRow.type.in_(("purchase", "refund")),
        EventRow.occurred_at >= f.start,
        EventRow.occurred_at < f.end,
    ]
    if f.store:
        conditions.append(EventRow.store == f.store)
    rows = session.scalars(
        select(func.sum(sign * func.abs(EventRow.amount_minor)))
        .where(*conditions)
        .group_by(EventRow.member_id)
    )
    return [int(v or 0) for v in rows]


def purchase_months(session: Session, f: DashboardFilter) -> list[tuple[int, str]]:
    """(member, month) for each month a member bought in, within the range."""
    month = month_of(session, EventRow.occurred_at)
    rows = session.execute(
        select(EventRow.member_id, month).where(*_purchases(f)).group_by(EventRow.member_id, month)
    )
    return [(int(m), str(mo)) for m, mo in rows]
