"""Referral codes and referrals."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from patronage.http.deps import AnyRole, MemberPath, Uow
from patronage.services import referrals

router = APIRouter(tags=["referrals"])


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    referee_member_id: int = Field(ge=1, le=2**62)
    code: str = Field(min_length=4, max_length=32)


class ReferralOut(BaseModel):
    id: int
    referrer_id: int
    referee_id: int
    status: str


@router.get("/members/{member_id}/referral-code")
def get_referral_code(member_id: MemberPath, uow: Uow, principal: AnyRole) -> dict[str, str]:
    principal.require("admin", "staff", "member")
    principal.may_see_member(member_id)
    return {"code": referrals.referral_code(uow, member_id)}


@router.post("/referrals", status_code=201, response_model=ReferralOut)
def post_referral(body: ReferralIn, uow: Uow, principal: AnyRole) -> ReferralOut:
    principal.require("admin", "staff", "member")
    principal.may_see_member(body.referee_member_id)
    return ReferralOut(**asdict(referrals.refer(uow, body.referee_member_id, body.code)))
