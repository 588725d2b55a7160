"""Conditions in CEL (docs/adr/0005-cel-for-rules.md) and what they see. No storage.

A rule's condition is a CEL expression over ``event`` and ``member``; an item filter is
one over ``item``; a campaign's segment is one over ``member``. Expressions are checked
when they are saved (syntax, names, functions and the result's type, with a line and
column) and compiled once per process. At event time an expression that fails (a
missing attribute, a type clash) counts as false; it never fails the event.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import cel

from patronage.errors import InvalidInput

log = logging.getLogger("patronage.rules")

EXPRESSION_MAX = 4000


# Functions and macros of standard CEL that the evaluator provides. Anything else is a
# typo or an extension we do not offer, refused when the rule is saved.
CEL_FUNCTIONS = frozenset(
    [
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "bool",
        "timestamp",
        "duration",
        "dyn",
        "type",
        "max",
        "min",
        "getFullYear",
        "getMonth",
        "getDayOfYear",
        "getDayOfMonth",
        "getDate",
        "getDayOfWeek",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
        "lowerAscii",
        "upperAscii",
        "trim",
        "split",
        "join",
        "has",
        "all",
        "exists",
        "exists_one",
        "map",
        "filter",
    ]
)
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


# --- CEL ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CelProblem:
    message: str
    line: int
    column: int


def _position_of(source: str, needle: str) -> tuple[int, int]:
    match = re.search(r"\b" + re.escape(needle) + r"\b", source)
    offset = match.start() if match else 0
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _sample_context() -> dict[str, Any]:
    """Values of every documented field, to check an expression's result type once."""
    at = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
    item = {"sku": "sku-1", "category": "coffee", "quantity": 1.0, "price": 10.0}
    return {
        "event": event_context(
            "purchase", at, "UTC", Decimal(10), [item], "app", "s1", {"source": "sample"}
        ),
        "member": {
            "id": 1,
            "tier": "member",
            "attributes": {},
            "birthday": datetime(1990, 3, 14, tzinfo=UTC),
            "birthday_month": 3,
            "birthday_day": 14,
            "is_birthday": True,
            "is_birthday_month": True,
            "days_since_join": 100,
            "purchase_count": 3,
            "joined_at": datetime(2025, 12, 4, tzinfo=UTC),
            "segments": ["champions"],
        },
        "item": item,
    }


def check_expression(
    source: str, variables: Sequence[str], *, boolean: bool = True
) -> CelProblem | None:
    """Why an expression cannot be saved, with its position; None when it can."""
    if not source or not source.strip():
        return CelProblem("the expression is empty", 1, 1)
    if len(source) > EXPRESSION_MAX:
        return CelProblem(f"the expression is longer than {EXPRESSION_MAX} characters", 1, 1)
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        text = str(exc)
        found = _POSITION.search(text)
        if found:
            message = found.group(3).split("\n")[0]
            return CelProblem(message, int(found.group(1)), int(found.group(2)))
        return CelProblem(text.split("\n")[0], 1, 1)
    bound = set(_MACRO_VARIABLE.findall(source))
    for name in program.variables():
        if name not in variables and name not in bound:
            line, column = _position_of(source, name)
            allowed = ", ".join(variables)
            return CelProblem(f"unknown name {name!r} (use {allowed})", line, column)
    for name in program.functions():
        if name[0] in "_@!" or name in CEL_FUNCTIONS:
            continue
        line, column = _position_of(source, name)
        return CelProblem(f"unknown function {name!r}", line, column)
    sample = _sample_context()
    try:
        result = program.execute(cel.Context({v: sample[v] for v in variables}))
    except TypeError as exc:
        return CelProblem(f"type error: {exc}", 1, 1)
    except Exception:  # a missing attribute in the sample: fine at save time
        return None
    if boolean and not isinstance(result, bool):
        return CelProblem(
            f"the expression must be true or false, not {type(result).__name__}", 1, 1
        )
    return None


