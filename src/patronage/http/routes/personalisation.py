"""Recommendations, next best offer and paid membership."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from patronage.domain.membership import Plan, plain
from patronage.http.deps import AdminOnly, AnyRole, IdempotencyKey, MemberPath, StaffOrAdmin, Uow
from patronage.http.personalisation_schemas import (
    CancellationIn,
    MembershipOut,
    OfferOut,
    PlanChangeIn,
    PlanIn,
    PlanOut,
    RecommendationsOut,
    RenewalIn,
    SignUpIn,
    SpendReportOut,
)
from patronage.services import membership, membership_report, next_best_offer, recommendations
from patronage.services.access import Principal

router = APIRouter(tags=["personalisation"])
PlanPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="Plan id.")]


def _plan(plan: Plan) -> PlanOut:
    data = asdict(plan)
    data["earn_multiplier"] = plain(plan.earn_multiplier)
    return PlanOut(**{k: v for k, v in data.items() if k != "program_id"})


def _no_analysts(principal: Principal, member_id: int) -> None:
    principal.require("admin", "staff", "member")
    principal.may_see_member(member_id)


@router.get("/members/{member_id}/recommendations", response_model=RecommendationsOut)
def get_recommendations(
    member_id: MemberPath,
    uow: Uow,
    principal: AnyRole,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> RecommendationsOut:
    """Top ``k`` products from the stored model (popular items when there is no history)."""
    principal.may_see_member(member_id)
    return RecommendationsOut(**asdict(recommendations.recommend(uow, member_id, k)))


@router.get("/members/{member_id}/next-best-offer", response_model=OfferOut)
def get_next_best_offer(member_id: MemberPath, uow: Uow, principal: AnyRole) -> OfferOut:
    """The offer worth most for this member now, with the reason."""
    principal.may_see_member(member_id)
    return OfferOut(**asdict(next_best_offer.next_best_offer(uow, member_id)))


@router.get("/membership/plans", response_model=list[PlanOut])
def list_plans(uow: Uow, principal: AnyRole) -> list[PlanOut]:
    return [_plan(p) for p in membership.list_plans(uow)]


@router.post("/membership/plans", status_code=201, response_model=PlanOut)
def create_plan(body: PlanIn, uow: Uow, principal: AdminOnly) -> PlanOut:
    return _plan(membership.add_plan(uow, membership.NewPlan(**body.model_dump())))


@router.patch("/membership/plans/{plan_id}", response_model=PlanOut)
def change_plan(plan_id: PlanPath, body: PlanChangeIn, uow: Uow, principal: AdminOnly) -> PlanOut:
    return _plan(membership.change_plan(uow, plan_id, **body.model_dump()))


@router.delete("/membership/plans/{plan_id}", response_model=PlanOut)
def retire_plan(plan_id: PlanPath, uow: Uow, principal: AdminOnly) -> PlanOut:
    """Plans are never deleted (memberships refer to them): this stops new sign-ups."""
    return _plan(membership.change_plan(uow, plan_id, active=False))


@router.get("/membership/report", response_model=SpendReportOut)
def spend_report(
    uow: Uow,
    principal: AnyRole,
    prior_days: Annotated[int, Query(ge=30, le=730)] = 180,
    after_days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> SpendReportOut:
    """Spend after sign-up of paid members vs matched unpaid members."""
    principal.require("admin", "staff", "analyst")
    report = membership_report.spend_report(uow, "default", prior_days, after_days)
    return SpendReportOut(**asdict(report))


@router.get("/members/{member_id}/membership", response_model=MembershipOut)
def get_membership(member_id: MemberPath, uow: Uow, principal: AnyRole) -> MembershipOut:
    principal.may_see_member(member_id)
    return MembershipOut(**asdict(membership.get_membership(uow, member_id)))


@router.post("/members/{member_id}/membership", status_code=201, response_model=MembershipOut)
def sign_up(
    member_id: MemberPath, body: SignUpIn, uow: Uow, principal: AnyRole, key: IdempotencyKey = None
) -> MembershipOut:
    _no_analysts(principal, member_id)
    view = membership.sign_up(
        uow, member_id, body.plan, body.payment_reference, principal.label, key
    )
    return MembershipOut(**asdict(view))


@router.post(
    "/members/{member_id}/membership/renewals", status_code=201, response_model=MembershipOut
)
def renew(
    member_id: MemberPath,
    body: RenewalIn,
    uow: Uow,
    principal: StaffOrAdmin,
    key: IdempotencyKey = None,
) -> MembershipOut:
    """Record a renewal payment (succeeded or failed); replays with the same key."""
    view = membership.renew(
        uow, member_id, body.succeeded, body.payment_reference, principal.label, key
    )
    return MembershipOut(**asdict(view))


@router.post(
    "/members/{member_id}/membership/cancellation", status_code=201, response_model=MembershipOut
)
def cancel(
    member_id: MemberPath,
    body: CancellationIn,
    uow: Uow,
    principal: AnyRole,
    key: IdempotencyKey = None,
) -> MembershipOut:
    """End now; refund the unused whole days of the period (rounded down)."""
    _no_analysts(principal, member_id)
    view = membership.cancel(uow, member_id, body.refund_to, principal.label, key)
    return MembershipOut(**asdict(view))
