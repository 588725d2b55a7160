"""Member 360 and the staff counter screen."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response

from patronage.errors import InvalidInput, PatronageError
from patronage.services import points
from patronage.services.complaints import NewComplaint, file_complaint
from patronage.services.events import EventRequest, record_event
from patronage.services.member_view import find_members, member_360
from patronage.services.portal_codes import issue_portal_code
from patronage.services.staff_users import StaffUser
from patronage.web.forms import check_csrf, error_message, parse_points
from patronage.web.i18n import Translator
from patronage.web.render import WebRoute, page, redirect, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
MemberId = Annotated[int, Path(ge=1, le=2**62)]
ANYONE = ("admin", "staff", "analyst")
COUNTER = ("admin", "staff")
Text = Annotated[str, Form(max_length=300)]
COMPLAINT_FIELDS = ("category", "severity", "channel", "subject", "description", "order_id")


def _actor(user: StaffUser) -> str:
    return f"web:{user.username}"


def _done(done: str | None, pts: int | None) -> dict[str, Any] | None:
    if done in ("redeemed", "adjusted", "purchase", "complaint"):
        return {"key": f"done.{done}", "points": pts or 0}
    return None


@router.get("/members")
def find(request: Request, q: Annotated[str, Query(max_length=128)] = "") -> Response:
    user = require_staff(request, *ANYONE)
    found = find_members(uow_of(request), q) if q.strip() else None
    if found and len(found) == 1:
        return redirect(f"/members/{found[0].id}")
    return page(request, "members.html", user=user, q=q, found=found)


def _member_page(request: Request, user: StaffUser, member_id: int, **extra: Any) -> Response:
    view = member_360(uow_of(request), member_id)
    return page(request, "member.html", user=user, view=view, form_key=uuid.uuid4().hex, **extra)


@router.get("/members/{member_id}")
def member(
    request: Request,
    member_id: MemberId,
    done: Annotated[str | None, Query(max_length=20)] = None,
    points_done: Annotated[int | None, Query(alias="points")] = None,
) -> Response:
    user = require_staff(request, *ANYONE)
    return _member_page(request, user, member_id, done=_done(done, points_done))


@router.post("/members/{member_id}/redeem")
def redeem(
    request: Request,
    member_id: MemberId,
    points_text: Annotated[str, Form(alias="points", max_length=20)] = "",
    key: Text = "",
    csrf_token: Text = "",
) -> Response:
    user = require_staff(request, *COUNTER)
    check_csrf(request, csrf_token)
    try:
        result = points.redeem_points(
            uow_of(request), member_id, parse_points(points_text), None, _actor(user), key or None
        )
    except PatronageError as exc:
        return _member_page(request, user, member_id, error=error_message(translator(request), exc))
    return redirect(f"/members/{member_id}?done=redeemed&points={-result.points}")


@router.post("/members/{member_id}/adjust")
def adjust(
    request: Request,
    member_id: MemberId,
    points_text: Annotated[str, Form(alias="points", max_length=20)] = "",
    reason: Text = "",
    key: Text = "",
    csrf_token: Text = "",
) -> Response:
    user = require_staff(request, "admin")
    check_csrf(request, csrf_token)
    try:
        result = points.adjust_points(
            uow_of(request),
            member_id,
            parse_points(points_text),
            reason,
            _actor(user),
            key or None,
        )
    except PatronageError as exc:
        return _member_page(request, user, member_id, error=error_message(translator(request), exc))
    return redirect(f"/members/{member_id}?done=adjusted&points={result.points}")


@router.post("/members/{member_id}/portal-code")
def portal_code(request: Request, member_id: MemberId, csrf_token: Text = "") -> Response:
    user = require_staff(request, *COUNTER)
    check_csrf(request, csrf_token)
    code = issue_portal_code(uow_of(request), member_id)
    return _member_page(request, user, member_id, portal_code=code)


@router.post("/members/{member_id}/complaints")
def complaint(
    request: Request,
    member_id: MemberId,
    category: Annotated[str, Form(max_length=64)] = "",
    severity: Annotated[str, Form(max_length=16)] = "",
    channel: Annotated[str, Form(max_length=64)] = "",
    subject: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
    order_id: Annotated[str, Form(max_length=128)] = "",
    key: Text = "",
    csrf_token: Text = "",
) -> Response:
    """File a complaint for the member (services.complaints: SLA clocks start now).
    The form carries a one-time key (fresh with every page): a double submit files once."""
    user = require_staff(request, *COUNTER)
    check_csrf(request, csrf_token)
    new = NewComplaint(
        member_id=member_id,
        category=category.strip(),
        severity=severity,
        subject=subject.strip(),
        channel=channel.strip(),
        description=description.strip() or None,
        order_id=order_id.strip() or None,
    )
    try:
        file_complaint(uow_of(request), new, _actor(user), key or None)
    except PatronageError as exc:
        message = _complaint_error(translator(request), exc)
        return _member_page(request, user, member_id, status=400, error=message, complaint_form=new)
    return redirect(f"/members/{member_id}?done=complaint#complaints-title")


def _complaint_error(t: Translator, exc: PatronageError) -> str:
    """The error naming the form field it is about, in the page's language."""
    field = str(exc.details.get("field", ""))
    if field in COMPLAINT_FIELDS:
        return t("complaint.check_field", field=t(f"complaint.{field}"))
    return error_message(t, exc)


