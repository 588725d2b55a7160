"""Care journeys: which greeting or reminder is due for a member on a given local day.

Pure domain, no I/O. Every journey step has a key (``journey``, ``step``) and an
occurrence (the year of a birthday, the id of an expiring lot, ...). The outbox keeps
one message per member, journey, step and occurrence, so a step is never sent twice
however often the journeys job runs.

Days are the member's own calendar days: a birthday in Shanghai starts eight hours
before it starts in London and thirteen before New York (in winter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from patronage.errors import InvalidInput

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"

# Spring Festival (春节, first day of the first lunar month) and Mid-Autumn (中秋节,
# 15th day of the eighth lunar month), as published for 2025-2030.
SPRING_FESTIVAL = {
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
MID_AUTUMN = {
    2025: date(2025, 10, 6),
    2026: date(2026, 9, 25),
    2027: date(2027, 9, 15),
    2028: date(2028, 10, 3),
    2029: date(2029, 9, 22),
    2030: date(2030, 9, 12),
}
LUNAR_HOLIDAYS = {"spring_festival": SPRING_FESTIVAL, "mid_autumn": MID_AUTUMN}

# Onboarding: (step, day after joining). A step is sent on its day or, when the job
# did not run that day, up to ONBOARDING_GRACE_DAYS later; never to long-standing members.
ONBOARDING_STEPS = (("welcome", 0), ("first_purchase", 7), ("check_in_30", 30), ("check_in_90", 90))
ONBOARDING_GRACE_DAYS = 6


@dataclass(frozen=True)
class Holiday:
    """A configurable greeting day: every year on ``month``/``day``, or once if ``year``."""

    code: str
    month: int
    day: int
    year: int | None = None


def parse_holidays(spec: str) -> tuple[Holiday, ...]:
    """``"national_day:10-01,store_anniversary:2026-06-18"`` -> holidays."""
    holidays = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        code, _, when = item.partition(":")
        parts = when.strip().split("-")
        if not code.strip().isidentifier() or len(parts) not in (2, 3):
            raise InvalidInput(
                f"holiday {item!r}: expected code:MM-DD or code:YYYY-MM-DD", field="holidays"
            )
        try:
            numbers = [int(p) for p in parts]
            year = numbers[0] if len(numbers) == 3 else None
            date(year or 2000, numbers[-2], numbers[-1])  # checks month and day (2000: leap)
        except ValueError:
            raise InvalidInput(f"holiday {item!r}: not a date", field="holidays") from None
        holidays.append(Holiday(code.strip(), numbers[-2], numbers[-1], year))
    return tuple(holidays)


def holidays_on(day: date, configured: Iterable[Holiday] = ()) -> list[str]:
    """The greeting days that fall on ``day`` (a member's local date)."""
    codes = [code for code, table in LUNAR_HOLIDAYS.items() if table.get(day.year) == day]
    codes += [
        h.code
        for h in configured
        if (h.month, h.day) == (day.month, day.day) and h.year in (None, day.year)
    ]
    return codes


def is_birthday(birthday: date, day: date) -> bool:
    """Is ``day`` the member's birthday? 29 February is greeted on 28 February in
    years without one."""
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    return (
        (birthday.month, birthday.day) == (2, 29) and not leap and (day.month, day.day) == (2, 28)
    )


def onboarding_steps_due(joined_on: date, today: date, has_purchased: bool) -> list[str]:
    """Onboarding steps due today for a member who joined on ``joined_on`` (both local)."""
    age = (today - joined_on).days
    due = []
    for step, day in ONBOARDING_STEPS:
        if day <= age <= day + ONBOARDING_GRACE_DAYS:
            if step == "first_purchase" and has_purchased:
                continue
            due.append(step)
    return due


def member_zone(attributes: Mapping[str, Any], program_zone: str) -> ZoneInfo:
    """The member's time zone (``attributes["timezone"]``), else the program's; an
    unknown zone name falls back to the program's, then UTC."""
    for name in (attributes.get("timezone"), program_zone):
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def member_language(attributes: Mapping[str, Any]) -> str:
    """``attributes["language"]`` when it is one we have templates for, else English."""
    language = str(attributes.get("language") or "")
    if language.lower() in ("zh", "zh-cn", "zh_cn", "zh-hans"):
        return "zh-CN"
    return "en" if language not in LANGUAGES else language


def local_day(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


@dataclass(frozen=True)
class QuietHours:
    """No messages to members from ``start`` to ``end`` local time (may span midnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, spec: str) -> QuietHours | None:
        """``"21:00-08:00"``; an empty string means no quiet hours."""
        if not spec.strip():
            return None
        try:
            start, end = (time.fromisoformat(p.strip()) for p in spec.split("-"))
        except ValueError:
            raise InvalidInput(
                f"quiet hours {spec!r}: expected HH:MM-HH:MM", field="quiet_hours"
            ) from None
        return cls(start, end)

    def ends_at(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """When the quiet period that ``now`` falls in ends (aware), or None if ``now``
        is outside quiet hours."""
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        if self.start == self.end:
            return None
        if self.start < self.end:
            inside = self.start <= clock < self.end
            end_day = local.date()
        else:
            inside = clock >= self.start or clock < self.end
            end_day = local.date() + timedelta(days=1) if clock >= self.start else local.date()
        if not inside:
            return None
        return datetime.combine(end_day, self.end, tzinfo=zone)
