"""What every form handler shares: the CSRF check, safe redirects, error messages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import Request

from patronage.errors import Forbidden, InvalidInput, PatronageError
from patronage.web import security
from patronage.web.i18n import Translator, catalogue


def check_csrf(request: Request, token: str) -> None:
    if not security.csrf_valid(request, token):
        raise Forbidden("the form expired; reload the page and try again", code="csrf_failed")


def local_path(target: str | None, default: str) -> str:
    """Only same-site paths: never redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def error_message(t: Translator, exc: PatronageError) -> str:
    """The error in the page's language, from the same code the API answers with."""
    key = f"error.{exc.code}"
    if key not in catalogue(t.lang):
        return exc.message
    values: dict[str, Any] = {
        k: t.number(v) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in exc.details.items()
    }
    try:
        return t(key, **values)
    except (KeyError, IndexError):
        return t(key) if "{" not in catalogue(t.lang)[key] else exc.message


def parse_day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a date (YYYY-MM-DD)", field=field) from None


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def parse_points(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput("points must be a positive whole number", field="points") from None
