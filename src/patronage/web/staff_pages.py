"""Staff sign-in, the language switch and the manager's dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response

from patronage.errors import RuleViolation, Unauthorized
from patronage.services.dashboard import Dashboard
from patronage.services.dashboard_analytics import dashboard_with_panels
from patronage.services.staff_users import sign_in
from patronage.web import charts, security
from patronage.web.dashboard_panels import panel_charts
from patronage.web.forms import check_csrf, error_message, local_path, parse_day, start_of
from patronage.web.i18n import LANGUAGES, Translator
from patronage.web.panel_waits import after_retry, start_waiting, waiting_context
from patronage.web.render import (
    WebRoute,
    page,
    redirect,
    require_staff,
    staff_user,
    translator,
    uow_of,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
DEFAULT_MONTHS = 12


@router.get("/")
def home(request: Request) -> Response:
    return redirect("/dashboard" if staff_user(request) else "/login")


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    response = redirect(local_path(next, "/"))
    if code in LANGUAGES:
        security.set_cookie(response, security.LANG_COOKIE, code, max_age=365 * 86400)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/dashboard") -> Response:
    return page(request, "login.html", next=local_path(next, "/dashboard"), error=None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/dashboard",
) -> Response:
    check_csrf(request, csrf_token)
    target = local_path(next, "/dashboard")
    try:
        user = sign_in(uow_of(request), username.strip(), password)
    except (Unauthorized, RuleViolation) as exc:
        message = error_message(translator(request), exc)
        return page(request, "login.html", next=target, error=message, username=username)
    expires = request.app.state.clock() + timedelta(seconds=security.SESSION_SECONDS)
    token = security.sign(
        {"uid": user.id, "exp": int(expires.timestamp())}, request.app.state.web_secret, "session"
    )
    response = redirect(target)
    security.set_cookie(response, security.SESSION_COOKIE, token, security.SESSION_SECONDS)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    response = redirect("/login")
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


@router.get("/dashboard")
def dashboard(
    request: Request,
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    store: Annotated[str | None, Query(max_length=128)] = None,
    retry: Annotated[bool, Query()] = False,
) -> Response:
    """On a large program the heavy panels come from kept results, or show the progress
    of the background job computing them (``services.dashboard_analytics``)."""
    user = require_staff(request)
    today = request.app.state.clock().date()
    last_day = parse_day(end, "end") or today
    first_day = parse_day(start, "start") or _months_back(last_day, DEFAULT_MONTHS - 1)
    view, waiting = dashboard_with_panels(
        uow_of(request),
        start_of(first_day),
        start_of(last_day + timedelta(days=1)),
        store,
        actor=f"web:{user.username}",
        inline_events=request.app.state.analytics_inline_events,
        retry=retry,
    )
    start_waiting(request, waiting.values())
    if retry:
        return after_retry(request)
    t = translator(request)
    return page(
        request,
        "dashboard.html",
        user=user,
        view=view,
        start=first_day.isoformat(),
        end=last_day.isoformat(),
        charts={**_charts(t, view), **panel_charts(t, view)},
        **waiting_context(request, t, waiting),
    )


def _months_back(day: Any, months: int) -> Any:
    index = day.year * 12 + day.month - 1 - months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def _charts(t: Translator, view: Dashboard) -> dict[str, Any]:
    labels = [m["month"] for m in view.months]
    points = charts.line_chart(
        t("dashboard.points_chart"),
        labels,
        {
            t("dashboard.issued"): [m["issued"] for m in view.months],
            t("dashboard.redeemed"): [m["redeemed"] for m in view.months],
            t("dashboard.expired"): [m["expired"] for m in view.months],
        },
        lambda v: t.number(round(v)),
    )
    outstanding = charts.line_chart(
        t("dashboard.outstanding_chart"),
        labels,
        {t("dashboard.outstanding"): [m["outstanding"] for m in view.months]},
        lambda v: t.number(round(v)),
    )
    tiers = charts.bar_chart(
        t("dashboard.tiers"), [(n, float(c)) for n, c in view.tiers], lambda v: t.number(round(v))
    )
    lorenz = charts.lorenz_chart(
        t("dashboard.lorenz"),
        view.lorenz,
        (t("dashboard.customer_share"), t("dashboard.revenue_share")),
    )
    return {"points": points, "outstanding": outstanding, "tiers": tiers, "lorenz": lorenz}
