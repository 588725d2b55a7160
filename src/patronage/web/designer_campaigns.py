"""Campaigns in the program designer: the list with a form for a new campaign, one
campaign (its rules, what it issued) with its edit form, and disabling."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from patronage.domain.rules import CAP_PERIODS, STACKING, STATUSES
from patronage.errors import PatronageError
from patronage.services.rules import (
    disable_campaign,
    get_campaign,
    list_campaigns,
    save_campaign,
)
from patronage.services.staff_users import StaffUser
from patronage.web.designer_forms import (
    PROGRAM,
    READERS,
    actor,
    input_time,
    local_time,
    refusal,
    require_writer,
)
from patronage.web.render import WebRoute, page, redirect, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CampaignCode = Annotated[str, Path(max_length=64)]
CHOICES = {"stacking": STACKING, "statuses": STATUSES, "cap_periods": CAP_PERIODS}


class CampaignForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=200)
    starts_at: str = Field(default="", max_length=32)
    ends_at: str = Field(default="", max_length=32)
    segment: str = Field(default="", max_length=4000)
    budget: str = Field(default="", max_length=20)
    cap_day: str = Field(default="", max_length=20)
    cap_week: str = Field(default="", max_length=20)
    cap_month: str = Field(default="", max_length=20)
    cap_campaign: str = Field(default="", max_length=20)
    priority: str = Field(default="0", max_length=16)
    stacking: str = Field(default="stack", max_length=16)
    status: str = Field(default="active", max_length=16)
    csrf_token: str = Field(default="", max_length=200)

    def data(self, timezone: str) -> dict[str, Any]:
        """What ``save_campaign`` takes; local times are read in ``timezone``."""
        out: dict[str, Any] = {
            "name": self.name.strip(),
            "starts_at": local_time(self.starts_at, "starts_at", timezone),
            "ends_at": local_time(self.ends_at, "ends_at", timezone),
            "priority": self.priority.strip() or "0",
            "stacking": self.stacking or "stack",
            "status": self.status or "active",
            "caps": {
                period: getattr(self, f"cap_{period}").strip().replace(",", "")
                for period in CAP_PERIODS
                if getattr(self, f"cap_{period}").strip()
            },
        }
        if self.segment.strip():
            out["segment"] = self.segment.replace("\r\n", "\n")
        if self.budget.strip():
            out["budget"] = self.budget.strip().replace(",", "")
        return out


def form_of(campaign: dict[str, Any], timezone: str) -> CampaignForm:
    caps = campaign.get("caps") or {}
    return CampaignForm(
        code=campaign["code"],
        name=campaign["name"],
        starts_at=input_time(campaign.get("starts_at"), timezone),
        ends_at=input_time(campaign.get("ends_at"), timezone),
        segment=campaign.get("segment") or "",
        budget="" if campaign.get("budget") is None else str(campaign["budget"]),
        priority=str(campaign["priority"]),
        stacking=campaign["stacking"],
        status=campaign["status"],
        **{f"cap_{p}": str(caps[p]) for p in CAP_PERIODS if p in caps},
    )


def _list_page(request: Request, user: StaffUser, status: int = 200, **context: Any) -> Response:
    context.setdefault("form", CampaignForm())
    return page(
        request,
        "designer_campaigns.html",
        status,
        user=user,
        campaigns=list_campaigns(uow_of(request), PROGRAM),
        choices=CHOICES,
        designer_section="campaigns",
        **context,
    )


@router.get("/designer/campaigns")
def campaigns_page(request: Request) -> Response:
    user = require_staff(request, *READERS)
    return _list_page(request, user)


@router.post("/designer/campaigns")
def create_campaign(request: Request, form: Annotated[CampaignForm, Form()]) -> Response:
    user = require_writer(request, form.csrf_token)
    timezone = translator(request).timezone
    try:
        data = {**form.data(timezone), "code": form.code.strip()}
        saved = save_campaign(uow_of(request), data, actor(user.username), PROGRAM)
    except PatronageError as exc:
        return _list_page(request, user, form=form, **refusal(request, exc))
    return redirect(f"/designer/campaigns/{saved['code']}?done=created")


def _campaign_page(
    request: Request, user: StaffUser, code: str, status: int = 200, **context: Any
) -> Response:
    campaign = get_campaign(uow_of(request), code, PROGRAM)
    context.setdefault("form", form_of(campaign, translator(request).timezone))
    return page(
        request,
        "designer_campaign.html",
        status,
        user=user,
        campaign=campaign,
        choices=CHOICES,
        designer_section="campaigns",
        **context,
    )


@router.get("/designer/campaigns/{code}")
def campaign_page(
    request: Request,
    code: CampaignCode,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    user = require_staff(request, *READERS)
    return _campaign_page(request, user, code, done=done)


@router.post("/designer/campaigns/{code}")
def update_campaign(
    request: Request, code: CampaignCode, form: Annotated[CampaignForm, Form()]
) -> Response:
    user = require_writer(request, form.csrf_token)
    try:
        data = form.data(translator(request).timezone)
        save_campaign(uow_of(request), data, actor(user.username), PROGRAM, code=code)
    except PatronageError as exc:
        return _campaign_page(request, user, code, form=form, **refusal(request, exc))
    return redirect(f"/designer/campaigns/{code}?done=saved")


@router.post("/designer/campaigns/{code}/disable")
def disable(
    request: Request, code: CampaignCode, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    user = require_writer(request, csrf_token)
    disable_campaign(uow_of(request), code, actor(user.username), PROGRAM)
    return redirect(f"/designer/campaigns/{code}?done=disabled")
