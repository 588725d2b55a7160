"""Complaint (投诉) status rules and how the status drives the SLA clocks.

Pure domain, no I/O. The life of a complaint::

    new -> assigned -> in_progress <-> waiting_on_customer
                       in_progress -> resolved -> closed
                       resolved -> in_progress            (reopen)
    assigned -> waiting_on_customer                       (ask before starting)

While the complaint waits on the customer both clocks pause. The resolution
clock also stands still while the complaint is resolved: it stops at the
resolution, and if the customer reopens it the clock runs on from where it
stopped (the time spent resolved is not counted against the team).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from patronage.clock import require_aware
from patronage.domain.sla import ClockState, Pause, SlaClock, SlaPolicy, clock_status
from patronage.errors import InvalidInput, RuleViolation


class ComplaintStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


S = ComplaintStatus
ALLOWED_TRANSITIONS: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    S.NEW: frozenset({S.ASSIGNED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.WAITING_ON_CUSTOMER}),
    S.IN_PROGRESS: frozenset({S.WAITING_ON_CUSTOMER, S.RESOLVED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.IN_PROGRESS}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
}
# Statuses in which a clock does not run.
FIRST_RESPONSE_PAUSED: frozenset[ComplaintStatus] = frozenset({S.WAITING_ON_CUSTOMER})
RESOLUTION_PAUSED: frozenset[ComplaintStatus] = frozenset(
    {S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CLOSED}
)


@dataclass(frozen=True)
class StatusChange:
    """The complaint entered ``status`` at ``at``."""

    status: ComplaintStatus
    at: datetime

    def __post_init__(self) -> None:
        require_aware(self.at, "at")


def can_transition(current: ComplaintStatus, target: ComplaintStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def is_reopen(current: ComplaintStatus, target: ComplaintStatus) -> bool:
    return current is S.RESOLVED and target is S.IN_PROGRESS


def transition(
    history: Sequence[StatusChange], target: ComplaintStatus, at: datetime
) -> tuple[StatusChange, ...]:
    """The history with one more status change, if the rules allow it."""
    require_aware(at, "at")
    if not history:
        if target is not S.NEW:
            raise RuleViolation("a complaint starts as new", code="invalid_transition")
        return (StatusChange(target, at),)
    current = history[-1]
    if not can_transition(current.status, target):
        raise RuleViolation(
            f"a complaint cannot go from {current.status} to {target}",
            code="invalid_transition",
            current=str(current.status),
            target=str(target),
        )
    if at < current.at:
        raise InvalidInput("a status change cannot predate the previous one", field="at")
    return (*history, StatusChange(target, at))


def pauses_in(history: Sequence[StatusChange], paused: frozenset[ComplaintStatus]) -> list[Pause]:
    """The periods spent in ``paused`` statuses; the last one open if still paused."""
    pauses: list[Pause] = []
    for change, following in zip(history, [*history[1:], None], strict=True):
        if change.status in paused:
            pauses.append(Pause(change.at, following.at if following else None))
    return pauses


@dataclass(frozen=True)
class ComplaintClocks:
    first_response: SlaClock
    resolution: SlaClock

    @property
    def needs_escalation(self) -> bool:
        """A target is about to be missed or has been missed on a running clock."""
        return any(
            clock.state in (ClockState.AT_RISK, ClockState.BREACHED)
            for clock in (self.first_response, self.resolution)
            if clock.state is not ClockState.MET
        )


def complaint_clocks(
    policy: SlaPolicy,
    *,
    category: str,
    severity: Severity,
    history: Sequence[StatusChange],
    now: datetime,
    first_response_at: datetime | None = None,
) -> ComplaintClocks:
    """Where the first-response and resolution clocks of a complaint stand at ``now``."""
    if not history or history[0].status is not S.NEW:
        raise InvalidInput("a complaint history starts with new", field="history")
    targets = policy.targets_for(category, str(severity))
    filed_at = history[0].at
    resolved_at = _resolved_at(history)
    if first_response_at is None:  # a resolution answers the customer too
        first_response_at = next((c.at for c in history if c.status is S.RESOLVED), None)
    first_response = clock_status(
        policy.calendar,
        started_at=filed_at,
        target=targets.first_response,
        now=now,
        pauses=pauses_in(history, FIRST_RESPONSE_PAUSED),
        stopped_at=first_response_at,
        at_risk_share=policy.at_risk_share,
    )
    resolution_pauses = pauses_in(history, RESOLUTION_PAUSED)
    if resolved_at is not None:
        resolution_pauses = [p for p in resolution_pauses if p.end is not None]
    resolution = clock_status(
        policy.calendar,
        started_at=filed_at,
        target=targets.resolution,
        now=now,
        pauses=resolution_pauses,
        stopped_at=resolved_at,
        at_risk_share=policy.at_risk_share,
    )
    return ComplaintClocks(first_response, resolution)


def _resolved_at(history: Sequence[StatusChange]) -> datetime | None:
    """When the current resolution happened, if the complaint is resolved or closed now."""
    if history[-1].status not in (S.RESOLVED, S.CLOSED):
        return None
    return next(c.at for c in reversed(history) if c.status is S.RESOLVED)
