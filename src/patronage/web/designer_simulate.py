"""The simulator: an event and a member (a stored one, or facts typed in) run through the
rules and campaigns as they stand, showing which rules fire, how many points each gives
and why. It writes nothing (the rules service rolls its reading transaction back)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from patronage.domain.rules import CUSTOM_EVENT_TYPES
from patronage.errors import InvalidInput, PatronageError
from patronage.services.rules import simulate
from patronage.services.staff_users import StaffUser
from patronage.services.tier_ladder import program_ladder
from patronage.web.designer_forms import (
    PROGRAM,
    READERS,
    json_value,
    local_time,
    number,
    refusal,
    whole,
)
from patronage.web.forms import check_csrf, parse_day
from patronage.web.render import WebRoute, page, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ITEM_FIELDS = {"sku", "category", "quantity", "price"}


class SimulateForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_type: str = Field(default="purchase", max_length=64)
    event_amount: str = Field(default="", max_length=32)
    event_occurred_at: str = Field(default="", max_length=32)
    event_channel: str = Field(default="", max_length=64)
    event_store: str = Field(default="", max_length=128)
    event_items: str = Field(default="", max_length=20_000)
    event_attributes: str = Field(default="", max_length=4000)
    member_id: str = Field(default="", max_length=20)
    member_tier: str = Field(default="", max_length=64)
    member_purchase_count: str = Field(default="0", max_length=12)
    member_days_since_join: str = Field(default="", max_length=12)
    member_birthday: str = Field(default="", max_length=10)
    member_attributes: str = Field(default="", max_length=4000)
    include_drafts: str = Field(default="", max_length=8)
    csrf_token: str = Field(default="", max_length=200)

    def body(self, timezone: str) -> dict[str, Any]:
        """The simulation request the rules service takes."""
        event: dict[str, Any] = {
            "type": self.event_type.strip() or "purchase",
            "occurred_at": local_time(self.event_occurred_at, "event_occurred_at", timezone),
            "amount": number(self.event_amount, "event_amount") if self.event_amount else None,
            "items": _items(self.event_items),
            "channel": self.event_channel.strip() or None,
            "store": self.event_store.strip() or None,
            "attributes": json_value(self.event_attributes, "event_attributes", dict) or {},
        }
        out: dict[str, Any] = {
            "program": PROGRAM,
            "event": event,
            "include_drafts": bool(self.include_drafts),
        }
        member_id = whole(self.member_id, "member_id", optional=True)
        if member_id is not None:
            if member_id < 1:
                raise InvalidInput("member_id must be positive", field="member_id")
            out["member_id"] = member_id
            return out
        birthday = parse_day(self.member_birthday.strip(), "member_birthday")
        count = whole(self.member_purchase_count, "member_purchase_count", optional=True)
        days = whole(self.member_days_since_join, "member_days_since_join", optional=True)
        for name, value in (("member_purchase_count", count), ("member_days_since_join", days)):
            if value is not None and value < 0:
                raise InvalidInput(f"{name} must not be negative", field=name)
        out["member"] = {
            "tier": self.member_tier or None,
            "purchase_count": count or 0,
            "days_since_join": days,
            "birthday": birthday.isoformat() if birthday else None,
            "attributes": json_value(self.member_attributes, "member_attributes", dict) or {},
        }
        return out


def _items(text: str) -> list[dict[str, Any]]:
    items = json_value(text, "event_items", list) or []
    if len(items) > 1000:
        raise InvalidInput("at most 1000 items", field="event_items")
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            raise InvalidInput(
                f"item {index} must be an object with a sku",
                code="bad_item",
                field="event_items",
                item=index,
            )
        unknown = sorted(set(item) - ITEM_FIELDS)
        if unknown:
            raise InvalidInput(
                f"item {index}: unknown field {unknown[0]!r}",
                code="bad_item",
                field="event_items",
                item=index,
            )
    return items


def _page(request: Request, user: StaffUser, status: int = 200, **context: Any) -> Response:
    context.setdefault("form", SimulateForm(include_drafts="on"))
    return page(
        request,
        "designer_simulate.html",
        status,
        user=user,
        program=program_ladder(uow_of(request), PROGRAM),
        event_types=("purchase", *CUSTOM_EVENT_TYPES),
        designer_section="simulate",
        **context,
    )


@router.get("/designer/simulate")
def simulate_form(request: Request) -> Response:
    user = require_staff(request, *READERS)
    return _page(request, user)


@router.post("/designer/simulate")
def run_simulation(request: Request, form: Annotated[SimulateForm, Form()]) -> Response:
    user = require_staff(request, *READERS)
    check_csrf(request, form.csrf_token)
    try:
        result = simulate(uow_of(request), form.body(translator(request).timezone))
    except PatronageError as exc:
        return _page(request, user, form=form, **refusal(request, exc))
    return _page(request, user, form=form, result=result)
