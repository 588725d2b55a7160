"""Escalating complaints whose SLA target is about to be missed or has been missed.

Run as ``patronage complaints escalate`` (or ``POST /api/v1/complaints/escalations``).
Each open complaint's clocks are computed at ``as_of``; a running clock that is
at risk (less than the policy's at-risk share of its target left) or breached
is recorded once per complaint, clock and state, so repeated runs list it again
but record it only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patronage.clock import require_aware
from patronage.domain.sla import ClockState
from patronage.services.complaints import clocks_of
from patronage.storage.tables import ComplaintEscalationRow
from patronage.storage.uow import UnitOfWork

ESCALATING = (ClockState.AT_RISK, ClockState.BREACHED)


@dataclass(frozen=True)
class Escalation:
    complaint_id: int
    member_id: int
    assignee: str | None
    severity: str
    clock: str
    state: str
    due_at: datetime | None
    new: bool


def escalate_complaints(uow: UnitOfWork, as_of: datetime | None = None) -> list[Escalation]:
    """Every open complaint needing escalation at ``as_of``; new ones are recorded."""
    found: list[Escalation] = []
    with uow:
        now = require_aware(as_of, "as_of") if as_of is not None else uow.clock()
        for row in uow.complaints.open_complaints():
            clocks = clocks_of(uow, row, now)
            for name, clock in (
                ("first_response", clocks.first_response),
                ("resolution", clocks.resolution),
            ):
                if clock.state not in ESCALATING:
                    continue
                new = not uow.complaints.escalated(row.id, name, str(clock.state))
                if new:
                    uow.complaints.add(
                        ComplaintEscalationRow(
                            complaint_id=row.id,
                            clock=name,
                            state=str(clock.state),
                            due_at=clock.due_at,
                            at=now,
                        )
                    )
                found.append(
                    Escalation(
                        row.id,
                        row.member_id,
                        row.assignee,
                        row.severity,
                        name,
                        str(clock.state),
                        clock.due_at,
                        new,
                    )
                )
        uow.commit()
    return found
