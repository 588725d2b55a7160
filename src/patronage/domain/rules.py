"""Earning rules and campaigns: conditions in CEL, actions, caps, stacking. No storage.

A rule's condition is a CEL expression (docs/adr/0005-cel-for-rules.md) over ``event``
and ``member``; an item filter is one over ``item``; a campaign's segment is one over
``member``. Expressions are checked when a rule is saved (syntax, names, functions and
the result's type, with a line and column) and compiled once per rule version.
At event time an expression that fails (a missing attribute, a type clash) makes its
rule not fire; it never fails the event.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import cel

from patronage.errors import InvalidInput

log = logging.getLogger("patronage.rules")

ACTIONS = ("per_unit", "multiplier", "bonus", "per_item")
STACKING = ("stack", "exclusive", "best_of")
CAP_PERIODS = ("day", "week", "month", "campaign")
LIMIT_PERIODS = ("day", "week", "month", "year", "ever")
STATUSES = ("active", "draft", "disabled")
CUSTOM_EVENT_TYPES = ("review_written", "check_in", "app_opened", "survey_completed")
CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
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
    }


# --- rules and campaigns -------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """At most ``count`` awards of one rule per member per ``per``."""

    count: int
    per: str


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    condition: str
    action: str
    value: Decimal
    on: str = "purchase"
    item_filter: str | None = None
    campaign: str | None = None
    priority: int = 0
    limit: Limit | None = None
    status: str = "active"
    version: int = 1
    id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})"


@dataclass(frozen=True)
class Campaign:
    code: str
    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    segment: str | None = None
    budget: int | None = None
    caps: dict[str, int] = field(default_factory=dict)
    priority: int = 0
    stacking: str = "stack"
    status: str = "active"
    id: int | None = None

    def running(self, at: datetime) -> bool:
        if self.starts_at is not None and at < self.starts_at:
            return False
        return self.ends_at is None or at < self.ends_at


def _field(prefix: str, name: str) -> str:
    return f"{prefix}{name}" if prefix else name


def validate_rule(rule: Rule, prefix: str = "") -> None:
    """Refuse a rule that could not run, naming the field (and position, for CEL)."""
    if not CODE.match(rule.code):
        raise InvalidInput(
            "code must be 1-64 lower-case letters, digits, '-', '_' or '.'",
            field=_field(prefix, "code"),
        )
    if not rule.name or len(rule.name) > 200:
        raise InvalidInput(
            "name is required (at most 200 characters)", field=_field(prefix, "name")
        )
    if rule.action not in ACTIONS:
        raise InvalidInput(
            f"action must be one of {', '.join(ACTIONS)}", field=_field(prefix, "action")
        )
    if rule.status not in STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(STATUSES)}", field=_field(prefix, "status")
        )
    if not rule.on or len(rule.on) > 64 or rule.on == "refund":
        raise InvalidInput(
            "event_type must be purchase or a custom event type", field=_field(prefix, "event_type")
        )
    if not rule.value.is_finite() or rule.value <= 0 or rule.value > 10**9:
        raise InvalidInput("value must be positive", field=_field(prefix, "value"))
    if rule.action == "multiplier" and rule.value < 1:
        raise InvalidInput("a multiplier is at least 1", field=_field(prefix, "value"))
    if rule.action == "bonus" and rule.value != rule.value.to_integral_value():
        raise InvalidInput("a bonus is a whole number of points", field=_field(prefix, "value"))
    if rule.on != "purchase" and rule.action in ("per_unit", "multiplier", "per_item"):
        raise InvalidInput(
            f"a {rule.on} event has no amount or items: use a bonus",
            field=_field(prefix, "action"),
        )
    if rule.item_filter is not None and rule.action == "bonus":
        raise InvalidInput("a bonus takes no item filter", field=_field(prefix, "item_filter"))
    if rule.limit is not None and (rule.limit.per not in LIMIT_PERIODS or rule.limit.count < 1):
        raise InvalidInput(
            f"limit needs count >= 1 and per in {', '.join(LIMIT_PERIODS)}",
            field=_field(prefix, "limit"),
        )
    require_expression(rule.condition, _field(prefix, "condition"), ("event", "member"))
    if rule.item_filter is not None:
        require_expression(rule.item_filter, _field(prefix, "item_filter"), ("item",))


def validate_campaign(campaign: Campaign, prefix: str = "") -> None:
    if not CODE.match(campaign.code):
        raise InvalidInput(
            "code must be 1-64 lower-case letters, digits, '-', '_' or '.'",
            field=_field(prefix, "code"),
        )
    if not campaign.name or len(campaign.name) > 200:
        raise InvalidInput(
            "name is required (at most 200 characters)", field=_field(prefix, "name")
        )
    if campaign.stacking not in STACKING:
        raise InvalidInput(
            f"stacking must be one of {', '.join(STACKING)}", field=_field(prefix, "stacking")
        )
    if campaign.status not in STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(STATUSES)}", field=_field(prefix, "status")
        )
    for name, at in (("starts_at", campaign.starts_at), ("ends_at", campaign.ends_at)):
        if at is not None and at.tzinfo is None:
            raise InvalidInput(f"{name} needs a time-zone offset", field=_field(prefix, name))
    if campaign.starts_at and campaign.ends_at and campaign.ends_at <= campaign.starts_at:
        raise InvalidInput("ends_at must be after starts_at", field=_field(prefix, "ends_at"))
    if campaign.budget is not None and campaign.budget < 0:
        raise InvalidInput("budget must not be negative", field=_field(prefix, "budget"))
    for period, cap in campaign.caps.items():
        if period not in CAP_PERIODS:
            raise InvalidInput(
                f"caps are per {', '.join(CAP_PERIODS)}", field=_field(prefix, f"caps.{period}")
            )
        if not isinstance(cap, int) or cap < 0:
            raise InvalidInput(
                "a cap is a whole number of points", field=_field(prefix, f"caps.{period}")
            )
    if campaign.segment is not None:
        require_expression(campaign.segment, _field(prefix, "segment"), ("member",))


# --- periods -----------------------------------------------------------------------------


def period_start(period: str, at: datetime, timezone: str, campaign: Campaign | None) -> datetime:
    """Start of the cap or limit period holding ``at`` (days, weeks from Monday, months
    and years in the program's time zone)."""
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone).date()
    if period == "day":
        start = local
    elif period == "week":
        start = local - timedelta(days=local.weekday())
    elif period == "month":
        start = local.replace(day=1)
    elif period == "year":
        start = local.replace(month=1, day=1)
    elif period == "campaign" and campaign is not None and campaign.starts_at is not None:
        return campaign.starts_at
    else:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.combine(start, time(0), zone).astimezone(UTC)


