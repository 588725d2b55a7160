"""The reward catalog and redeeming rewards for points."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from patronage.http.deps import AdminOnly, AnyRole, IdempotencyKey, Uow
from patronage.http.reward_schemas import (
    RewardChangeIn,
    RewardIn,
    RewardOut,
    RewardRedemptionOut,
)
from patronage.services import rewards

router = APIRouter(tags=["rewards"])
RewardId = Annotated[int, Path(ge=1, le=2**62)]
MemberId = Annotated[int, Path(ge=1, le=2**62)]


@router.post("/rewards", status_code=201, response_model=RewardOut)
def add_reward(
    body: RewardIn, uow: Uow, principal: AdminOnly, key: IdempotencyKey = None
) -> RewardOut:
    data = body.model_dump(exclude={"discount", "visible_tiers"})
    tiers = tuple(body.visible_tiers) if body.visible_tiers is not None else None
    request = rewards.NewReward(**data, discount=body.discount.to_domain(), visible_tiers=tiers)
    return RewardOut(**asdict(rewards.add_reward(uow, request, principal.label, key)))


@router.get("/rewards", response_model=list[RewardOut])
def list_rewards(
    uow: Uow,
    principal: AnyRole,
    member_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    program: Annotated[str, Query(max_length=64)] = "default",
) -> list[RewardOut]:
    """The catalog. With ``member_id`` (always, for a member key): only what that
    member may redeem now, at their tier's price."""
    if principal.role == "member":
        member_id = principal.member_id
    found = rewards.list_rewards(uow, program, member_id, category)
    return [RewardOut(**asdict(r)) for r in found]


@router.get("/rewards/{reward_id}", response_model=RewardOut)
def get_reward(reward_id: RewardId, uow: Uow, principal: AnyRole) -> RewardOut:
    member_id = principal.member_id if principal.role == "member" else None
    return RewardOut(**asdict(rewards.get_reward(uow, reward_id, member_id)))


@router.patch("/rewards/{reward_id}", response_model=RewardOut)
def change_reward(
    reward_id: RewardId,
    body: RewardChangeIn,
    uow: Uow,
    principal: AdminOnly,
    key: IdempotencyKey = None,
) -> RewardOut:
    """Switch on or off, add stock, move the end date (audited)."""
    changed = rewards.change_reward(
        uow,
        reward_id,
        principal.label,
        body.active,
        body.add_stock,
        body.valid_to,
        body.reason,
        key,
    )
    return RewardOut(**asdict(changed))


@router.post(
    "/members/{member_id}/rewards/{reward_id}/redeem",
    status_code=201,
    response_model=RewardRedemptionOut,
)
def redeem_reward(
    member_id: MemberId,
    reward_id: RewardId,
    uow: Uow,
    principal: AnyRole,
    key: IdempotencyKey = None,
) -> RewardRedemptionOut:
    principal.require("admin", "staff", "member")
    principal.may_see_member(member_id)
    done = rewards.redeem_reward(uow, member_id, reward_id, principal.label, key)
    return RewardRedemptionOut(**asdict(done))
