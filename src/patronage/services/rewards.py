"""The reward catalog: designing rewards, showing members what they may have, redeeming."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from patronage.domain.coupons import BatchRules, Discount
from patronage.domain.rewards import Reward, check_reward, refusal
from patronage.errors import Conflict, InvalidInput, RuleViolation
from patronage.services.balances import balance_in
from patronage.services.coupon_batches import add_batch
from patronage.services.coupons import issue_member_coupon
from patronage.services.idempotency import run_once
from patronage.services.postings import debit
from patronage.services.webhook_events import emit
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class NewReward:
    code: str
    name: str
    points: int
    discount: Discount
    program: str = "default"
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


@dataclass(frozen=True)
class RewardView:
    """A catalog entry; ``price`` is the calling member's price when one is known."""

    id: int
    code: str
    name: str
    category: str | None
    description: str | None
    points: int
    price: int
    tier_prices: dict[str, int]
    discount: dict[str, Any]
    stock: int | None
    per_member_limit: int | None
    valid_from: datetime | None
    valid_to: datetime | None
    visible_tiers: list[str] | None
    visible_segment: str | None
    coupon_valid_days: int | None
    active: bool
    on_offer: bool


@dataclass(frozen=True)
class RewardRedemption:
    id: int
    reward_id: int
    member_id: int
    points: int
    entry_id: int
    coupon_code: str
    coupon_expires_at: datetime | None
    balance: int
    available: int
    redeemed_at: datetime


def view(reward: Reward, now: datetime, tier_code: str | None = None) -> RewardView:
    return RewardView(
        id=reward.id,
        code=reward.code,
        name=reward.name,
        category=reward.category,
        description=reward.description,
        points=reward.points,
        price=reward.price_for(tier_code),
        tier_prices=dict(reward.tier_prices),
        discount=asdict(reward.discount),
        stock=reward.stock,
        per_member_limit=reward.per_member_limit,
        valid_from=reward.valid_from,
        valid_to=reward.valid_to,
        visible_tiers=list(reward.visible_tiers) if reward.visible_tiers is not None else None,
        visible_segment=reward.visible_segment,
        coupon_valid_days=reward.coupon_valid_days,
        active=reward.active,
        on_offer=reward.is_on_offer(now),
    )


def add_reward(
    uow: UnitOfWork, request: NewReward, actor: str, idempotency_key: str | None = None
) -> RewardView:
    """A catalog entry with its own coupon batch (the coupons its redemptions issue)."""

    def operation(u: UnitOfWork) -> RewardView:
        program = u.programs.get(request.program)
        values = {k: v for k, v in asdict(request).items() if k not in ("program", "discount")}
        reward = Reward(**values, discount=request.discount, program_id=program.id or 0)
        check_reward(reward, tuple(t.code for t in program.tiers))
        if u.rewards.code_taken(program.id or 0, reward.code):
            raise Conflict(f"reward {reward.code!r} exists", code="duplicate_reward")
        batch = add_batch(
            u, BatchRules(request.discount), f"reward {reward.code}", program.id or 0, "reward"
        )
        added = u.rewards.add(reward, batch.id, u.clock())
        _audit(u, actor, "reward_added", added.id, None, {"code": added.code}, None)
        return view(added, u.clock())

    payload = {"request": asdict(request)}
    return run_once(uow, "rewards", idempotency_key, payload, operation, _decode_view)


