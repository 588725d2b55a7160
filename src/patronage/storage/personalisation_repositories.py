"""Reading and writing recommendation models and paid memberships."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from patronage.domain.membership import LIVE, Membership, Plan
from patronage.domain.recommendations import ItemFacts
from patronage.errors import NotFound
from patronage.storage.personalisation_tables import (
    MembershipCouponGrantRow,
    MembershipPaymentRow,
    MembershipPlanRow,
    MembershipRow,
    RecommendationItemRow,
    RecommendationModelRow,
    RecommendationNeighbourRow,
)
from patronage.storage.reference import Reference
from patronage.storage.tables import EventRow, MemberRow, OrderRow, RewardRow

KEEP_MODELS = 3
EVENT_COLUMNS = (
    EventRow.member_id,
    EventRow.type,
    EventRow.occurred_at,
    EventRow.items,
    EventRow.attributes,
    EventRow.store,
    EventRow.order_id,
)


class RecommendationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def events_between(
        self, program_id: int, start: datetime, end: datetime, batch: int = 5000
    ) -> Iterator[Any]:
        """Events that may hold interactions (not refunds), streamed in batches."""
        query = (
            select(*EVENT_COLUMNS)
            .where(
                EventRow.program_id == program_id,
                EventRow.type != "refund",
                EventRow.occurred_at >= start,
                EventRow.occurred_at < end,
            )
            .execution_options(yield_per=batch)
        )
        yield from self.session.execute(query)

    def member_events(self, member_id: int, start: datetime, end: datetime) -> list[Any]:
        query = (
            select(*EVENT_COLUMNS)
            .where(
                EventRow.member_id == member_id,
                EventRow.type != "refund",
                EventRow.occurred_at >= start,
                EventRow.occurred_at < end,
            )
            .order_by(EventRow.occurred_at.desc())
            .limit(500)
        )
        return list(self.session.execute(query))

    def add_model(
        self, facts: Sequence[ItemFacts], neighbours: list[dict[str, Any]], **values: Any
    ) -> int:
        row = RecommendationModelRow(**values)
        self.session.add(row)
        self.session.flush()
        if facts:
            self.session.execute(
                insert(RecommendationItemRow),
                [
                    {
                        "model_id": row.id,
                        "sku": f.sku,
                        "category": f.category,
                        "buyers": f.buyers,
                        "repeat": f.repeat,
                        "popularity": f.popularity,
                        "stores": sorted(f.stores),
                        "in_stock": f.in_stock,
                    }
                    for f in facts
                ],
            )
        if neighbours:
            self.session.execute(
                insert(RecommendationNeighbourRow), [{**n, "model_id": row.id} for n in neighbours]
            )
        return row.id

    def drop_old_models(self, program_id: int) -> None:
        ids = self.session.scalars(
            select(RecommendationModelRow.id)
            .where(RecommendationModelRow.program_id == program_id)
            .order_by(RecommendationModelRow.trained_at.desc(), RecommendationModelRow.id.desc())
            .offset(KEEP_MODELS)
        ).all()
        if ids:
            for table in (RecommendationNeighbourRow, RecommendationItemRow):
                self.session.execute(delete(table).where(table.model_id.in_(ids)))
            self.session.execute(
                delete(RecommendationModelRow).where(RecommendationModelRow.id.in_(ids))
            )

    def latest_model(self, program_id: int) -> RecommendationModelRow | None:
        return self.session.scalars(
            select(RecommendationModelRow)
            .where(RecommendationModelRow.program_id == program_id)
            .order_by(RecommendationModelRow.trained_at.desc(), RecommendationModelRow.id.desc())
            .limit(1)
        ).first()

    def items(self, model_id: int) -> dict[str, ItemFacts]:
        rows = self.session.scalars(
            select(RecommendationItemRow).where(RecommendationItemRow.model_id == model_id)
        )
        return {
            r.sku: ItemFacts(
                r.sku, r.category, r.buyers, r.repeat, r.popularity, frozenset(r.stores), r.in_stock
            )
            for r in rows
        }

    def neighbours(self, model_id: int, skus: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
        found: dict[str, list[tuple[str, float]]] = {}
        rows = self.session.execute(
            select(
                RecommendationNeighbourRow.sku,
                RecommendationNeighbourRow.neighbour,
                RecommendationNeighbourRow.similarity,
            ).where(
                RecommendationNeighbourRow.model_id == model_id,
                RecommendationNeighbourRow.sku.in_(list(skus)),
            )
        )
        for sku, neighbour, similarity in rows:
            found.setdefault(sku, []).append((neighbour, similarity))
        return found

    def sold_out_rewards(self, program_id: int) -> set[str]:
        """Reward codes with no stock left (a SKU that is also a reward code is sold out)."""
        return set(
            self.session.scalars(
                select(RewardRow.code).where(
                    RewardRow.program_id == program_id, RewardRow.stock == 0
                )
            )
        )


def _plan(row: MembershipPlanRow) -> Plan:
    return Plan(
        row.id,
        row.program_id,
        row.code,
        row.name,
        row.period,
        row.fee_minor,
        row.earn_multiplier,
        row.free_delivery,
        row.member_prices,
        row.coupon_batch_id,
        row.coupons_per_month,
        row.grace_days,
        row.active,
    )


def _membership(row: MembershipRow, plan: MembershipPlanRow) -> Membership:
    return Membership(
        row.id,
        row.member_id,
        _plan(plan),
        row.status,
        row.started_at,
        row.period_start,
        row.period_end,
        row.grace_until,
        row.fee_paid_minor,
        row.cancelled_at,
        row.refund_minor,
    )


class MembershipRepository:
    def __init__(self, session: Session, reference: Reference) -> None:
        self.session = session
        self.reference = reference

    def any_plan_multiplies_earning(self) -> bool:
        """Does any paid plan change what purchases earn? (If not, the earn path need
        not look up the member's membership.) From the reference cache."""
        return self.reference.get(
            ("plan_multiplies_earning",),
            lambda: (
                self.session.scalar(
                    select(MembershipPlanRow.id)
                    .where(MembershipPlanRow.earn_multiplier != 1)
                    .limit(1)
                )
                is not None
            ),
        )

    def add_plan(self, **values: Any) -> Plan:
        row = MembershipPlanRow(**values)
        self.session.add(row)
        self.session.flush()
        return _plan(row)

    def plan(self, plan_id: int) -> Plan:
        row = self.session.get(MembershipPlanRow, plan_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no membership plan {plan_id}", plan_id=plan_id)
        return _plan(row)

    def plan_by_code(self, program_id: int, code: str) -> Plan | None:
        row = self.session.scalars(
            select(MembershipPlanRow).where(
                MembershipPlanRow.program_id == program_id, MembershipPlanRow.code == code
            )
        ).first()
        return _plan(row) if row is not None else None

    def plans(self, program_id: int) -> list[Plan]:
        rows = self.session.scalars(
            select(MembershipPlanRow)
            .where(MembershipPlanRow.program_id == program_id)
            .order_by(MembershipPlanRow.id)
        )
        return [_plan(r) for r in rows]

    def change_plan(self, plan_id: int, **values: Any) -> None:
        self.session.execute(
            update(MembershipPlanRow).where(MembershipPlanRow.id == plan_id).values(**values)
        )

    def of_member(self, member_id: int, lock: bool = False) -> Membership | None:
        """The member's membership; ``lock`` holds its row until the transaction ends."""
        query = (
            select(MembershipRow, MembershipPlanRow)
            .join(MembershipPlanRow, MembershipPlanRow.id == MembershipRow.plan_id)
            .where(MembershipRow.member_id == member_id)
            .execution_options(populate_existing=True)
        )
        if lock:
            query = query.with_for_update(of=MembershipRow)
        found = self.session.execute(query).first()
        return _membership(found[0], found[1]) if found else None

    def save(self, member_id: int, **values: Any) -> int:
        """Insert the member's membership row or overwrite it (a new sign-up)."""
        row_id = self.session.scalar(
            select(MembershipRow.id).where(MembershipRow.member_id == member_id)
        )
        if row_id is None:
            row = MembershipRow(member_id=member_id, **values)
            self.session.add(row)
            self.session.flush()
            return row.id
        self.session.execute(
            update(MembershipRow).where(MembershipRow.id == row_id).values(**values)
        )
        return row_id

    def add_payment(self, **values: Any) -> int:
        row = MembershipPaymentRow(**values)
        self.session.add(row)
        self.session.flush()
        return row.id

    def payments(self, membership_id: int) -> list[MembershipPaymentRow]:
        return list(
            self.session.scalars(
                select(MembershipPaymentRow)
                .where(MembershipPaymentRow.membership_id == membership_id)
                .order_by(MembershipPaymentRow.id)
            )
        )

    def live_member_ids(self, program_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(MembershipRow.member_id)
                .where(MembershipRow.program_id == program_id, MembershipRow.status.in_(LIVE))
                .order_by(MembershipRow.member_id)
            )
        )

    def due(self, program_id: int, before: datetime) -> list[int]:
        """Members whose live membership's period ends before ``before``."""
        return list(
            self.session.scalars(
                select(MembershipRow.member_id)
                .where(
                    MembershipRow.program_id == program_id,
                    MembershipRow.status.in_(LIVE),
                    MembershipRow.period_end < before,
                )
                .order_by(MembershipRow.member_id)
            )
        )

    def granted(self, membership_id: int, month: str) -> bool:
        found = self.session.scalar(
            select(MembershipCouponGrantRow.id).where(
                MembershipCouponGrantRow.membership_id == membership_id,
                MembershipCouponGrantRow.month == month,
            )
        )
        return found is not None

    def add_grant(self, **values: Any) -> None:
        self.session.add(MembershipCouponGrantRow(**values))
        self.session.flush()

    def sign_ups(self, program_id: int) -> list[tuple[int, datetime, datetime]]:
        """(member id, first sign-up, joined) of every member who ever paid."""
        first = (
            select(
                MembershipPaymentRow.member_id, func.min(MembershipPaymentRow.at).label("signed")
            )
            .where(
                MembershipPaymentRow.kind == "signup", MembershipPaymentRow.outcome == "succeeded"
            )
            .group_by(MembershipPaymentRow.member_id)
            .subquery()
        )
        rows = self.session.execute(
            select(first.c.member_id, first.c.signed, MemberRow.joined_at)
            .join(MemberRow, MemberRow.id == first.c.member_id)
            .where(MemberRow.program_id == program_id)
        )
        return [(m, s, j) for m, s, j in rows]

    def orders(self, program_id: int) -> list[tuple[int, datetime, int]]:
        """(member id, time, net amount) of every order, for the spend report."""
        rows = self.session.execute(
            select(
                OrderRow.member_id,
                OrderRow.occurred_at,
                OrderRow.amount_minor - OrderRow.refunded_minor,
            ).where(OrderRow.program_id == program_id)
        )
        return [(m, t, a) for m, t, a in rows]

    def members_joined(self, program_id: int) -> list[tuple[int, datetime]]:
        rows = self.session.execute(
            select(MemberRow.id, MemberRow.joined_at).where(
                MemberRow.program_id == program_id, MemberRow.erased_at.is_(None)
            )
        )
        return [(m, j) for m, j in rows]
