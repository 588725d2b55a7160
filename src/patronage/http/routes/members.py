"""Members, their balances, ledgers and explanations, redemptions and adjustments.

The counter's requests run on the event loop (``async def``): reading a member or a
balance and redeeming points are a few short statements, cheaper than a hop to a
worker thread and back (ADR 0009). Longer reads and rarer writes run in the pool."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from patronage.domain.members import Member
from patronage.errors import InvalidInput
from patronage.http.deps import (
    AdminOnly,
    AnyRole,
    IdempotencyKey,
    MemberPath,
    ReadUow,
    StaffOrAdmin,
    Uow,
)
from patronage.http.schemas import (
    AdjustmentIn,
    BalanceOut,
    EntryOut,
    ExplanationOut,
    LedgerPage,
    MemberIn,
    MemberOut,
    PointsOut,
    RedemptionIn,
)
from patronage.services import balances, members, points

router = APIRouter(prefix="/members", tags=["members"])


def member_out(member: Member) -> MemberOut:
    data = asdict(member)
    data["tier"] = data.pop("tier_code")
    return MemberOut(**data)


@router.post("", status_code=201, response_model=MemberOut)
def enroll(body: MemberIn, uow: Uow, _: StaffOrAdmin, key: IdempotencyKey = None) -> MemberOut:
    request = members.NewMember(**body.model_dump())
    return member_out(members.enroll_member(uow, request, key))


@router.get("", response_model=list[MemberOut])
def search(
    uow: ReadUow,
    principal: AnyRole,
    external_id: Annotated[str | None, Query(max_length=128)] = None,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    program: Annotated[str, Query(max_length=64)] = "default",
) -> list[MemberOut]:
    principal.require("admin", "staff", "analyst")
    if external_id is not None:
        return [member_out(members.find_member(uow, program, external_id))]
    if phone is None and email is None:
        raise InvalidInput("give external_id, phone or email", field="external_id")
    return [member_out(m) for m in members.search_members(uow, program, phone=phone, email=email)]


@router.get("/{member_id}", response_model=MemberOut)
async def get_member(member_id: MemberPath, uow: ReadUow, principal: AnyRole) -> MemberOut:
    principal.may_see_member(member_id)
    return member_out(members.get_member(uow, member_id))


@router.get("/{member_id}/balance", response_model=BalanceOut)
async def balance(member_id: MemberPath, uow: ReadUow, principal: AnyRole) -> BalanceOut:
    principal.may_see_member(member_id)
    return BalanceOut(**asdict(balances.get_balance(uow, member_id)))


@router.get("/{member_id}/ledger", response_model=LedgerPage)
def ledger(
    member_id: MemberPath,
    uow: ReadUow,
    principal: AnyRole,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> LedgerPage:
    principal.may_see_member(member_id)
    entries, cursor = balances.ledger_page(uow, member_id, limit, before_id)
    return LedgerPage(entries=[EntryOut(**asdict(e)) for e in entries], next_before_id=cursor)


@router.get("/{member_id}/balance/explanation", response_model=ExplanationOut)
def explanation(member_id: MemberPath, uow: ReadUow, principal: AnyRole) -> ExplanationOut:
    principal.may_see_member(member_id)
    return ExplanationOut(**balances.explain_balance(uow, member_id))


@router.post("/{member_id}/redemptions", status_code=201, response_model=PointsOut)
async def redeem(
    member_id: MemberPath,
    body: RedemptionIn,
    uow: Uow,
    principal: AnyRole,
    key: IdempotencyKey = None,
) -> PointsOut:
    principal.require("admin", "staff", "member")
    principal.may_see_member(member_id)
    result = points.redeem_points(uow, member_id, body.points, body.reward_id, principal.label, key)
    return PointsOut(**asdict(result))


@router.post("/{member_id}/adjustments", status_code=201, response_model=PointsOut)
def adjust(
    member_id: MemberPath,
    body: AdjustmentIn,
    uow: Uow,
    principal: AdminOnly,
    key: IdempotencyKey = None,
) -> PointsOut:
    result = points.adjust_points(uow, member_id, body.points, body.reason, principal.label, key)
    return PointsOut(**asdict(result))
