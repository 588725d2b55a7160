"""Business-hours SLA clocks: holidays, nights, pauses, clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patronage.domain.sla import (
    BusinessCalendar,
    ClockState,
    Pause,
    SlaPolicy,
    SlaTargets,
    WorkingHours,
    add_business_minutes,
    add_business_time,
    business_time_between,
    clock_status,
    standard_week,
)
from patronage.errors import InvalidInput, NotFound

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
WHIT_MONDAY_2026 = date(2026, 5, 25)
HOURS = timedelta(hours=1)

berlin_office = standard_week("Europe/Berlin", holidays=[WHIT_MONDAY_2026])
shanghai_office = standard_week(
    "Asia/Shanghai", hours=[("09:00", "12:00"), ("13:00", "18:00")], holidays=[date(2026, 10, 1)]
)
berlin_round_the_clock = standard_week(
    "Europe/Berlin", hours=[("00:00", "00:00")], workdays=range(7)
)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_friday_1700_before_a_monday_holiday() -> None:
    # Filed Fri 22 May 17:00, 4 business hours: Fri 17-18 (1h), Sat/Sun off,
    # Mon 25 May Whit Monday off, Tue 09:00 + 3h = Tue 26 May 12:00.
    due = add_business_time(berlin_office, berlin(2026, 5, 22, 17), 4 * HOURS)
    assert due == berlin(2026, 5, 26, 12)
    assert business_time_between(berlin_office, berlin(2026, 5, 22, 17), due) == 4 * HOURS


def test_filed_outside_hours_starts_at_next_opening() -> None:
    # Saturday 10:00 -> the clock starts Monday 09:00; 2h -> Monday 11:00.
    assert add_business_minutes(berlin_office, berlin(2026, 3, 7, 10), 120) == berlin(
        2026, 3, 9, 11
    )
    # Weekday 07:00 -> 09:00 + 30 min.
    assert add_business_minutes(berlin_office, berlin(2026, 3, 3, 7), 30) == berlin(
        2026, 3, 3, 9, 30
    )
    # Weekday 20:00 -> next day 09:00 + 1h.
    assert add_business_time(berlin_office, berlin(2026, 3, 3, 20), HOURS) == berlin(2026, 3, 4, 10)
    # A weekend counts nothing.
    assert business_time_between(
        berlin_office, berlin(2026, 3, 7), berlin(2026, 3, 9)
    ) == timedelta(0)


def test_lunch_break_is_not_counted() -> None:
    # Shanghai 09-12 and 13-18: filed 11:30, 1h -> 11:30-12:00 then 13:00-13:30.
    assert add_business_time(shanghai_office, shanghai(2026, 3, 2, 11, 30), HOURS) == shanghai(
        2026, 3, 2, 13, 30
    )
    full_day = business_time_between(shanghai_office, shanghai(2026, 3, 2), shanghai(2026, 3, 3))
    assert full_day == 8 * HOURS


def test_shanghai_instants_given_in_utc() -> None:
    # 01:30Z = Fri 6 Mar 09:30 in Shanghai (UTC+8, no DST). 9h: Fri 09:30-18:00 minus lunch
    # = 7.5h, Mon 9 Mar 09:00 + 1.5h = 10:30 +08:00 = 02:30Z.
    due = add_business_time(shanghai_office, datetime(2026, 3, 6, 1, 30, tzinfo=UTC), 9 * HOURS)
    assert due == datetime(2026, 3, 9, 2, 30, tzinfo=UTC)


def test_shanghai_holiday_is_skipped() -> None:
    # Wed 30 Sep 17:00 + 2h: 17-18 (1h), Thu 1 Oct holiday, Fri 2 Oct 09:00 + 1h.
    due = add_business_time(shanghai_office, shanghai(2026, 9, 30, 17), 2 * HOURS)
    assert due == shanghai(2026, 10, 2, 10)


def test_pause_and_resume() -> None:
    # Mon 2 Mar 09:00, 3h target, waiting on the customer 10:00-14:00:
    # 09-10 (1h) then 14:00 + 2h = 16:00.
    pause = Pause(berlin(2026, 3, 2, 10), berlin(2026, 3, 2, 14))
    start = berlin(2026, 3, 2, 9)
    assert add_business_time(berlin_office, start, 3 * HOURS, [pause]) == berlin(2026, 3, 2, 16)
    elapsed = business_time_between(berlin_office, start, berlin(2026, 3, 2, 18), [pause])
    assert elapsed == 5 * HOURS  # 9 working hours less 4 paused


def test_overlapping_pauses_are_not_subtracted_twice() -> None:
    pauses = [
        Pause(berlin(2026, 3, 2, 10), berlin(2026, 3, 2, 12)),
        Pause(berlin(2026, 3, 2, 11), berlin(2026, 3, 2, 13)),
    ]
    elapsed = business_time_between(
        berlin_office, berlin(2026, 3, 2, 9), berlin(2026, 3, 2, 18), pauses
    )
    assert elapsed == 6 * HOURS  # 9h less 10:00-13:00


def test_pause_over_the_weekend_changes_nothing_extra() -> None:
    # Paused Fri 17:00 to Mon 10:00: the Friday hour and Monday 09-10 are lost.
    pause = Pause(berlin(2026, 3, 6, 17), berlin(2026, 3, 9, 10))
    due = add_business_time(berlin_office, berlin(2026, 3, 6, 16), 2 * HOURS, [pause])
    assert due == berlin(2026, 3, 9, 11)


def test_office_hours_across_spring_forward_in_berlin() -> None:
    # Fri 27 Mar 16:00 CET + 4h: Fri 16-18 (2h); clocks go forward Sun 29 Mar;
    # Mon 30 Mar 09:00 CEST + 2h = 11:00 CEST = 09:00Z (UTC arithmetic would give 10:00Z).
    due = add_business_time(berlin_office, berlin(2026, 3, 27, 16), 4 * HOURS)
    assert due == berlin(2026, 3, 30, 11)
    assert due == datetime(2026, 3, 30, 9, tzinfo=UTC)


def test_round_the_clock_desk_counts_real_hours_on_change_days() -> None:
    # Sun 29 Mar 2026 has 23 real hours in Berlin, Sun 25 Oct 2026 has 25.
    spring = business_time_between(berlin_round_the_clock, berlin(2026, 3, 29), berlin(2026, 3, 30))
    autumn = business_time_between(
        berlin_round_the_clock, berlin(2026, 10, 25), berlin(2026, 10, 26)
    )
    assert spring == 23 * HOURS
    assert autumn == 25 * HOURS
    # Sat 28 Mar 12:00 CET + 24h -> Sun 29 Mar 13:00 CEST (one wall hour skipped).
    due = add_business_time(berlin_round_the_clock, berlin(2026, 3, 28, 12), 24 * HOURS)
    assert due == berlin(2026, 3, 29, 13)


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2026, 12, 31),  # noqa: DTZ001
        timezones=st.just(BERLIN),
    ),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 10),
)
def test_elapsed_until_due_equals_the_duration(start: datetime, minutes: int) -> None:
    due = add_business_minutes(berlin_office, start, minutes)
    assert due >= start
    assert business_time_between(berlin_office, start, due) == timedelta(minutes=minutes)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(InvalidInput):
        add_business_time(berlin_office, datetime(2026, 3, 2, 9), HOURS)  # noqa: DTZ001


def test_bad_calendars_are_refused() -> None:
    with pytest.raises(InvalidInput, match="overlap"):
        standard_week("Europe/Berlin", hours=[("09:00", "13:00"), ("12:00", "18:00")])
    with pytest.raises(InvalidInput, match="needs some working hours"):
        BusinessCalendar(zone=BERLIN, weekly_hours={})
    with pytest.raises(InvalidInput, match="unknown time zone"):
        standard_week("Mars/Olympus")
    with pytest.raises(InvalidInput, match="not after start"):
        standard_week("UTC", hours=[("18:00", "09:00")])
    with pytest.raises(InvalidInput, match="without a zone"):
        WorkingHours(time(9, tzinfo=UTC), time(18))


def test_calendar_that_never_opens_refuses_a_due_time() -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(3700)]
    closed_forever = standard_week("UTC", holidays=days)
    with pytest.raises(InvalidInput, match="no working time"):
        add_business_time(closed_forever, datetime(2026, 1, 1, tzinfo=UTC), HOURS)


POLICY = SlaPolicy(
    calendar=berlin_office,
    targets={
        ("billing", "high"): SlaTargets(first_response=2 * HOURS, resolution=8 * HOURS),
        ("*", "high"): SlaTargets(first_response=4 * HOURS, resolution=16 * HOURS),
    },
)


def test_policy_picks_the_specific_target_then_the_wildcard() -> None:
    assert POLICY.targets_for("billing", "high").resolution == 8 * HOURS
    assert POLICY.targets_for("delivery", "high").resolution == 16 * HOURS
    with pytest.raises(NotFound):
        POLICY.targets_for("delivery", "low")


@pytest.mark.parametrize(
    ("now_hour", "state", "remaining"),
    [
        (15, ClockState.ON_TRACK, 2 * HOURS),  # 6h of 8h used; 2h >= 20% of 8h (1.6h)
        (16, ClockState.AT_RISK, HOURS),  # 1h left < 1.6h
        (17, ClockState.AT_RISK, timedelta(0)),  # exactly at the target: not yet breached
    ],
)
def test_clock_states_within_a_day(now_hour: int, state: ClockState, remaining: timedelta) -> None:
    clock = clock_status(
        berlin_office,
        started_at=berlin(2026, 3, 2, 9),
        target=9 * HOURS - HOURS,
        now=berlin(2026, 3, 2, now_hour),
    )
    assert clock.state is state
    assert clock.remaining == remaining
    assert clock.due_at == berlin(2026, 3, 2, 17)


def test_clock_breached_and_met() -> None:
    start, target = berlin(2026, 3, 2, 9), 8 * HOURS
    late = clock_status(berlin_office, started_at=start, target=target, now=berlin(2026, 3, 3, 10))
    assert late.state is ClockState.BREACHED
    assert late.remaining == -2 * HOURS  # 9h Monday + 1h Tuesday = 10h
    met = clock_status(
        berlin_office,
        started_at=start,
        target=target,
        now=berlin(2026, 3, 5, 10),
        stopped_at=berlin(2026, 3, 2, 16, 30),
    )
    assert met.state is ClockState.MET
    assert met.elapsed == 7.5 * HOURS


def test_paused_clock_has_no_due_time_and_does_not_run() -> None:
    clock = clock_status(
        berlin_office,
        started_at=berlin(2026, 3, 2, 9),
        target=8 * HOURS,
        now=berlin(2026, 3, 4, 12),
        pauses=[Pause(berlin(2026, 3, 2, 11))],
    )
    assert clock.paused
    assert clock.due_at is None
    assert clock.elapsed == 2 * HOURS
    assert clock.state is ClockState.ON_TRACK
