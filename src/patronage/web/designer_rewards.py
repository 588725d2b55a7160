"""The reward catalog in the program designer: the list with a form for a new reward,
and one reward with its price and validity, its stock and its on/off switch."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from patronage.domain.coupons import DISCOUNT_TYPES
from patronage.domain.program import Program
from patronage.errors import PatronageError
from patronage.services.reward_pricing import revise_reward
from patronage.services.rewards import (
    NewReward,
    add_reward,
    change_reward,
    get_reward,
    list_rewards,
)
from patronage.services.staff_users import StaffUser
from patronage.services.tier_ladder import program_ladder
from patronage.web.designer_forms import (
    PROGRAM,
    READERS,
    actor,
    discount,
    input_time,
    local_time,
    refusal,
    require_writer,
    whole,
)
from patronage.web.render import WebRoute, page, redirect, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RewardId = Annotated[int, Path(ge=1, le=2**62)]
Short = Annotated[str, Form(max_length=600)]


class TierPricedForm(BaseModel):
    """A form with a ``price_<tier>`` input for each of the program's tiers (kept as
    extra fields, since the tiers are the program's own)."""

    model_config = ConfigDict(extra="allow")

    def get(self, name: str) -> Any:
        return (self.model_extra or {}).get(name)


def tier_prices(form: TierPricedForm, program: Program) -> dict[str, int]:
    """The tier prices typed in (``price_<tier>`` fields); blank ones are left out."""
    prices: dict[str, int] = {}
    for tier in program.tiers:
        text = str(form.get(f"price_{tier.code}") or "")
        price = whole(text, f"tier_prices.{tier.code}", optional=True)
        if price is not None:
            prices[tier.code] = price
    return prices


class RewardForm(TierPricedForm):
    code: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=64)
    description: str = Field(default="", max_length=2000)
    points: str = Field(default="", max_length=16)
    discount_type: str = Field(default="percent", max_length=16)
    discount_value: str = Field(default="", max_length=20)
    discount_sku: str = Field(default="", max_length=128)
    stock: str = Field(default="", max_length=12)
    per_member_limit: str = Field(default="", max_length=12)
    valid_from: str = Field(default="", max_length=32)
    valid_to: str = Field(default="", max_length=32)
    coupon_valid_days: str = Field(default="30", max_length=6)
    visible_tiers: list[str] = Field(default_factory=list, max_length=50)
    visible_segment: str = Field(default="", max_length=64)
    csrf_token: str = Field(default="", max_length=200)
    key: str = Field(default="", max_length=64)

    def request(self, program: Program, timezone: str) -> NewReward:
        return NewReward(
            code=self.code.strip(),
            name=self.name.strip(),
            points=whole(self.points, "points") or 0,
            discount=discount(self.discount_type, self.discount_value, self.discount_sku),
            program=PROGRAM,
            category=self.category.strip() or None,
            description=self.description.strip() or None,
            tier_prices=tier_prices(self, program),
            stock=whole(self.stock, "stock", optional=True),
            per_member_limit=whole(self.per_member_limit, "per_member_limit", optional=True),
            valid_from=local_time(self.valid_from, "valid_from", timezone),
            valid_to=local_time(self.valid_to, "valid_to", timezone),
            visible_tiers=tuple(self.visible_tiers) or None,
            visible_segment=self.visible_segment.strip() or None,
            coupon_valid_days=whole(self.coupon_valid_days, "coupon_valid_days", optional=True),
        )


def _list_page(request: Request, user: StaffUser, status: int = 200, **context: Any) -> Response:
    uow = uow_of(request)
    context.setdefault("form", RewardForm())
    return page(
        request,
        "designer_rewards.html",
        status,
        user=user,
        rewards=list_rewards(uow, PROGRAM),
        program=program_ladder(uow, PROGRAM),
        discount_types=DISCOUNT_TYPES,
        form_key=uuid.uuid4().hex,
        designer_section="rewards",
        **context,
    )


