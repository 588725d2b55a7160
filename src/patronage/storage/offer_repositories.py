"""What the next-best-offer choice reads: members' order summaries and open offers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from patronage.domain.offers import Offer
from patronage.storage.rules_tables import CampaignRow
from patronage.storage.tables import CouponBatchRow, OrderRow


class OfferRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def order_summary(
        self, member_ids: list[int] | None, program_id: int, since: datetime
    ) -> dict[int, Any]:
        """Per member: orders, first and last order, spend since ``since`` (minor units)."""
        net = OrderRow.amount_minor - OrderRow.refunded_minor
        query = select(
            OrderRow.member_id,
            func.count(),
            func.min(OrderRow.occurred_at),
            func.max(OrderRow.occurred_at),
            func.coalesce(func.sum(net).filter(OrderRow.occurred_at >= since), 0),
            func.coalesce(func.avg(net), 0),
        ).where(OrderRow.program_id == program_id)
        if member_ids is not None:
            query = query.where(OrderRow.member_id.in_(member_ids))
        rows = self.session.execute(query.group_by(OrderRow.member_id))
        return {row[0]: row for row in rows}

    def year_spends(self, program_id: int, since: datetime) -> list[int]:
        net = OrderRow.amount_minor - OrderRow.refunded_minor
        rows = self.session.scalars(
            select(func.sum(net))
            .where(OrderRow.program_id == program_id, OrderRow.occurred_at >= since)
            .group_by(OrderRow.member_id)
        )
        return sorted(int(v or 0) for v in rows)

    def open_coupon_batches(self, program_id: int, now: datetime) -> list[Offer]:
        rows = self.session.scalars(
            select(CouponBatchRow).where(
                CouponBatchRow.program_id == program_id,
                CouponBatchRow.active.is_(True),
                or_(CouponBatchRow.expires_at.is_(None), CouponBatchRow.expires_at > now),
                or_(CouponBatchRow.valid_from.is_(None), CouponBatchRow.valid_from <= now),
            )
        )
        return [Offer("coupon", str(r.id), r.name, 0) for r in rows if r.source != "reward"]

    def batch_discounts(self, batch_ids: list[int]) -> dict[int, tuple[str, int | None]]:
        rows = self.session.execute(
            select(
                CouponBatchRow.id, CouponBatchRow.discount_type, CouponBatchRow.discount_value
            ).where(CouponBatchRow.id.in_(batch_ids))
        )
        return {i: (t, v) for i, t, v in rows}

    def running_campaigns(self, program_id: int, now: datetime) -> list[Offer]:
        rows = self.session.scalars(
            select(CampaignRow).where(
                CampaignRow.program_id == program_id,
                CampaignRow.status == "active",
                or_(CampaignRow.starts_at.is_(None), CampaignRow.starts_at <= now),
                or_(CampaignRow.ends_at.is_(None), CampaignRow.ends_at > now),
                or_(CampaignRow.budget.is_(None), and_(CampaignRow.spent < CampaignRow.budget)),
            )
        )
        return [Offer("campaign", r.code, r.name, 0) for r in rows]
