"""SLA clocks and attainment for many complaints at once (dashboard and member 360).

The clocks are the ones ``services.complaints`` shows for one complaint (business
hours, pauses while waiting on the customer), computed with one query for all the
status histories and each policy read once. Attainment counts decided clocks the way
the complaints report does: met / (met + missed); a running clock still within its
target is neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from patronage.domain.complaints import (
    ComplaintClocks,
    ComplaintStatus,
    Severity,
    StatusChange,
    complaint_clocks,
)
from patronage.domain.sla import ClockState, SlaPolicy
from patronage.storage.tables import ComplaintRow
from patronage.storage.uow import UnitOfWork

CLOCKS = ("first_response", "resolution")


def clocks_for(
    uow: UnitOfWork, rows: Sequence[ComplaintRow], now: datetime
) -> dict[int, ComplaintClocks]:
    """Both clocks of every complaint in ``rows`` at ``now`` (inside the caller's ``with uow``)."""
    histories = uow.complaints.histories([row.id for row in rows])
    policies: dict[int, SlaPolicy] = {}
    clocks = {}
    for row in rows:
        if row.policy_id not in policies:
            policies[row.policy_id] = uow.complaints.policy(row.policy_id)
        clocks[row.id] = complaint_clocks(
            policies[row.policy_id],
            category=row.category,
            severity=Severity(row.severity),
            history=tuple(StatusChange(ComplaintStatus(h.status), h.at) for h in histories[row.id]),
            now=now,
            first_response_at=row.first_response_at,
        )
    return clocks


def attainment(states: Sequence[ClockState]) -> dict[str, Any]:
    met = sum(1 for s in states if s is ClockState.MET)
    missed = sum(1 for s in states if s is ClockState.BREACHED)
    return {
        "met": met,
        "missed": missed,
        "open": len(states) - met - missed,
        "attainment": met / (met + missed) if met + missed else None,
    }


def attainment_by_clock(clocks: Sequence[ComplaintClocks]) -> dict[str, dict[str, Any]]:
    return {
        "first_response": attainment([c.first_response.state for c in clocks]),
        "resolution": attainment([c.resolution.state for c in clocks]),
    }
