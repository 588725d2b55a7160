"""Earning rules and campaigns: actions, validation, periods, caps and stacking. No
storage. Conditions are CEL expressions (:mod:`patronage.domain.rule_expressions`);
a rule's action gives points, or pays cashback into the member's wallet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from patronage.domain.rule_expressions import (
    EXPRESSION_MAX,
    CelProblem,
    MemberFacts,
    Outcome,
    check_expression,
    compiled,
    evaluate,
    event_context,
    member_context,
    require_expression,
)
from patronage.errors import InvalidInput

POINT_ACTIONS = ("per_unit", "multiplier", "bonus", "per_item")
# Money into the member's wallet (docs/adr/0008-cashback-by-rule.md): a percent of the
# amount, optionally capped per event, or a fixed number of minor units.
CASHBACK_ACTIONS = ("cashback", "cashback_fixed")
ACTIONS = POINT_ACTIONS + CASHBACK_ACTIONS
CASHBACK_CAP_MAX = 10**12
STACKING = ("stack", "exclusive", "best_of")
CAP_PERIODS = ("day", "week", "month", "campaign")
LIMIT_PERIODS = ("day", "week", "month", "year", "ever")
STATUSES = ("active", "draft", "disabled")
CUSTOM_EVENT_TYPES = ("review_written", "check_in", "app_opened", "survey_completed")
CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

# Conditions and their contexts moved to rule_expressions; still importable from here.
__all__ = [
    "EXPRESSION_MAX",
    "CelProblem",
    "MemberFacts",
    "Outcome",
    "check_expression",
    "compiled",
    "evaluate",
    "event_context",
    "member_context",
    "require_expression",
]


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
    cap_minor: int | None = None  # cashback: at most this many minor units per event

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def pays_cashback(self) -> bool:
        return self.action in CASHBACK_ACTIONS


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


def _validate_code_and_name(code: str, name: str, prefix: str) -> None:
    if not CODE.match(code):
        raise InvalidInput(
            "code must be 1-64 lower-case letters, digits, '-', '_' or '.'",
            field=_field(prefix, "code"),
        )
    if not name or len(name) > 200:
        raise InvalidInput(
            "name is required (at most 200 characters)", field=_field(prefix, "name")
        )


def _validate_cashback(rule: Rule, prefix: str) -> None:
    """A cashback rule pays money: a percent of the amount (of its matching items),
    optionally capped, or a fixed number of minor units."""
    if rule.cap_minor is not None and rule.action != "cashback":
        raise InvalidInput(
            "cap_minor goes with the cashback action only", field=_field(prefix, "cap_minor")
        )
    if rule.cap_minor is not None and not 1 <= rule.cap_minor <= CASHBACK_CAP_MAX:
        raise InvalidInput(
            f"cap_minor must be a whole number of minor units from 1 to {CASHBACK_CAP_MAX}",
            field=_field(prefix, "cap_minor"),
        )
    if rule.action == "cashback" and rule.value > 100:
        raise InvalidInput(
            "a cashback is a percent of the amount: above 0, at most 100",
            field=_field(prefix, "value"),
        )
    if rule.action == "cashback_fixed" and rule.value != rule.value.to_integral_value():
        raise InvalidInput(
            "a fixed cashback is a whole number of minor units", field=_field(prefix, "value")
        )


def validate_rule(rule: Rule, prefix: str = "") -> None:
    """Refuse a rule that could not run, naming the field (and position, for CEL)."""
    _validate_code_and_name(rule.code, rule.name, prefix)
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
    _validate_cashback(rule, prefix)
    if rule.on != "purchase" and rule.action in ("per_unit", "multiplier", "per_item", "cashback"):
        raise InvalidInput(
            f"a {rule.on} event has no amount or items: use a bonus or cashback_fixed",
            field=_field(prefix, "action"),
        )
    if rule.item_filter is not None and rule.action in ("bonus", "cashback_fixed"):
        raise InvalidInput(
            f"a {rule.action} takes no item filter", field=_field(prefix, "item_filter")
        )
    if rule.limit is not None and (rule.limit.per not in LIMIT_PERIODS or rule.limit.count < 1):
        raise InvalidInput(
            f"limit needs count >= 1 and per in {', '.join(LIMIT_PERIODS)}",
            field=_field(prefix, "limit"),
        )
    require_expression(rule.condition, _field(prefix, "condition"), ("event", "member"))
    if rule.item_filter is not None:
        require_expression(rule.item_filter, _field(prefix, "item_filter"), ("item",))


def validate_campaign(campaign: Campaign, prefix: str = "") -> None:
    _validate_code_and_name(campaign.code, campaign.name, prefix)
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
    if period == "campaign" and campaign is not None and campaign.starts_at is not None:
        return campaign.starts_at
    if period not in ("day", "week", "month", "year"):
        return datetime(1970, 1, 1, tzinfo=UTC)
    return _local_period_start(period, at.astimezone(ZoneInfo(timezone)).date(), timezone)


@lru_cache(maxsize=256)
def _local_period_start(period: str, local: date, timezone: str) -> datetime:
    """Start of the day, week, month or year holding the local date ``local`` (every event
    of a day asks the same, so it is worked out once)."""
    if period == "day":
        start = local
    elif period == "week":
        start = local - timedelta(days=local.weekday())
    elif period == "month":
        start = local.replace(day=1)
    else:
        start = local.replace(month=1, day=1)
    zone = ZoneInfo(timezone)
    return datetime.combine(start, time(0), zone).astimezone(UTC)


def cap_starts(at: datetime, timezone: str) -> dict[str, datetime]:
    """Starts of the day, week and month holding ``at``: what campaign caps count from
    (a campaign's own total counts from its start)."""
    local = at.astimezone(ZoneInfo(timezone)).date()
    return {p: _local_period_start(p, local, timezone) for p in ("day", "week", "month")}


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


def _items_spend(items: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(str(i["price"])) * Decimal(str(i["quantity"])) for i in items), Decimal(0))


def action_cashback(rule: Rule, event: dict[str, Any]) -> tuple[int, str | None]:
    """Minor units a cashback rule pays for the event (rounded down, then capped); and
    an error of its item filter, if any. With an item filter the percent applies to the
    matching items' spend, never to more than the event's amount."""
    if rule.action == "cashback_fixed":
        return int(rule.value), None
    items, error = matching_items(rule, event["items"])
    if error:
        return 0, error
    amount = Decimal(str(event["amount"]))
    if rule.item_filter is not None:
        amount = min(amount, _items_spend(items))
    paid = _floor(amount * rule.value)  # amount x 100 minor units x value / 100
    return (min(paid, rule.cap_minor) if rule.cap_minor is not None else paid), None


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
        spend = _items_spend(items)
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
    cashback_minor: int = 0  # money a cashback rule pays (outside caps and stacking)

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
