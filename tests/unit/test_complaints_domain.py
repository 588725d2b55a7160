"""Complaint statuses and the SLA clocks they drive."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from patronage.domain.complaints import (
    ALLOWED_TRANSITIONS,
    ComplaintStatus,
    Severity,
    StatusChange,
    can_transition,
    complaint_clocks,
    is_reopen,
    pauses_in,
    transition,
)
from patronage.domain.sla import ClockState, SlaPolicy, SlaTargets, standard_week
from patronage.errors import InvalidInput, RuleViolation

S = ComplaintStatus
BERLIN = ZoneInfo("Europe/Berlin")
HOURS = timedelta(hours=1)
POLICY = SlaPolicy(
    calendar=standard_week("Europe/Berlin"),
    targets={("*", "high"): SlaTargets(first_response=2 * HOURS, resolution=8 * HOURS)},
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Berlin; 2 March is a Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


def history_of(*steps: tuple[ComplaintStatus, datetime]) -> tuple[StatusChange, ...]:
    history: tuple[StatusChange, ...] = ()
    for status, when in steps:
        history = transition(history, status, when)
    return history


def test_the_happy_path_and_reopen_are_allowed() -> None:
    history = history_of(
        (S.NEW, at(2, 9)),
        (S.ASSIGNED, at(2, 9, 10)),
        (S.IN_PROGRESS, at(2, 9, 30)),
        (S.WAITING_ON_CUSTOMER, at(2, 10)),
        (S.IN_PROGRESS, at(2, 14)),
        (S.RESOLVED, at(2, 15)),
        (S.IN_PROGRESS, at(3, 9)),
        (S.RESOLVED, at(3, 10)),
        (S.CLOSED, at(4, 9)),
    )
    assert [c.status for c in history][-1] is S.CLOSED
    assert is_reopen(S.RESOLVED, S.IN_PROGRESS)
    assert not is_reopen(S.WAITING_ON_CUSTOMER, S.IN_PROGRESS)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEW, S.RESOLVED),
        (S.NEW, S.IN_PROGRESS),
        (S.WAITING_ON_CUSTOMER, S.RESOLVED),
        (S.CLOSED, S.IN_PROGRESS),
        (S.RESOLVED, S.WAITING_ON_CUSTOMER),
    ],
)
def test_forbidden_transitions(current: ComplaintStatus, target: ComplaintStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(RuleViolation) as caught:
        transition((StatusChange(current, at(2, 9)),), target, at(2, 10))
    assert caught.value.code == "invalid_transition"
    assert caught.value.details == {"current": str(current), "target": str(target)}


def test_closed_is_final_and_every_status_has_rules() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(ComplaintStatus)
    assert ALLOWED_TRANSITIONS[S.CLOSED] == frozenset()


def test_history_must_start_new_and_move_forward_in_time() -> None:
    with pytest.raises(RuleViolation):
        transition((), S.ASSIGNED, at(2, 9))
    with pytest.raises(InvalidInput, match="predate"):
        history_of((S.NEW, at(2, 10)), (S.ASSIGNED, at(2, 9)))


def test_pauses_follow_waiting_on_customer() -> None:
    history = history_of(
        (S.NEW, at(2, 9)),
        (S.ASSIGNED, at(2, 9)),
        (S.WAITING_ON_CUSTOMER, at(2, 10)),
        (S.IN_PROGRESS, at(2, 12)),
        (S.WAITING_ON_CUSTOMER, at(2, 13)),
    )
    pauses = pauses_in(history, frozenset({S.WAITING_ON_CUSTOMER}))
    assert [(p.start, p.end) for p in pauses] == [(at(2, 10), at(2, 12)), (at(2, 13), None)]


def test_waiting_on_customer_pauses_the_resolution_clock() -> None:
    # Filed Mon 09:00; waiting 10:00-14:00; now Mon 17:00.
    # Resolution clock: 09-10 + 14-17 = 4h of 8h -> on track (4h left >= 1.6h).
    # Due: 09-10 (1h) + 14-18 (4h) = 5h on Monday, Tue 09:00 + 3h = Tue 12:00.
    history = history_of(
        (S.NEW, at(2, 9)),
        (S.ASSIGNED, at(2, 9, 5)),
        (S.WAITING_ON_CUSTOMER, at(2, 10)),
        (S.IN_PROGRESS, at(2, 14)),
    )
    clocks = complaint_clocks(
        POLICY,
        category="billing",
        severity=Severity.HIGH,
        history=history,
        now=at(2, 17),
        first_response_at=at(2, 9, 30),
    )
    assert clocks.first_response.state is ClockState.MET
    assert clocks.first_response.elapsed == 0.5 * HOURS
    assert clocks.resolution.elapsed == 4 * HOURS
    assert clocks.resolution.state is ClockState.ON_TRACK
    assert clocks.resolution.due_at == at(3, 12)
    assert not clocks.needs_escalation


def test_time_spent_resolved_before_a_reopen_is_not_counted() -> None:
    # Filed Mon 09:00, resolved Mon 12:00 (3h), reopened Wed 09:00, resolved Wed 11:00 (2h).
    history = history_of(
        (S.NEW, at(2, 9)),
        (S.ASSIGNED, at(2, 9)),
        (S.IN_PROGRESS, at(2, 9)),
        (S.RESOLVED, at(2, 12)),
        (S.IN_PROGRESS, at(4, 9)),
        (S.RESOLVED, at(4, 11)),
        (S.CLOSED, at(5, 9)),
    )
    clocks = complaint_clocks(
        POLICY, category="x", severity=Severity.HIGH, history=history, now=at(6, 9)
    )
    assert clocks.resolution.elapsed == 5 * HOURS
    assert clocks.resolution.state is ClockState.MET
    # No first response recorded: the first resolution (Mon 12:00, 3h > 2h) answered it.
    assert clocks.first_response.elapsed == 3 * HOURS
    assert clocks.first_response.state is ClockState.BREACHED


def test_unanswered_complaint_escalates_when_at_risk() -> None:
    # Filed Mon 09:00, first response target 2h; at 10:45 only 15 min are left (< 20% of 2h).
    history = history_of((S.NEW, at(2, 9)), (S.ASSIGNED, at(2, 9, 5)))
    clocks = complaint_clocks(
        POLICY, category="x", severity=Severity.HIGH, history=history, now=at(2, 10, 45)
    )
    assert clocks.first_response.state is ClockState.AT_RISK
    assert clocks.needs_escalation


def test_paused_complaint_reports_no_due_time() -> None:
    history = history_of(
        (S.NEW, at(2, 9)), (S.ASSIGNED, at(2, 9)), (S.WAITING_ON_CUSTOMER, at(2, 11))
    )
    clocks = complaint_clocks(
        POLICY,
        category="x",
        severity=Severity.HIGH,
        history=history,
        now=at(9, 9),
        first_response_at=at(2, 10),
    )
    assert clocks.resolution.paused
    assert clocks.resolution.due_at is None
    assert clocks.resolution.elapsed == 2 * HOURS
