"""Rendering pages: the Jinja2 environment, the request's language and user, error pages,
and the route class that turns platform errors into pages instead of JSON."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from patronage.errors import Forbidden, NotFound, PatronageError
from patronage.http.errors import error_body
from patronage.services.staff_users import StaffUser, get_staff_user
from patronage.storage.uow import UnitOfWork
from patronage.web import charts, security
from patronage.web.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, negotiate

log = logging.getLogger("patronage.web")
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.globals.update(heat_colour=charts.heat_colour, heat_text=charts.heat_text)


class LoginRequired(Exception):
    """No (valid) staff session: the page sends the visitor to sign in."""


class PortalLoginRequired(Exception):
    """No member session: the portal sends the member to its sign-in page."""


def uow_of(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.engine, request.app.state.clock)


def translator(request: Request) -> Translator:
    lang = negotiate(
        request.cookies.get(security.LANG_COOKIE), request.headers.get("accept-language")
    )
    return Translator(lang, getattr(request.app.state, "web_timezone", "UTC"))


def staff_user(request: Request) -> StaffUser | None:
    cached: StaffUser | None = getattr(request.state, "staff_user", None)
    if cached is not None:
        return cached
    payload = security.unsign(
        request.cookies.get(security.SESSION_COOKIE), request.app.state.web_secret, "session"
    )
    if not payload or payload.get("exp", 0) < request.app.state.clock().timestamp():
        return None
    user = get_staff_user(uow_of(request), int(payload.get("uid", 0)))
    request.state.staff_user = user
    return user


def require_staff(request: Request, *roles: str) -> StaffUser:
    user = staff_user(request)
    if user is None:
        raise LoginRequired()
    if roles and user.role not in roles:
        raise Forbidden(f"role {user.role!r} may not do this", role=user.role)
    return user


def json_refusal(request: Request, *roles: str) -> JSONResponse | None:
    """For the JSON a page's script asks for: the API's error when the visitor is not
    signed in (401) or has none of ``roles`` (403); None when they may have it."""
    user = staff_user(request)
    if user is None:
        return JSONResponse(error_body("unauthorized", "sign in first"), 401)
    if user.role not in roles:
        return JSONResponse(error_body("forbidden", f"role {user.role!r} may not do this"), 403)
    return None


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    t = translator(request)
    body = TEMPLATES.get_template(template).render(
        request=request,
        t=t,
        lang=t.lang,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        user=context.pop("user", None) or staff_user_quiet(request),
        csrf=security.csrf_token(request),
        here=quote(request.url.path + (f"?{request.url.query}" if request.url.query else "")),
        **context,
    )
    response = HTMLResponse(body, status)
    security.remember_csrf(request, response)
    return response


def staff_user_quiet(request: Request) -> StaffUser | None:
    if request.url.path.startswith("/portal"):
        return None
    return staff_user(request)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, exc: PatronageError) -> Response:
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, Forbidden):
        status = 403
    else:
        status = 400
    return page(request, "error.html", status, code=exc.code, message=exc.message)


class WebRoute(APIRoute):
    """Pages answer in HTML: a missing session redirects to sign-in, a platform error
    becomes an error page with the same code as the API."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return redirect(f"/login?next={quote(request.url.path)}")
            except PortalLoginRequired:
                return redirect("/portal/login")
            except PatronageError as exc:
                return error_page(request, exc)

        return guarded