@router.get("/designer/rewards")
def rewards_page(request: Request) -> Response:
    user = require_staff(request, *READERS)
    return _list_page(request, user)


@router.post("/designer/rewards")
def create_reward(request: Request, form: Annotated[RewardForm, Form()]) -> Response:
    user = require_writer(request, form.csrf_token)
    uow = uow_of(request)
    try:
        new = form.request(program_ladder(uow, PROGRAM), translator(request).timezone)
        made = add_reward(uow, new, actor(user.username), form.key or None)
    except PatronageError as exc:
        return _list_page(request, user, form=form, **refusal(request, exc))
    return redirect(f"/designer/rewards/{made.id}?done=created")


def _reward_page(
    request: Request, user: StaffUser, reward_id: int, status: int = 200, **context: Any
) -> Response:
    uow, timezone = uow_of(request), translator(request).timezone
    return page(
        request,
        "designer_reward.html",
        status,
        user=user,
        reward=get_reward(uow, reward_id),
        program=program_ladder(uow, PROGRAM),
        form_key=uuid.uuid4().hex,
        designer_section="rewards",
        entered=context.pop("entered", None),
        local_input=lambda value: input_time(value, timezone),
        **context,
    )


@router.get("/designer/rewards/{reward_id}")
def reward_page(
    request: Request,
    reward_id: RewardId,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    user = require_staff(request, *READERS)
    return _reward_page(request, user, reward_id, done=done)


class PriceForm(TierPricedForm):
    points: str = Field(default="", max_length=16)
    valid_from: str = Field(default="", max_length=32)
    valid_to: str = Field(default="", max_length=32)
    reason: str = Field(default="", max_length=500)
    csrf_token: str = Field(default="", max_length=200)


@router.post("/designer/rewards/{reward_id}/price")
def reprice(request: Request, reward_id: RewardId, form: Annotated[PriceForm, Form()]) -> Response:
    user = require_writer(request, form.csrf_token)
    uow, timezone = uow_of(request), translator(request).timezone
    try:
        revise_reward(
            uow,
            reward_id,
            actor(user.username),
            whole(form.points, "points") or 0,
            tier_prices(form, program_ladder(uow, PROGRAM)),
            local_time(form.valid_from, "valid_from", timezone),
            local_time(form.valid_to, "valid_to", timezone),
            form.reason.strip() or None,
        )
    except PatronageError as exc:
        entered = {**(form.model_extra or {}), **form.model_dump(exclude={"csrf_token"})}
        return _reward_page(
            request, user, reward_id, failed="price", entered=entered, **refusal(request, exc)
        )
    return redirect(f"/designer/rewards/{reward_id}?done=repriced")


@router.post("/designer/rewards/{reward_id}/stock")
def restock(
    request: Request,
    reward_id: RewardId,
    add_stock: Short = "",
    reason: Short = "",
    key: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Short = "",
) -> Response:
    user = require_writer(request, csrf_token)
    try:
        units = whole(add_stock, "add_stock")
        change_reward(
            uow_of(request),
            reward_id,
            actor(user.username),
            add_stock=units,
            reason=reason.strip() or None,
            idempotency_key=key or None,
        )
    except PatronageError as exc:
        entered = {"add_stock": add_stock, "stock_reason": reason}
        return _reward_page(
            request, user, reward_id, failed="stock", entered=entered, **refusal(request, exc)
        )
    return redirect(f"/designer/rewards/{reward_id}?done=restocked")


@router.post("/designer/rewards/{reward_id}/active")
def switch(
    request: Request,
    reward_id: RewardId,
    active: Annotated[str, Form(pattern="^(on|off)$")],
    csrf_token: Short = "",
) -> Response:
    user = require_writer(request, csrf_token)
    change_reward(uow_of(request), reward_id, actor(user.username), active=active == "on")
    return redirect(f"/designer/rewards/{reward_id}?done=switched_{active}")
