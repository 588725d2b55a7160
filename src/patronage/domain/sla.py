"""Service-level clocks counted in business hours.

Pure domain, no I/O. A :class:`BusinessCalendar` has a time zone, weekly working
hours (several intervals a day allowed, e.g. 09:00-12:00 and 13:00-18:00) and
holidays. Working hours are wall-clock times in the calendar's zone; all
arithmetic is done on UTC instants, so a day on which the clocks change counts
the hours that really passed (an overnight 24-hour desk works 23 hours on the
spring-forward night in Europe/Berlin).

Pauses (the complaint waits on the customer) are instants during which the
clock does not run even inside working hours.

An :class:`SlaPolicy` gives first-response and resolution targets per
complaint category and severity; :func:`clock_status` says whether a clock is
on track, at risk (less than ``at_risk_share`` of the target left), breached,
or met (stopped in time).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from patronage.clock import require_aware
from patronage.errors import InvalidInput, NotFound

MAX_SEARCH_DAYS = 3660  # a due date further than ten years out is a configuration error
ANY_CATEGORY = "*"

Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class WorkingHours:
    """One working interval of a day, wall-clock times; ``end`` 00:00 means midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidInput("working hours are wall-clock times without a zone", field="hours")
        if self.end != time(0) and self.end <= self.start:
            raise InvalidInput(
                f"working hours end {self.end} is not after start {self.start}", field="hours"
            )

    def on(self, day: date, zone: ZoneInfo) -> Period:
        """This interval on ``day``, as UTC instants."""
        end_day = day + timedelta(days=1) if self.end == time(0) else day
        start = datetime.combine(day, self.start, tzinfo=zone)
        end = datetime.combine(end_day, self.end, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Time zone, working hours per weekday (0 = Monday) and holidays."""

    zone: ZoneInfo
    weekly_hours: Mapping[int, tuple[WorkingHours, ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not any(self.weekly_hours.values()):
            raise InvalidInput("a business calendar needs some working hours", field="hours")
        for weekday, intervals in self.weekly_hours.items():
            if weekday not in range(7):
                raise InvalidInput("weekday must be 0 (Monday) to 6", field="weekday")
            ordered = sorted(intervals, key=lambda h: h.start)
            for earlier, later in zip(ordered, ordered[1:], strict=False):
                if earlier.end == time(0) or earlier.end > later.start:
                    raise InvalidInput("working hours overlap", field="hours", weekday=weekday)

    def periods_on(self, day: date) -> list[Period]:
        """The working periods of a local calendar day, as UTC instants."""
        if day in self.holidays:
            return []
        intervals = sorted(self.weekly_hours.get(day.weekday(), ()), key=lambda h: h.start)
        return [hours.on(day, self.zone) for hours in intervals]

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def standard_week(
    zone: str,
    hours: Sequence[tuple[str, str]] = (("09:00", "18:00"),),
    workdays: Iterable[int] = range(5),
    holidays: Iterable[date] = (),
) -> BusinessCalendar:
    """A calendar with the same hours on each workday (default Mon-Fri 09:00-18:00)."""
    try:
        zone_info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {zone!r}", field="zone") from None
    try:
        intervals = tuple(
            WorkingHours(time.fromisoformat(a), time.fromisoformat(b)) for a, b in hours
        )
    except ValueError:
        raise InvalidInput("working hours must be HH:MM", field="hours") from None
    return BusinessCalendar(
        zone=zone_info,
        weekly_hours=dict.fromkeys(workdays, intervals),
        holidays=frozenset(holidays),
    )


@dataclass(frozen=True)
class Pause:
    """The clock stands still from ``start`` to ``end``; ``end`` None: still paused."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.start, "pause.start")
        if self.end is not None:
            require_aware(self.end, "pause.end")
            if self.end < self.start:
                raise InvalidInput("a pause cannot end before it starts", field="pause.end")


def _closed_pauses(pauses: Iterable[Pause], until: datetime | None) -> list[Period]:
    """Pauses as sorted, merged UTC periods; an open pause runs to ``until``."""
    periods: list[Period] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        end = pause.end if pause.end is not None else until
        if end is None:
            raise InvalidInput("the clock is paused: no due time yet", field="pauses")
        start, end = pause.start.astimezone(UTC), end.astimezone(UTC)
        if periods and start <= periods[-1][1]:
            periods[-1] = (periods[-1][0], max(periods[-1][1], end))
        else:
            periods.append((start, end))
    return periods


def _without_pauses(start: datetime, end: datetime, pauses: Sequence[Period]) -> Iterator[Period]:
    cursor = start
    for pause_start, pause_end in pauses:
        if pause_end <= cursor or pause_start >= end:
            continue
        if pause_start > cursor:
            yield cursor, pause_start
        cursor = max(cursor, pause_end)
        if cursor >= end:
            return
    if cursor < end:
        yield cursor, end


def _counting_periods(
    calendar: BusinessCalendar, since: datetime, pauses: Sequence[Period], days: int
) -> Iterator[Period]:
    """Periods in which the clock runs, in order, from ``since`` over ``days`` local days."""
    first_day = calendar.local_date(since)
    for offset in range(days):
        for start, end in calendar.periods_on(first_day + timedelta(days=offset)):
            start = max(start, since)
            if start < end:
                yield from _without_pauses(start, end, pauses)


def business_time_between(
    calendar: BusinessCalendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Business time from ``start`` to ``end``, less pauses (an open pause runs to ``end``)."""
    start = require_aware(start, "start").astimezone(UTC)
    end = require_aware(end, "end").astimezone(UTC)
    if end < start:
        raise InvalidInput("end is before start", field="end")
    days = (calendar.local_date(end) - calendar.local_date(start)).days + 1
    total = timedelta(0)
    for period_start, period_end in _counting_periods(
        calendar, start, _closed_pauses(pauses, end), days
    ):
        if period_start >= end:
            break
        total += min(period_end, end) - period_start
    return total


def add_business_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()
) -> datetime:
    """The instant when ``duration`` of business time has run from ``start`` (UTC)."""
    start = require_aware(start, "start").astimezone(UTC)
    if duration < timedelta(0):
        raise InvalidInput("duration cannot be negative", field="duration")
    remaining = duration
    periods = _counting_periods(calendar, start, _closed_pauses(pauses, None), MAX_SEARCH_DAYS)
    for period_start, period_end in periods:
        length = period_end - period_start
        if remaining <= length:
            return period_start + remaining
        remaining -= length
    if remaining == timedelta(0):
        return start
    raise InvalidInput("no working time within ten years of start", field="calendar")


def add_business_minutes(
    calendar: BusinessCalendar, start: datetime, minutes: int, pauses: Iterable[Pause] = ()
) -> datetime:
    return add_business_time(calendar, start, timedelta(minutes=minutes), pauses)


class ClockState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True)
class SlaTargets:
    first_response: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        if self.first_response <= timedelta(0) or self.resolution <= timedelta(0):
            raise InvalidInput("SLA targets must be positive", field="targets")


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per (category, severity); category ``"*"`` applies to any category."""

    calendar: BusinessCalendar
    targets: Mapping[tuple[str, str], SlaTargets]
    at_risk_share: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 < self.at_risk_share < 1.0:
            raise InvalidInput("at_risk_share must be between 0 and 1", field="at_risk_share")

    def targets_for(self, category: str, severity: str) -> SlaTargets:
        for key in ((category, severity), (ANY_CATEGORY, severity)):
            if key in self.targets:
                return self.targets[key]
        raise NotFound("no SLA target for this complaint", category=category, severity=severity)


@dataclass(frozen=True)
class SlaClock:
    """Where one clock (first response or resolution) stands."""

    state: ClockState
    target: timedelta
    elapsed: timedelta
    remaining: timedelta  # negative once breached
    due_at: datetime | None  # None while paused: the due time moves until the pause ends
    paused: bool


def clock_status(
    calendar: BusinessCalendar,
    *,
    started_at: datetime,
    target: timedelta,
    now: datetime,
    pauses: Sequence[Pause] = (),
    stopped_at: datetime | None = None,
    at_risk_share: float = 0.2,
) -> SlaClock:
    """State of a clock at ``now``; ``stopped_at`` when the target event happened."""
    end = stopped_at if stopped_at is not None else now
    elapsed = business_time_between(calendar, started_at, end, pauses)
    remaining = target - elapsed
    paused = stopped_at is None and any(p.end is None for p in pauses)
    if stopped_at is not None:
        state = ClockState.MET if elapsed <= target else ClockState.BREACHED
    elif elapsed > target:
        state = ClockState.BREACHED
    elif remaining < target * at_risk_share:
        state = ClockState.AT_RISK
    else:
        state = ClockState.ON_TRACK
    closed = [Pause(p.start, p.end if p.end is not None else max(p.start, end)) for p in pauses]
    due_at = None if paused else add_business_time(calendar, started_at, target, closed)
    return SlaClock(state, target, elapsed, remaining, due_at, paused)
