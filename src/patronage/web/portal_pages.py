"""The member portal: sign in with a one-time code; balance, what expires when, history."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from patronage.errors import RuleViolation, Unauthorized
from patronage.services import balances
from patronage.services.members import get_member
from patronage.services.portal_codes import sign_in_with_code
from patronage.web import security
from patronage.web.forms import check_csrf, error_message
from patronage.web.qr import card_qr
from patronage.web.render import PortalLoginRequired, WebRoute, page, redirect, translator, uow_of

router = APIRouter(prefix="/portal", route_class=WebRoute, include_in_schema=False)
PORTAL_SECONDS = 2 * 3600
Text = Annotated[str, Form(max_length=128)]


def portal_member(request: Request) -> int:
    payload = security.unsign(
        request.cookies.get(security.PORTAL_COOKIE), request.app.state.web_secret, "portal"
    )
    if not payload or payload.get("exp", 0) < request.app.state.clock().timestamp():
        raise PortalLoginRequired()
    return int(payload["mid"])


@router.get("/login")
def portal_login_form(request: Request) -> Response:
    return page(request, "portal_login.html", error=None, identifier="")


@router.post("/login")
def portal_login(
    request: Request, identifier: Text = "", code: Text = "", csrf_token: Text = ""
) -> Response:
    check_csrf(request, csrf_token)
    try:
        member_id = sign_in_with_code(uow_of(request), identifier, code)
    except (Unauthorized, RuleViolation) as exc:
        message = error_message(translator(request), exc)
        return page(request, "portal_login.html", error=message, identifier=identifier)
    expires = request.app.state.clock() + timedelta(seconds=PORTAL_SECONDS)
    token = security.sign(
        {"mid": member_id, "exp": int(expires.timestamp())}, request.app.state.web_secret, "portal"
    )
    response = redirect("/portal")
    security.set_cookie(response, security.PORTAL_COOKIE, token, PORTAL_SECONDS)
    return response


@router.post("/logout")
def portal_logout(request: Request, csrf_token: Text = "") -> Response:
    check_csrf(request, csrf_token)
    response = redirect("/portal/login")
    response.delete_cookie(security.PORTAL_COOKIE, path="/")
    return response


@router.get("")
def portal_home(request: Request) -> Response:
    member_id = portal_member(request)
    uow = uow_of(request)
    explanation = balances.explain_balance(uow, member_id)
    expiring = sorted(
        (lot for lot in explanation["lots"] if lot["expires_at"] and lot["status"] != "expired"),
        key=lambda lot: lot["expires_at"],
    )
    entries, _ = balances.ledger_page(uow, member_id, 30)
    member = get_member(uow, member_id)
    return page(
        request,
        "portal_home.html",
        member=member,
        card_qr=card_qr(member.external_id, translator(request)("portal.qr_label")),
        balance=balances.get_balance(uow, member_id),
        expiring=expiring,
        entries=entries,
    )
