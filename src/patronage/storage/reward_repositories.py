"""The reward catalog and its redemptions. Stock only changes by conditional UPDATEs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from patronage.domain.coupons import Discount
from patronage.domain.rewards import Reward
from patronage.errors import NotFound
from patronage.storage.tables import CouponBatchRow, RewardRedemptionRow, RewardRow


def _reward(row: RewardRow, batch: CouponBatchRow) -> Reward:
    return Reward(
        id=row.id,
        program_id=row.program_id,
        code=row.code,
        name=row.name,
        description=row.description,
        category=row.category,
        points=row.points,
        discount=Discount(batch.discount_type, batch.discount_value, batch.discount_sku),
        tier_prices={k: int(v) for k, v in (row.tier_prices or {}).items()},
        stock=row.stock,
        per_member_limit=row.per_member_limit,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        visible_tiers=tuple(row.visible_tiers) if row.visible_tiers is not None else None,
        visible_segment=row.visible_segment,
        coupon_valid_days=row.coupon_valid_days,
        active=row.active,
        batch_id=row.batch_id,
    )


class RewardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _query(self) -> Any:
        return select(RewardRow, CouponBatchRow).join(
            CouponBatchRow, RewardRow.batch_id == CouponBatchRow.id
        )

    def add(self, reward: Reward, batch_id: int, now: datetime) -> Reward:
        row = RewardRow(
            program_id=reward.program_id,
            code=reward.code,
            name=reward.name,
            description=reward.description,
            category=reward.category,
            points=reward.points,
            tier_prices=dict(reward.tier_prices),
            stock=reward.stock,
            per_member_limit=reward.per_member_limit,
            valid_from=reward.valid_from,
            valid_to=reward.valid_to,
            visible_tiers=list(reward.visible_tiers) if reward.visible_tiers is not None else None,
            visible_segment=reward.visible_segment,
            coupon_valid_days=reward.coupon_valid_days,
            batch_id=batch_id,
            active=reward.active,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return self.get(row.id)

    def get(self, reward_id: int) -> Reward:
        found = self.session.execute(
            self._query().where(RewardRow.id == reward_id).execution_options(populate_existing=True)
        ).first()
        if found is None:
            raise NotFound(f"no reward {reward_id}", reward_id=reward_id)
        return _reward(found[0], found[1])

    def code_taken(self, program_id: int, code: str) -> bool:
        found = self.session.scalar(
            select(RewardRow.id).where(RewardRow.program_id == program_id, RewardRow.code == code)
        )
        return found is not None

    def catalog(self, program_id: int, category: str | None = None) -> list[Reward]:
        query = self._query().where(RewardRow.program_id == program_id)
        if category is not None:
            query = query.where(RewardRow.category == category)
        rows = self.session.execute(query.order_by(RewardRow.id).limit(1000))
        return [_reward(r, b) for r, b in rows]

    def change(self, reward_id: int, **values: Any) -> None:
        self.session.execute(update(RewardRow).where(RewardRow.id == reward_id).values(**values))

    def take_one(self, reward_id: int) -> bool:
        """One unit out of stock, unless none is left: ``stock = stock - 1 WHERE stock >= 1``.
        Unlimited rewards (stock NULL) always succeed and stay unlimited."""
        limited = self.session.execute(
            update(RewardRow)
            .where(RewardRow.id == reward_id, RewardRow.stock >= 1)
            .values(stock=RewardRow.stock - 1)
        )
        if limited.rowcount:  # type: ignore[attr-defined]
            return True
        unlimited = self.session.scalar(
            select(RewardRow.id).where(RewardRow.id == reward_id, RewardRow.stock.is_(None))
        )
        return unlimited is not None

    def restock(self, reward_id: int, units: int) -> None:
        self.session.execute(
            update(RewardRow)
            .where(RewardRow.id == reward_id, RewardRow.stock.is_not(None))
            .values(stock=RewardRow.stock + units)
        )

    def add_redemption(self, **values: Any) -> int:
        row = RewardRedemptionRow(**values)
        self.session.add(row)
        self.session.flush()
        return row.id

    def redeemed_by(self, reward_id: int, member_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count(RewardRedemptionRow.id)).where(
                    RewardRedemptionRow.reward_id == reward_id,
                    RewardRedemptionRow.member_id == member_id,
                )
            )
            or 0
        )
