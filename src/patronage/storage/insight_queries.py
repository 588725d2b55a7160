"""SQL aggregates behind the dashboard's tier, RFM, NPS, complaint and campaign panels
(read-only, SQLite and PostgreSQL). The filter is the dashboard's: a date range (end
exclusive) and an optional store.

Tier moves and the tier distribution are program-wide (a tier belongs to the member,
not to a store). RFM, campaign awards and NPS answers follow the store filter; a
complaint follows it through the store of the order it is about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

from patronage.storage.dashboard_queries import DashboardFilter, month_of
from patronage.storage.rules_tables import CampaignRow, RuleAwardRow
from patronage.storage.tables import (
    ComplaintRow,
    EventRow,
    OrderRow,
    SurveyResponseRow,
    TierHistoryRow,
    TierRow,
)

TOP_CAMPAIGNS = 10


def day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The calendar day (UTC) of a timestamp, comparable and countable in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def tier_distribution_at(session: Session, program_id: int, at: datetime) -> list[tuple[str, int]]:
    """Members per tier just before ``at``, from the tier history (every tier listed)."""
    held = and_(
        TierHistoryRow.tier_id == TierRow.id,
        TierHistoryRow.valid_from < at,
        or_(TierHistoryRow.valid_to.is_(None), TierHistoryRow.valid_to >= at),
    )
    rows = session.execute(
        select(TierRow.name, func.count(TierHistoryRow.id))
        .select_from(TierRow)
        .outerjoin(TierHistoryRow, held)
        .where(TierRow.program_id == program_id)
        .group_by(TierRow.name, TierRow.rank)
        .order_by(TierRow.rank)
    )
    return [(name, int(count)) for name, count in rows]


def tier_moves(session: Session, f: DashboardFilter) -> list[dict[str, Any]]:
    """Moves between tiers that took effect in the range, counted per (from, to) pair.

    A move is a tier-history row whose member's previous row (by id) held another tier;
    the first row of a member (joining) is not a move.
    """
    previous = func.lag(TierHistoryRow.tier_id).over(
        partition_by=TierHistoryRow.member_id, order_by=TierHistoryRow.id
    )
    history = select(
        TierHistoryRow.tier_id, TierHistoryRow.valid_from, previous.label("previous_id")
    ).subquery()
    before, after = aliased(TierRow), aliased(TierRow)
    rows = session.execute(
        select(before.name, before.rank, after.name, after.rank, func.count())
        .select_from(history)
        .join(before, before.id == history.c.previous_id)
        .join(after, after.id == history.c.tier_id)
        .where(
            after.program_id == f.program_id,
            history.c.valid_from >= f.start,
            history.c.valid_from < f.end,
            history.c.previous_id != history.c.tier_id,
        )
        .group_by(before.name, before.rank, after.name, after.rank)
        .order_by(before.rank, after.rank)
    )
    return [
        {
            "from": from_name,
            "to": to_name,
            "direction": "up" if to_rank > from_rank else "down",
            "members": int(count),
        }
        for from_name, from_rank, to_name, to_rank, count in rows
    ]


def _in_range(f: DashboardFilter, column: Any) -> list[ColumnElement[bool]]:
    return [column >= f.start, column < f.end]


def rfm_inputs(session: Session, f: DashboardFilter) -> list[tuple[int, datetime, int, int]]:
    """Per member who bought in the range: last purchase, purchase days, net spend (minor)."""
    bought = EventRow.type == "purchase"
    sign = case((EventRow.type == "refund", -1), else_=1)
    conditions = [
        EventRow.program_id == f.program_id,
        EventRow.type.in_(("purchase", "refund")),
        *_in_range(f, EventRow.occurred_at),
    ]
    if f.store:
        conditions.append(EventRow.store == f.store)
    days = func.count(distinct(case((bought, day_of(session, EventRow.occurred_at)))))
    rows = session.execute(
        select(
            EventRow.member_id,
            func.max(case((bought, EventRow.occurred_at))),
            days,
            func.sum(sign * func.abs(func.coalesce(EventRow.amount_minor, 0))),
        )
        .where(*conditions)
        .group_by(EventRow.member_id)
        .having(days > 0)
    )
    return [(int(m), last, int(n), int(total or 0)) for m, last, n, total in rows]


def nps_counts(
    session: Session, f: DashboardFilter, survey_ids: list[int], question: str
) -> list[tuple[str, int, int, int]]:
    """(month, promoters, passives, detractors) of one NPS question over some surveys."""
    score = SurveyResponseRow.answers[question].as_float()
    month = month_of(session, SurveyResponseRow.submitted_at)
    conditions = [
        SurveyResponseRow.survey_id.in_(survey_ids),
        *_in_range(f, SurveyResponseRow.submitted_at),
        score.is_not(None),
    ]
    if f.store:
        conditions.append(SurveyResponseRow.store == f.store)
    rows = session.execute(
        select(
            month,
            func.sum(case((score >= 9, 1), else_=0)),
            func.sum(case((and_(score >= 7, score < 9), 1), else_=0)),
            func.sum(case((score < 7, 1), else_=0)),
        )
        .where(*conditions)
        .group_by(month)
        .order_by(month)
    )
    return [(str(m), int(p or 0), int(s or 0), int(d or 0)) for m, p, s, d in rows]


def complaints_filed(session: Session, f: DashboardFilter) -> list[ComplaintRow]:
    """Complaints filed in the range; with a store, those about an order from that store."""
    query = select(ComplaintRow).where(
        ComplaintRow.program_id == f.program_id, *_in_range(f, ComplaintRow.filed_at)
    )
    if f.store:
        query = (
            query.join(
                OrderRow,
                (OrderRow.program_id == ComplaintRow.program_id)
                & (OrderRow.order_id == ComplaintRow.order_id),
            )
            .join(EventRow, EventRow.id == OrderRow.event_id)
            .where(EventRow.store == f.store)
        )
    return list(session.scalars(query.order_by(ComplaintRow.id)))


def campaign_awards(session: Session, f: DashboardFilter) -> list[dict[str, Any]]:
    """The campaigns that gave the most points in the range: points, members reached, awards."""
    points = func.sum(RuleAwardRow.points)
    query = (
        select(
            CampaignRow.code,
            CampaignRow.name,
            points,
            func.count(distinct(RuleAwardRow.member_id)),
            func.count(RuleAwardRow.id),
        )
        .join(CampaignRow, CampaignRow.id == RuleAwardRow.campaign_id)
        .where(RuleAwardRow.program_id == f.program_id, *_in_range(f, RuleAwardRow.occurred_at))
        .group_by(CampaignRow.id, CampaignRow.code, CampaignRow.name)
        .order_by(points.desc(), CampaignRow.code)
        .limit(TOP_CAMPAIGNS)
    )
    if f.store:
        query = query.join(EventRow, EventRow.id == RuleAwardRow.event_id).where(
            EventRow.store == f.store
        )
    return [
        {"code": code, "name": name, "points": int(p or 0), "reach": int(r), "awards": int(a)}
        for code, name, p, r, a in session.execute(query)
    ]
