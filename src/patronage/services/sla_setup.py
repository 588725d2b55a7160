"""The business calendar and SLA targets complaints are measured against.

A database starts with one calendar, ``default``: Monday to Friday 09:00-18:00
in Asia/Shanghai, no holidays (add your own: public holidays change every
year), and one policy, ``default``, with targets for any category by severity.
Targets are business time: working hours of the calendar, less holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from patronage.domain.complaints import Severity
from patronage.domain.sla import ANY_CATEGORY, standard_week
from patronage.errors import InvalidInput
from patronage.storage.tables import BusinessCalendarRow, SlaPolicyRow, SlaTargetRow
from patronage.storage.uow import UnitOfWork

DEFAULT = "default"
DEFAULT_ZONE = "Asia/Shanghai"
DEFAULT_HOURS = (("09:00", "18:00"),)
# Business minutes (first response, resolution) per severity, any category.
DEFAULT_TARGETS = {
    "critical": (60, 8 * 60),
    "high": (2 * 60, 16 * 60),
    "medium": (4 * 60, 24 * 60),
    "low": (8 * 60, 40 * 60),
}


@dataclass(frozen=True)
class TargetView:
    category: str
    severity: str
    first_response_minutes: int
    resolution_minutes: int


def ensure_default_policy(uow: UnitOfWork) -> SlaPolicyRow:
    """The default calendar and policy, created on first use (inside the caller's transaction)."""
    found = uow.complaints.policy_row(DEFAULT)
    if found is not None:
        return found
    calendar = uow.complaints.calendar_row(DEFAULT)
    if calendar is None:
        calendar = uow.complaints.add(
            BusinessCalendarRow(
                code=DEFAULT,
                timezone=DEFAULT_ZONE,
                weekly_hours={str(day): [list(h) for h in DEFAULT_HOURS] for day in range(5)},
                holidays=[],
            )
        )
    policy: SlaPolicyRow = uow.complaints.add(
        SlaPolicyRow(code=DEFAULT, calendar_id=calendar.id, at_risk_share=Decimal("0.2"))
    )
    for severity, (first, resolution) in DEFAULT_TARGETS.items():
        uow.complaints.add(
            SlaTargetRow(
                policy_id=policy.id,
                category=ANY_CATEGORY,
                severity=severity,
                first_response_minutes=first,
                resolution_minutes=resolution,
            )
        )
    return policy


def set_target(
    uow: UnitOfWork,
    category: str,
    severity: str,
    first_response_minutes: int,
    resolution_minutes: int,
) -> TargetView:
    """Add or change the default policy's target for a category ("*": any) and severity."""
    if severity not in set(Severity):
        raise InvalidInput(f"severity must be one of {', '.join(Severity)}", field="severity")
    if not category or len(category) > 64:
        raise InvalidInput("category is required (at most 64 characters)", field="category")
    if not 0 < first_response_minutes <= resolution_minutes <= 60 * 24 * 365:
        raise InvalidInput(
            "targets must be positive and first response no later than resolution",
            field="first_response_minutes",
        )
    with uow:
        policy = ensure_default_policy(uow)
        row = uow.complaints.target_row(policy.id, category, severity)
        if row is None:
            row = uow.complaints.add(
                SlaTargetRow(
                    policy_id=policy.id,
                    category=category,
                    severity=severity,
                    first_response_minutes=0,
                    resolution_minutes=0,
                )
            )
        row.first_response_minutes = first_response_minutes
        row.resolution_minutes = resolution_minutes
        uow.commit()
    return TargetView(category, severity, first_response_minutes, resolution_minutes)


def list_targets(uow: UnitOfWork) -> list[TargetView]:
    with uow:
        policy = ensure_default_policy(uow)
        rows = uow.complaints.targets(policy.id)
        uow.commit()
        return [
            TargetView(r.category, r.severity, r.first_response_minutes, r.resolution_minutes)
            for r in rows
        ]


def set_calendar(
    uow: UnitOfWork,
    zone: str | None = None,
    hours: list[tuple[str, str]] | None = None,
    workdays: list[int] | None = None,
    add_holidays: list[date] = (),  # type: ignore[assignment]
    remove_holidays: list[date] = (),  # type: ignore[assignment]
) -> dict[str, object]:
    """Change the default calendar: zone, the same hours on each workday, holidays."""
    with uow:
        ensure_default_policy(uow)
        row = uow.complaints.calendar_row(DEFAULT)
        assert row is not None
        current_days = sorted(int(d) for d in row.weekly_hours)
        current_hours = [tuple(h) for h in row.weekly_hours[str(current_days[0])]]
        new_zone = zone or row.timezone
        new_hours = hours or current_hours
        new_days = current_days if workdays is None else workdays
        holidays = (set(row.holidays) | {d.isoformat() for d in add_holidays}) - {
            d.isoformat() for d in remove_holidays
        }
        standard_week(new_zone, new_hours, new_days, [date.fromisoformat(d) for d in holidays])
        row.timezone = new_zone
        row.weekly_hours = {str(d): [list(h) for h in new_hours] for d in new_days}
        row.holidays = sorted(holidays)
        uow.commit()
        return calendar_view(row)


def calendar_view(row: BusinessCalendarRow) -> dict[str, object]:
    return {
        "code": row.code,
        "timezone": row.timezone,
        "weekly_hours": row.weekly_hours,
        "holidays": list(row.holidays),
    }


def business_hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 4)
