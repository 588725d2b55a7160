"""Earning rules and campaigns: administration (admin writes, admin and analyst read)
and simulation, which writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from patronage.http.deps import AdminOnly, Uow, require_role
from patronage.services import rules
from patronage.services.access import Principal

router = APIRouter(tags=["rules"])
AdminOrAnalyst = Annotated[Principal, Depends(require_role("admin", "analyst"))]
ProgramQuery = Annotated[str, Query(max_length=64, description="Program code.")]
Expression = Field(min_length=1, max_length=4000)


class LimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=1, le=10**6)
    per: str = Field(description="day, week, month, year or ever")


class RuleIn(BaseModel):
    """A rule. ``condition`` is CEL over ``event`` and ``member``; ``item_filter`` over
    ``item``. A bad expression is refused with its line and column."""

    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(default=None, max_length=64, examples=["double-weekend"])
    name: str = Field(min_length=1, max_length=200)
    campaign: str | None = Field(default=None, max_length=64)
    event_type: str = Field(default="purchase", max_length=64)
    condition: str = Expression
    action: str = Field(
        examples=["multiplier"],
        description="per_unit, multiplier, bonus, per_item (points); cashback (value: percent "
        "of the amount) or cashback_fixed (value: minor units), paid into the wallet",
    )
    value: Decimal = Field(gt=0, le=Decimal(10**9))
    cap_minor: int | None = Field(
        default=None, ge=1, le=10**12, description="cashback: at most this much per event"
    )
    item_filter: str | None = Field(default=None, max_length=4000)
    priority: int = Field(default=0, ge=-(10**6), le=10**6)
    limit: LimitIn | None = None
    status: str = Field(default="active", description="active, draft or disabled")


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(default=None, max_length=64, examples=["coffee-weekend"])
    name: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    segment: str | None = Field(default=None, max_length=4000)
    budget: int | None = Field(default=None, ge=0, le=10**15)
    caps: dict[str, int] = Field(default_factory=dict, description="day, week, month, campaign")
    priority: int = Field(default=0, ge=-(10**6), le=10**6)
    stacking: str = Field(default="stack", description="stack, exclusive or best_of")
    status: str = Field(default="active", description="active, draft or disabled")


class SimItem(BaseModel):
    sku: str = Field(max_length=128)
    category: str | None = Field(default=None, max_length=128)
    quantity: Decimal = Field(default=Decimal(1), gt=0, le=Decimal(10**9))
    price: Decimal | None = Field(default=None, ge=0, le=Decimal(10**13))


class SimEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="purchase", max_length=64)
    occurred_at: AwareDatetime | None = None
    amount: Decimal | None = Field(default=None, ge=0, le=Decimal(10**11))
    items: list[SimItem] | None = Field(default=None, max_length=1000)
    channel: str | None = Field(default=None, max_length=64)
    store: str | None = Field(default=None, max_length=128)
    attributes: dict[str, Any] = Field(default_factory=dict)


class SimMember(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tier: str | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict)
    birthday: date | None = None
    joined_at: AwareDatetime | None = None
    days_since_join: int | None = Field(default=None, ge=0, le=100_000)
    purchase_count: int = Field(default=0, ge=0, le=10**9)
    segments: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=1000, description="Codes of saved segments."
    )


class SimulateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str = Field(default="default", max_length=64)
    event: SimEvent
    member_id: int | None = Field(default=None, ge=1, le=2**62)
    member: SimMember | None = None
    include_drafts: bool = True


def _rule_body(body: RuleIn) -> dict[str, Any]:
    data = body.model_dump(exclude_none=True)
    data.pop("code", None)
    return data


@router.post("/rules/simulate")
def simulate(body: SimulateIn, uow: Uow, _: AdminOrAnalyst) -> dict[str, Any]:
    """Which rules would fire for this event and member, and why; writes nothing."""
    data = body.model_dump(mode="json", exclude_none=True)
    return rules.simulate(uow, data)


@router.post("/rules", status_code=201)
def create_rule(
    body: RuleIn, uow: Uow, who: AdminOnly, program: ProgramQuery = "default"
) -> dict[str, Any]:
    data = _rule_body(body)
    data["code"] = body.code or ""
    return rules.save_rule(uow, data, who.label, program)


@router.get("/rules")
def list_rules(
    uow: Uow, _: AdminOrAnalyst, program: ProgramQuery = "default", include_disabled: bool = True
) -> list[dict[str, Any]]:
    return rules.list_rules(uow, program, include_disabled)


@router.get("/rules/{code}")
def get_rule(
    code: str,
    uow: Uow,
    _: AdminOrAnalyst,
    program: ProgramQuery = "default",
    version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
) -> dict[str, Any]:
    return rules.get_rule(uow, code, program, version)


@router.put("/rules/{code}")
def update_rule(
    code: str, body: RuleIn, uow: Uow, who: AdminOnly, program: ProgramQuery = "default"
) -> dict[str, Any]:
    """Save a new version of the rule (the old versions stay, for explanations)."""
    return rules.save_rule(uow, _rule_body(body), who.label, program, code=code)


@router.post("/rules/{code}/disable")
def disable_rule(
    code: str, uow: Uow, who: AdminOnly, program: ProgramQuery = "default"
) -> dict[str, Any]:
    return rules.disable_rule(uow, code, who.label, program)


@router.post("/campaigns", status_code=201)
def create_campaign(
    body: CampaignIn, uow: Uow, who: AdminOnly, program: ProgramQuery = "default"
) -> dict[str, Any]:
    data = body.model_dump(exclude_none=True)
    data["code"] = body.code or ""
    return rules.save_campaign(uow, data, who.label, program)


@router.get("/campaigns")
def list_campaigns(
    uow: Uow, _: AdminOrAnalyst, program: ProgramQuery = "default"
) -> list[dict[str, Any]]:
    return rules.list_campaigns(uow, program)


@router.get("/campaigns/{code}")
def get_campaign(
    code: str, uow: Uow, _: AdminOrAnalyst, program: ProgramQuery = "default"
) -> dict[str, Any]:
    return rules.get_campaign(uow, code, program)


@router.put("/campaigns/{code}")
def update_campaign(
    code: str, body: CampaignIn, uow: Uow, who: AdminOnly, program: ProgramQuery = "default"
) -> dict[str, Any]:
    data = body.model_dump(exclude_none=True)
    data.pop("code", None)
    return rules.save_campaign(uow, data, who.label, program, code=code)


@router.post("/campaigns/{code}/disable")
def disable_campaign(
    code: str, uow: Uow, who: AdminOnly, program: ProgramQuery = "default"
) -> dict[str, Any]:
    return rules.disable_campaign(uow, code, who.label, program)