def require_expression(
    source: str, field_name: str, variables: Sequence[str], boolean: bool = True
) -> None:
    problem = check_expression(source, variables, boolean=boolean)
    if problem is not None:
        raise InvalidInput(
            f"{field_name}: {problem.message} (line {problem.line}, column {problem.column})",
            code="invalid_expression",
            field=field_name,
            line=problem.line,
            column=problem.column,
            expression=source,
        )


_COMPILED: dict[str, Any] = {}


def compiled(source: str) -> Any:
    """The compiled program of an expression, compiled once per process."""
    program = _COMPILED.get(source)
    if program is None:
        if len(_COMPILED) > 10_000:
            _COMPILED.clear()
        program = _COMPILED[source] = cel.compile(source)
    return program


@dataclass(frozen=True)
class Outcome:
    value: bool
    error: str | None = None


def evaluate(source: str, context: Any, what: str = "condition") -> Outcome:
    """True or false; an error (missing attribute, type clash) counts as false."""
    try:
        result = compiled(source).execute(context)
    except Exception as exc:  # the evaluator raises KeyError, TypeError, RuntimeError...
        message = f"{type(exc).__name__}: {exc}"
        log.info("rule %s not applied: %s (%s)", what, message, source)
        return Outcome(False, message)
    if not isinstance(result, bool):
        return Outcome(False, f"result is {type(result).__name__}, not bool")
    return Outcome(result)


# --- contexts --------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(Decimal(str(value)))
    except ArithmeticError:
        return None


def event_context(
    type_: str,
    occurred_at: datetime,
    timezone: str,
    amount: Decimal | None,
    items: Sequence[Mapping[str, Any]] | None,
    channel: str | None,
    store: str | None,
    attributes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``event`` as conditions see it: amounts in currency units (double), the time as a
    timestamp, plus its day of week (0 = Sunday) and hour in the program's time zone."""
    local = occurred_at.astimezone(ZoneInfo(timezone))
    return {
        "type": type_,
        "amount": _number(amount) if amount is not None else 0.0,
        "items": [
            {
                "sku": str(i.get("sku") or ""),
                "category": i.get("category") or "",
                "quantity": _number(i.get("quantity", 1)) or 0.0,
                "price": _number(i.get("price")) or 0.0,
            }
            for i in items or ()
        ],
        "channel": channel or "",
        "store": store or "",
        "occurred_at": occurred_at.astimezone(UTC),
        "day_of_week": (local.isoweekday() % 7),
        "hour": local.hour,
        "date": local.date().isoformat(),
        "attributes": dict(attributes or {}),
    }


@dataclass(frozen=True)
class MemberFacts:
    """What conditions may know about a member (a stored one or one described inline)."""

    tier: str
    attributes: dict[str, Any] = field(default_factory=dict)
    birthday: date | None = None
    joined_at: datetime | None = None
    purchase_count: int = 0
    id: int | None = None
    segments: tuple[str, ...] = ()
    """Codes of the saved segments the member is in (``"vip" in member.segments``)."""


def member_context(facts: MemberFacts, at: datetime, timezone: str) -> dict[str, Any]:
    local = at.astimezone(ZoneInfo(timezone)).date()
    joined = facts.joined_at.astimezone(ZoneInfo(timezone)).date() if facts.joined_at else local
    bday = facts.birthday
    return {
        "id": facts.id or 0,
        "tier": facts.tier,
        "attributes": dict(facts.attributes),
        "birthday": datetime.combine(bday, time(0), UTC) if bday else None,
        "birthday_month": bday.month if bday else 0,
        "birthday_day": bday.day if bday else 0,
        "is_birthday_month": bool(bday and bday.month == local.month),
        "is_birthday": bool(bday and (bday.month, bday.day) == (local.month, local.day)),
        "days_since_join": max(0, (local - joined).days),
        "joined_at": facts.joined_at.astimezone(UTC) if facts.joined_at else None,
        "purchase_count": facts.purchase_count,
        "segments": list(facts.segments),
    }