def _counter_page(request: Request, user: StaffUser, **context: Any) -> Response:
    member_id = context.pop("member_id", None)
    view = member_360(uow_of(request), member_id, full=False) if member_id else None
    return page(request, "counter.html", user=user, view=view, form_key=uuid.uuid4().hex, **context)


@router.get("/counter")
def counter(
    request: Request,
    q: Annotated[str, Query(max_length=128)] = "",
    member_id: Annotated[int | None, Query(alias="member", ge=1, le=2**62)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    points_done: Annotated[int | None, Query(alias="points")] = None,
) -> Response:
    user = require_staff(request, *COUNTER)
    context: dict[str, Any] = {"q": q, "done": _done(done, points_done), "found": None}
    if q.strip() and member_id is None:
        found = find_members(uow_of(request), q)
        context["found"] = found
        if len(found) == 1:
            member_id = found[0].id
    return _counter_page(request, user, member_id=member_id, **context)


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput("amount must be a number", field="amount") from None


@router.post("/counter/purchase")
def counter_purchase(
    request: Request,
    member_id: Annotated[int, Form(ge=1, le=2**62)],
    amount: Text = "",
    order_id: Text = "",
    store: Text = "",
    key: Text = "",
    csrf_token: Text = "",
) -> Response:
    user = require_staff(request, *COUNTER)
    check_csrf(request, csrf_token)
    try:
        event = EventRequest(
            type="purchase",
            occurred_at=request.app.state.clock(),
            member_id=member_id,
            order_id=order_id.strip() or f"web-{key or uuid.uuid4().hex}",
            amount=_amount(amount),
            store=store.strip() or None,
            channel="store",
            staff_id=user.username,
        )
        result = record_event(uow_of(request), event, key or None)
    except PatronageError as exc:
        message = error_message(translator(request), exc)
        return _counter_page(request, user, member_id=member_id, error=message)
    return redirect(f"/counter?member={member_id}&done=purchase&points={result.points_earned}")


@router.post("/counter/redeem")
def counter_redeem(
    request: Request,
    member_id: Annotated[int, Form(ge=1, le=2**62)],
    points_text: Annotated[str, Form(alias="points", max_length=20)] = "",
    key: Text = "",
    csrf_token: Text = "",
) -> Response:
    user = require_staff(request, *COUNTER)
    check_csrf(request, csrf_token)
    try:
        result = points.redeem_points(
            uow_of(request), member_id, parse_points(points_text), None, _actor(user), key or None
        )
    except PatronageError as exc:
        message = error_message(translator(request), exc)
        return _counter_page(request, user, member_id=member_id, error=message)
    return redirect(f"/counter?member={member_id}&done=redeemed&points={-result.points}")
