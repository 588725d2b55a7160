"""The program designer: an overview and the tier ladder. Rules and campaigns, the
simulator, the reward catalog and coupon batches have their own modules; this router
includes them. Admins change the program; analysts read it; other roles get 403."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response

from patronage.errors import PatronageError
from patronage.http.errors import status_of
from patronage.services.coupon_batches import list_batches
from patronage.services.rewards import list_rewards
from patronage.services.rules import list_campaigns, list_rules
from patronage.services.staff_users import StaffUser
from patronage.services.tier_ladder import change_tier, program_ladder
from patronage.web import (
    designer_campaigns,
    designer_coupons,
    designer_rewards,
    designer_rules,
    designer_simulate,
)
from patronage.web.designer_forms import (
    PROGRAM,
    READERS,
    actor,
    field_errors,
    number,
    plain,
    require_writer,
    whole,
)
from patronage.web.render import WebRoute, page, redirect, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
TierCode = Annotated[str, Path(max_length=64)]
Text = Annotated[str, Form(max_length=600)]


@router.get("/designer")
def overview(request: Request) -> Response:
    user = require_staff(request, *READERS)
    uow = uow_of(request)
    rules = list_rules(uow, PROGRAM)
    counts = {
        "tiers": len(program_ladder(uow, PROGRAM).tiers),
        "rules": sum(1 for r in rules if r["status"] == "active"),
        "campaigns": len(list_campaigns(uow, PROGRAM)),
        "rewards": len(list_rewards(uow, PROGRAM)),
        "batches": len(list_batches(uow, PROGRAM)),
    }
    return page(request, "designer_home.html", user=user, counts=counts, designer_section="home")


def _tiers_page(request: Request, user: StaffUser, status: int = 200, **context: Any) -> Response:
    program = program_ladder(uow_of(request), PROGRAM)
    return page(
        request,
        "designer_tiers.html",
        status,
        user=user,
        program=program,
        plain=plain,
        designer_section="tiers",
        **context,
    )


@router.get("/designer/tiers")
def tiers(request: Request, done: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    user = require_staff(request, *READERS)
    return _tiers_page(request, user, saved_tier=done)


@router.post("/designer/tiers/{code}")
def save_tier(
    request: Request,
    code: TierCode,
    threshold: Text = "",
    multiplier: Text = "",
    reason: Text = "",
    csrf_token: Text = "",
) -> Response:
    user = require_writer(request, csrf_token)
    try:
        change_tier(
            uow_of(request),
            code,
            whole(threshold, "threshold") or 0,
            number(multiplier, "multiplier"),
            actor(user.username),
            reason,
            PROGRAM,
        )
    except PatronageError as exc:
        errors = {
            name.rsplit("_", 1)[-1]: text
            for name, text in field_errors(translator(request), exc).items()
        }
        entered = {"threshold": threshold, "multiplier": multiplier, "reason": reason}
        return _tiers_page(
            request, user, status_of(exc), edited=code, errors=errors, entered=entered
        )
    return redirect(f"/designer/tiers?done={code}")


for part in (
    designer_rules.router,
    designer_rules.checks,
    designer_campaigns.router,
    designer_simulate.router,
    designer_rewards.router,
    designer_coupons.router,
    designer_coupons.progress,
):
    router.include_router(part)
