"""One table from errors to HTTP statuses, one error shape for every response:
``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from patronage import errors

log = logging.getLogger("patronage.http")

STATUS: dict[type[errors.PatronageError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RuleViolation: 422,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
}


def status_of(exc: errors.PatronageError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _validation_details(exc: RequestValidationError) -> tuple[int, str, dict[str, Any]]:
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
        problems.append({"field": ".".join(loc), "problem": err.get("msg", "invalid")})
        if err.get("type") == "json_invalid":
            return 400, "the request body is not valid JSON", {"problems": problems}
    first = problems[0] if problems else {"field": "", "problem": "invalid"}
    message = f"{first['field'] or 'request'}: {first['problem']}"
    return 422, message, {"problems": problems}


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.PatronageError)
    async def _platform(_: Request, exc: errors.PatronageError) -> JSONResponse:
        details = {
            k: v if isinstance(v, int | str | float | bool | None) else str(v)
            for k, v in exc.details.items()
        }
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, errors.Unauthorized) else None
        return JSONResponse(error_body(exc.code, exc.message, details), status_of(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, details = _validation_details(exc)
        code = "malformed_json" if status == 400 else "invalid_input"
        return JSONResponse(error_body(code, message, details), status)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(error_body("internal_error", "an unexpected error occurred"), 500)
