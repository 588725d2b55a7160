"""What the program designer's forms share: who may send them, typed values read from
text fields, errors shown next to the field they concern (in the page's language), and
the local times of ``datetime-local`` inputs (the web app's time zone)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request

from patronage.domain.coupons import Discount
from patronage.errors import InvalidInput, PatronageError
from patronage.http.errors import status_of
from patronage.services.staff_users import StaffUser
from patronage.web.forms import check_csrf, error_message
from patronage.web.i18n import Translator, catalogue
from patronage.web.render import require_staff, translator

PROGRAM = "default"
READERS = ("admin", "analyst")
WRITERS = ("admin",)
_CEL_MESSAGE = re.compile(r"^[\w.]+: (.*) \(line \d+, column \d+\)$", re.S)


def actor(username: str) -> str:
    return f"web:{username}"


def require_writer(request: Request, csrf_token: str) -> StaffUser:
    """The user sending a form that changes the program: a writer, with the page's CSRF
    token."""
    user = require_staff(request, *WRITERS)
    check_csrf(request, csrf_token)
    return user


def plain(value: Decimal) -> str:
    """A decimal as people type it: ``1.25``, ``100`` (no exponent, no trailing zeros)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def whole(text: str, field: str, *, optional: bool = False) -> int | None:
    """A whole number (digits, optional sign; thousands separators allowed)."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if not cleaned:
        if optional:
            return None
        raise InvalidInput(f"{field} is required", code="required", field=field)
    if not re.fullmatch(r"[+-]?\d{1,15}", cleaned):
        raise InvalidInput(f"{field} must be a whole number", code="whole_number", field=field)
    return int(cleaned)


def number(text: str, field: str) -> Decimal:
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        raise InvalidInput(f"{field} is required", code="required", field=field)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(f"{field} must be a number", code="number", field=field) from None
    if not value.is_finite() or len(cleaned) > 30:
        raise InvalidInput(f"{field} must be a number", code="number", field=field)
    return value


def money_minor(text: str, field: str) -> int:
    """An amount typed in currency units (``12.50``) in minor units (``1250``)."""
    minor = number(text, field) * 100
    if minor != minor.to_integral_value():
        raise InvalidInput(f"{field} has more than two decimals", code="cents", field=field)
    return int(minor)


def discount(kind: str, value: str, sku: str) -> Discount:
    """The discount a form describes: a percentage (whole), a fixed amount typed in
    currency units, or an item by its SKU; the value field is ``discount.value``."""
    amount: int | None = None
    if kind == "percent":
        amount = whole(value, "discount.value")
    elif kind == "fixed":
        amount = money_minor(value, "discount.value")
    return Discount(kind, amount, sku.strip() or None)


def local_time(text: str, field: str, timezone: str) -> datetime | None:
    """A ``datetime-local`` value (``YYYY-MM-DDTHH:MM``) as an aware time in ``timezone``."""
    if not text.strip():
        return None
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{field} must be a date and time", code="datetime", field=field
        ) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(timezone))


def input_time(value: datetime | None, timezone: str) -> str:
    """The value a ``datetime-local`` input shows for a stored time."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def json_value(text: str, field: str, kind: type) -> Any:
    """JSON text of the given kind (list or dict); empty text is None."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{field} is not valid JSON: {exc}", code="json", field=field, reason=str(exc)
        ) from None
    if not isinstance(value, kind):
        expected = "a list [...]" if kind is list else "an object {...}"
        raise InvalidInput(f"{field} must be {expected}", code="json_kind", field=field)
    return value


def _formatted(t: Translator, details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: t.number(v) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in details.items()
    }


def message(t: Translator, exc: PatronageError) -> str:
    """The error in the page's language when the designer knows its code, else the
    platform's message (which names the field)."""
    key = f"designer.error.{exc.code}"
    if key in catalogue(t.lang):
        values = _formatted(t, exc.details)
        if exc.code == "invalid_expression":
            found = _CEL_MESSAGE.match(exc.message)
            values["message"] = found.group(1) if found else exc.message
        try:
            return t(key, **values)
        except (KeyError, IndexError):
            return exc.message
    if exc.code == "invalid_input":
        return exc.message
    return error_message(t, exc)


def input_name(field: str) -> str:
    """The form input for a field the services name (``caps.day`` is ``cap_day``)."""
    return field.replace("tier_prices.", "price_").replace("caps.", "cap_").replace(".", "_")


def field_errors(t: Translator, exc: PatronageError) -> dict[str, str]:
    """``{input: message}`` for the form: the input of the field the error names (``""``
    when it names none)."""
    return {input_name(str(exc.details.get("field") or "")): message(t, exc)}


def refusal(request: Request, exc: PatronageError) -> dict[str, Any]:
    """What a page shown again for a refused form adds: the status the API answers with
    and each error next to its input."""
    return {"status": status_of(exc), "errors": field_errors(translator(request), exc)}
