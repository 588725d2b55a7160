"""Rules and campaigns as they come in (API bodies, YAML entries, simulation requests):
checked field by field, every error naming its field (``rules[2].condition`` in a file)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from patronage.domain.rules import Campaign, Limit, Rule, validate_campaign, validate_rule
from patronage.errors import InvalidInput

RULE_FIELDS = [
    "code",
    "name",
    "campaign",
    "event_type",
    "condition",
    "action",
    "value",
    "cap_minor",
    "item_filter",
    "priority",
    "limit",
    "status",
    "program",
]
CAMPAIGN_FIELDS = [
    "code",
    "name",
    "starts_at",
    "ends_at",
    "segment",
    "budget",
    "caps",
    "priority",
    "stacking",
    "status",
    "program",
]


def parse_time(value: Any, field_name: str, default: datetime | None = None) -> datetime:
    if value is None or value == "":
        if default is None:
            raise InvalidInput(f"{field_name} is required", field=field_name)
        return default
    if isinstance(value, datetime):
        at = value
    else:
        try:
            at = datetime.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput(f"{field_name} is not an ISO 8601 time", field=field_name) from None
    if at.tzinfo is None:
        raise InvalidInput(f"{field_name} needs a time-zone offset", field=field_name)
    return at


def parse_decimal(value: Any, field_name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field_name} must be a number", field=field_name) from None
    if not number.is_finite() or number < 0:
        raise InvalidInput(f"{field_name} must be a non-negative number", field=field_name)
    return number


def parse_int(value: Any, field_name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"{field_name} must be a whole number", field=field_name)
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{field_name} must be a whole number", field=field_name) from None
    if number < minimum or number > 10**12:
        raise InvalidInput(f"{field_name} must be at least {minimum}", field=field_name)
    return number


def _no_nul(data: Mapping[str, Any], prefix: str) -> None:
    """Text with NUL characters cannot be stored (PostgreSQL refuses them)."""
    for key, value in data.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(f"{key} contains a NUL character", field=f"{prefix}{key}")
        if isinstance(value, Mapping):
            _no_nul(value, f"{prefix}{key}.")


def _known_fields(data: Mapping[str, Any], fields: list[str], prefix: str) -> None:
    _no_nul(data, prefix)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}", field=f"{prefix}{unknown[0]}")


def _limit(limit: Any, prefix: str) -> Limit | None:
    if limit is None:
        return None
    if not isinstance(limit, Mapping):
        raise InvalidInput("limit is {count, per}", field=f"{prefix}limit")
    return Limit(
        parse_int(limit.get("count"), f"{prefix}limit.count", 1), str(limit.get("per") or "")
    )


def rule_from_dict(data: Mapping[str, Any], prefix: str = "") -> Rule:
    _known_fields(data, RULE_FIELDS, prefix)
    for name in ("code", "name", "condition", "action", "value"):
        if data.get(name) in (None, ""):
            raise InvalidInput(f"{name} is required", field=f"{prefix}{name}")
    for name in ("code", "name", "condition", "action", "event_type", "campaign", "item_filter"):
        if data.get(name) is not None and not isinstance(data.get(name), str):
            raise InvalidInput(f"{name} must be text", field=f"{prefix}{name}")
    limit = _limit(data.get("limit"), prefix)
    value = parse_decimal(data.get("value"), f"{prefix}value")
    cap = data.get("cap_minor")
    cap_minor = parse_int(cap, f"{prefix}cap_minor", 1) if cap is not None else None
    rule = Rule(
        code=str(data["code"]),
        name=str(data["name"]),
        condition=str(data["condition"]),
        action=str(data["action"]),
        value=value or Decimal(0),
        on=str(data.get("event_type") or "purchase"),
        item_filter=data.get("item_filter") or None,
        campaign=data.get("campaign") or None,
        priority=parse_int(data.get("priority", 0), f"{prefix}priority", -(10**6)),
        limit=limit,
        status=str(data.get("status") or "active"),
        cap_minor=cap_minor,
    )
    validate_rule(rule, prefix)
    return rule


def _optional_time(data: Mapping[str, Any], name: str, prefix: str) -> datetime | None:
    return parse_time(data[name], f"{prefix}{name}") if data.get(name) else None


def campaign_from_dict(data: Mapping[str, Any], prefix: str = "") -> Campaign:
    _known_fields(data, CAMPAIGN_FIELDS, prefix)
    for name in ("code", "name"):
        if not data.get(name) or not isinstance(data.get(name), str):
            raise InvalidInput(f"{name} is required", field=f"{prefix}{name}")
    caps = data.get("caps") or {}
    if not isinstance(caps, Mapping):
        raise InvalidInput("caps is {day, week, month, campaign}", field=f"{prefix}caps")
    segment = data.get("segment")
    if segment is not None and not isinstance(segment, str):
        raise InvalidInput("segment must be text", field=f"{prefix}segment")
    budget = data.get("budget")
    campaign = Campaign(
        code=str(data["code"]),
        name=str(data["name"]),
        starts_at=_optional_time(data, "starts_at", prefix),
        ends_at=_optional_time(data, "ends_at", prefix),
        segment=segment or None,
        budget=parse_int(budget, f"{prefix}budget") if budget is not None else None,
        caps={str(k): parse_int(v, f"{prefix}caps.{k}") for k, v in caps.items()},
        priority=parse_int(data.get("priority", 0), f"{prefix}priority", -(10**6)),
        stacking=str(data.get("stacking") or "stack"),
        status=str(data.get("status") or "active"),
    )
    validate_campaign(campaign, prefix)
    return campaign