# --- actions -----------------------------------------------------------------------------


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def matching_items(
    rule: Rule, items: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], str | None]:
    if rule.item_filter is None:
        return items, None
    chosen = []
    for item in items:
        outcome = evaluate(rule.item_filter, {"item": item}, f"{rule.code} item filter")
        if outcome.error:
            return [], outcome.error
        if outcome.value:
            chosen.append(item)
    return chosen, None


def action_points(rule: Rule, event: dict[str, Any], base_points: int) -> tuple[int, str | None]:
    """What the rule's action adds to the event, before caps; and an error, if any."""
    if rule.action == "bonus":
        return _floor(rule.value), None
    items, error = matching_items(rule, event["items"])
    if error:
        return 0, error
    amount = Decimal(str(event["amount"]))
    share = Decimal(1)
    if rule.item_filter is not None:
        spend = sum(
            (Decimal(str(i["price"])) * Decimal(str(i["quantity"])) for i in items), Decimal(0)
        )
        if rule.action in ("per_unit",):
            amount = spend
        elif amount > 0:
            share = min(Decimal(1), spend / amount)
        else:
            share = Decimal(0)
    if rule.action == "per_unit":
        return _floor(amount * rule.value), None
    if rule.action == "multiplier":
        return _floor(Decimal(base_points) * share * (rule.value - 1)), None
    quantity = sum((Decimal(str(i["quantity"])) for i in items), Decimal(0))
    return _floor(quantity * rule.value), None


# --- the decision ---------------------------------------------------------------------------


@dataclass
class RuleTrace:
    """Why a rule fired or not, and what it would give."""

    rule: str
    version: int
    name: str
    campaign: str | None
    status: str
    condition: bool = False
    error: str | None = None
    points: int = 0  # from the action, before caps and stacking
    awarded: int = 0
    decision: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})"


@dataclass
class CampaignTrace:
    campaign: str
    name: str
    stacking: str
    priority: int
    in_segment: bool = True
    running: bool = True
    points: int = 0  # what its rules give, after caps and budget
    requested: int = 0  # before caps and budget
    caps: dict[str, dict[str, int]] = field(default_factory=dict)
    budget: dict[str, int] | None = None
    decision: str = ""
    rules: list[RuleTrace] = field(default_factory=list)


def choose(campaigns: list[CampaignTrace]) -> None:
    """Stacking across campaigns. The firing exclusive campaign of highest priority earns
    alone; otherwise every ``stack`` campaign earns and, of the ``best_of`` ones, only the
    one giving most points (ties: higher priority, then code)."""
    firing = [c for c in campaigns if c.points > 0]
    ordered = sorted(firing, key=lambda c: (-c.priority, c.campaign))
    exclusive = [c for c in ordered if c.stacking == "exclusive"]
    if exclusive:
        winner = exclusive[0]
        for c in firing:
            c.decision = (
                "earns (exclusive)" if c is winner else f"excluded by exclusive {winner.campaign}"
            )
        return
    best = sorted(
        (c for c in ordered if c.stacking == "best_of"), key=lambda c: (-c.points, -c.priority)
    )
    for c in firing:
        if c.stacking == "stack":
            c.decision = "earns (stacks)"
        elif c is best[0]:
            c.decision = "earns (best of)"
        else:
            c.decision = f"not the best: {best[0].campaign} gives more"


def distribute(total: int, traces: list[RuleTrace]) -> None:
    """Spread a capped campaign total over its firing rules, highest priority first."""
    left = total
    for trace in traces:
        trace.awarded = min(trace.points, left)
        left -= trace.awarded


def earns(campaign: CampaignTrace) -> bool:
    return campaign.decision.startswith("earns")
