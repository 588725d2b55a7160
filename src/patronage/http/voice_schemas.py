"""Request bodies of the survey and complaint endpoints."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Id = Field(ge=1, le=2**62)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SurveyIn(Strict):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    title: dict[str, str]
    questions: list[dict[str, Any]] = Field(min_length=1, max_length=50)
    trigger: str = Field(default="manual", max_length=32)
    recontact_days: int | None = Field(default=None, ge=0, le=3660)
    link_days: int = Field(default=30, ge=1, le=3660)
    program: str = Field(default="default", max_length=64)


class InvitationIn(Strict):
    member_id: int = Id
    send_channel: str = Field(max_length=32)
    event_id: int | None = Field(default=None, ge=1, le=2**62)


class PurchaseInvitationsIn(Strict):
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")


class TokenAnswersIn(Strict):
    answers: dict[str, Any]
    language: str = Field(default="zh-CN", max_length=8)


class StaffAnswersIn(TokenAnswersIn):
    member_id: int = Id
    invitation_id: int | None = Field(default=None, ge=1, le=2**62)
    channel: str | None = Field(default=None, max_length=64)
    store: str | None = Field(default=None, max_length=128)
    staff_id: str | None = Field(default=None, max_length=128)


class ComplaintIn(Strict):
    member_id: int = Id
    category: str = Field(max_length=64)
    severity: str = Field(max_length=16)
    subject: str = Field(max_length=200)
    channel: str = Field(max_length=64)
    description: str | None = Field(default=None, max_length=4000)
    order_id: str | None = Field(default=None, max_length=128)
    assignee: str | None = Field(default=None, max_length=128)


class AssignIn(Strict):
    assignee: str = Field(max_length=128)


class RespondIn(Strict):
    message: str = Field(max_length=4000)
    wait_for_customer: bool = False


class StatusIn(Strict):
    status: str = Field(max_length=32)


class ResolveIn(Strict):
    summary: str = Field(max_length=4000)


class ReopenIn(Strict):
    reason: str = Field(max_length=4000)


class NoteIn(Strict):
    body: str = Field(max_length=4000)


class RecoveryIn(Strict):
    points: int = Field(default=0, ge=0, le=10**9)
    coupon_ref: str | None = Field(default=None, max_length=128)
    note: str | None = Field(default=None, max_length=500)


class TargetIn(Strict):
    category: str = Field(default="*", max_length=64)
    severity: str = Field(max_length=16)
    first_response_minutes: int = Field(ge=1, le=525_600)
    resolution_minutes: int = Field(ge=1, le=525_600)


class CalendarIn(Strict):
    timezone: str | None = Field(default=None, max_length=64)
    hours: list[tuple[str, str]] | None = Field(default=None, max_length=6)
    workdays: list[int] | None = Field(default=None, max_length=7)
    add_holidays: list[date] = Field(default_factory=list, max_length=400)
    remove_holidays: list[date] = Field(default_factory=list, max_length=400)