def change_reward(
    uow: UnitOfWork,
    reward_id: int,
    actor: str,
    active: bool | None = None,
    add_stock: int | None = None,
    valid_to: datetime | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> RewardView:
    """Switch a reward on or off, restock it (added atomically, never overwritten) or
    move its end date; audited. Retry with the same Idempotency-Key: stock is added once."""
    if add_stock is not None and not 1 <= add_stock <= 10**9:
        raise InvalidInput("add_stock must be between 1 and 10^9", field="add_stock")
    if valid_to is not None and valid_to.tzinfo is None:
        raise InvalidInput("valid_to must carry a time zone offset", field="valid_to")

    def operation(u: UnitOfWork) -> RewardView:
        before = u.rewards.get(reward_id)
        if add_stock is not None:
            if before.stock is None:
                raise RuleViolation("this reward has unlimited stock", code="unlimited_stock")
            u.rewards.restock(reward_id, add_stock)
        changes: dict[str, Any] = {} if active is None else {"active": active}
        if valid_to is not None:
            if before.valid_from is not None and valid_to <= before.valid_from:
                raise InvalidInput("valid_to must be after valid_from", field="valid_to")
            changes["valid_to"] = valid_to
        if changes:
            u.rewards.change(reward_id, **changes)
        after = u.rewards.get(reward_id)
        state = {"active": before.active, "stock": before.stock, "valid_to": before.valid_to}
        new = {"active": after.active, "stock": after.stock, "valid_to": after.valid_to}
        _audit(u, actor, "reward_changed", reward_id, state, new, reason)
        return view(after, u.clock())

    payload = {"active": active, "add_stock": add_stock, "valid_to": valid_to, "reason": reason}
    scope = f"reward:{reward_id}:change"
    return run_once(uow, scope, idempotency_key, payload, operation, _decode_view)


def list_rewards(
    uow: UnitOfWork,
    program: str = "default",
    member_id: int | None = None,
    category: str | None = None,
) -> list[RewardView]:
    """The whole catalog; for a member, only what is on offer now and visible to them,
    at their tier's price."""
    with uow:
        program_id = uow.programs.get(program).id or 0
        now = uow.clock()
        rewards = uow.rewards.catalog(program_id, category)
        if member_id is None:
            return [view(r, now) for r in rewards]
        member = uow.members.get(member_id)
        return [
            view(r, now, member.tier_code)
            for r in rewards
            if r.is_on_offer(now) and r.is_visible_to(member)
        ]


def get_reward(uow: UnitOfWork, reward_id: int, member_id: int | None = None) -> RewardView:
    with uow:
        reward = uow.rewards.get(reward_id)
        if member_id is None:
            return view(reward, uow.clock())
        member = uow.members.get(member_id)
        if not reward.is_visible_to(member):
            raise RuleViolation(
                "this reward is not offered to this member", code="reward_not_visible"
            )
        return view(reward, uow.clock(), member.tier_code)


def redeem_reward(
    uow: UnitOfWork,
    member_id: int,
    reward_id: int,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> RewardRedemption:
    """One transaction: check the offer and the member's limit, spend the member's
    tier price in points, take one unit of stock (a conditional UPDATE, so the last
    unit goes to exactly one member) and issue the reward's coupon."""

    def operation(u: UnitOfWork) -> RewardRedemption:
        u.members.lock([member_id])
        member = u.members.get(member_id)
        reward = u.rewards.get(reward_id)
        if reward.program_id != member.program_id:
            raise RuleViolation("the reward belongs to another program", code="program_mismatch")
        now = u.clock()
        refused = refusal(reward, member, u.rewards.redeemed_by(reward_id, member_id), now)
        if refused is not None:
            raise refused
        price = reward.price_for(member.tier_code)
        program = u.programs.get_by_id(member.program_id)
        details = {"reward_id": reward.id, "reward_code": reward.code}
        posting = debit(u, program, member, "redeem", price, now, actor=actor, details=details)
        if not u.rewards.take_one(reward_id):
            raise RuleViolation("this reward is out of stock", code="out_of_stock")
        return _hand_over(u, reward, member_id, price, posting.entry_id, actor)

    payload = {"member_id": member_id, "reward_id": reward_id}
    scope = f"member:{member_id}:reward_redeem"
    return run_once(uow, scope, idempotency_key, payload, operation, _decode_redemption)


def _hand_over(
    u: UnitOfWork, reward: Reward, member_id: int, price: int, entry_id: int, actor: str | None
) -> RewardRedemption:
    """Issue the reward's coupon to the member and record the redemption."""
    now = u.clock()
    days = reward.coupon_valid_days
    expires_at = now + timedelta(days=days) if days is not None else None
    batch = u.coupons.batch(reward.batch_id or 0)
    coupon = issue_member_coupon(u, batch, member_id, expires_at)
    redemption_id = u.rewards.add_redemption(
        reward_id=reward.id,
        member_id=member_id,
        points=price,
        entry_id=entry_id,
        coupon_id=coupon.id,
        redeemed_at=now,
        actor=actor,
    )
    data = {"reward": reward.code, "points": price, "coupon": coupon.code, "id": redemption_id}
    emit(u, reward.program_id, "reward.redeemed", member_id, data)
    balance = balance_in(u, member_id)
    return RewardRedemption(
        redemption_id,
        reward.id,
        member_id,
        price,
        entry_id,
        coupon.code,
        coupon.expires_at,
        balance.total,
        balance.available,
        now,
    )


def _audit(
    u: UnitOfWork,
    actor: str,
    action: str,
    reward_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
) -> None:
    def plain(data: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if data is None else {k: _jsonable(v) for k, v in data.items()}

    u.audit.add(
        at=u.clock(),
        actor=actor,
        action=action,
        target_type="reward",
        target_id=str(reward_id),
        before=plain(before),
        after=plain(after),
        reason=reason,
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode_view(data: dict[str, Any]) -> RewardView:
    for name in ("valid_from", "valid_to"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    return RewardView(**data)


def _decode_redemption(data: dict[str, Any]) -> RewardRedemption:
    for name in ("coupon_expires_at", "redeemed_at"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    return replace(RewardRedemption(**data))
