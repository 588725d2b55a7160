"""The reward catalog: what a member can get for points, at which price, and who sees it.

A member belongs to a segment when the segment's tag is in the member's
``attributes["segments"]`` (a list of strings), which imports and the API set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from patronage.domain.coupons import Discount
from patronage.domain.members import Member
from patronage.errors import InvalidInput, RuleViolation

MAX_POINTS = 10**12


@dataclass(frozen=True)
class Reward:
    code: str
    name: str
    points: int
    discount: Discount
    program_id: int = 0
    category: str | None = None
    description: str | None = None
    tier_prices: dict[str, int] = field(default_factory=dict)
    stock: int | None = None
    per_member_limit: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    visible_tiers: tuple[str, ...] | None = None
    visible_segment: str | None = None
    coupon_valid_days: int | None = 30
    active: bool = True
    batch_id: int | None = None
    id: int = 0

    def price_for(self, tier_code: str | None) -> int:
        """The member's tier price when the catalog sets one, else the list price."""
        if tier_code is not None and tier_code in self.tier_prices:
            return self.tier_prices[tier_code]
        return self.points

    def is_visible_to(self, member: Member) -> bool:
        if self.visible_tiers is not None and member.tier_code not in self.visible_tiers:
            return False
        return self.visible_segment is None or self.visible_segment in segments_of(member)

    def is_on_offer(self, now: datetime) -> bool:
        if not self.active:
            return False
        if self.valid_from is not None and now < self.valid_from:
            return False
        return self.valid_to is None or now < self.valid_to


def segments_of(member: Member) -> list[str]:
    tags: Any = member.attributes.get("segments", [])
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _points(value: int, name: str) -> None:
    if isinstance(value, bool) or not 1 <= value <= MAX_POINTS:
        raise InvalidInput(f"{name} must be between 1 and {MAX_POINTS}", field=name)


def check_reward(reward: Reward, tier_codes: tuple[str, ...]) -> Reward:
    """Refuse a catalog entry that could never be redeemed as meant."""
    if not reward.code or len(reward.code) > 64:
        raise InvalidInput("code is required (at most 64 characters)", field="code")
    if not reward.name or len(reward.name) > 200:
        raise InvalidInput("name is required (at most 200 characters)", field="name")
    _points(reward.points, "points")
    for tier, price in reward.tier_prices.items():
        if tier not in tier_codes:
            raise InvalidInput(f"unknown tier {tier!r}", field=f"tier_prices.{tier}")
        _points(price, f"tier_prices.{tier}")
    for tier in reward.visible_tiers or ():
        if tier not in tier_codes:
            raise InvalidInput(f"unknown tier {tier!r}", field="visible_tiers")
    if reward.visible_tiers is not None and not reward.visible_tiers:
        raise InvalidInput("visible_tiers must name at least one tier", field="visible_tiers")
    if reward.stock is not None and not 0 <= reward.stock <= 10**9:
        raise InvalidInput("stock must be between 0 and 10^9 (null: unlimited)", field="stock")
    if reward.per_member_limit is not None and not 1 <= reward.per_member_limit <= 10**6:
        raise InvalidInput("per_member_limit must be at least 1", field="per_member_limit")
    if reward.coupon_valid_days is not None and not 1 <= reward.coupon_valid_days <= 3660:
        raise InvalidInput("coupon_valid_days must be 1-3660", field="coupon_valid_days")
    for name in ("valid_from", "valid_to"):
        value = getattr(reward, name)
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} must carry a time zone offset", field=name)
    if reward.valid_from and reward.valid_to and reward.valid_to <= reward.valid_from:
        raise InvalidInput("valid_to must be after valid_from", field="valid_to")
    reward.discount.check()
    return reward


def refusal(
    reward: Reward, member: Member, redeemed_before: int, now: datetime
) -> RuleViolation | None:
    """Why ``member`` may not redeem ``reward`` now (stock aside), or None."""
    if not reward.is_on_offer(now):
        return RuleViolation("this reward is not on offer now", code="reward_not_on_offer")
    if not reward.is_visible_to(member):
        return RuleViolation("this reward is not offered to this member", code="reward_not_visible")
    if reward.per_member_limit is not None and redeemed_before >= reward.per_member_limit:
        return RuleViolation(
            "this member has reached the reward's limit",
            code="reward_member_limit",
            limit=reward.per_member_limit,
        )
    return None
