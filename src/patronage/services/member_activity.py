"""Member 360's lists: coupons held, surveys answered, complaints with their SLA clocks,
and the journey messages sent. Read inside the caller's ``with uow``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from patronage.domain.coupons import Coupon, refusal
from patronage.services.complaint_sla import clocks_for
from patronage.storage import member_history_queries as q
from patronage.storage.uow import UnitOfWork

COUPON_STATES = {
    None: "usable",
    "coupon_used_up": "used",
    "coupon_expired": "expired",
    "coupon_inactive": "inactive",
    "coupon_not_yet_valid": "not_yet_valid",
}


@dataclass(frozen=True)
class MemberActivity:
    coupons: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def member_activity(uow: UnitOfWork, member_id: int) -> MemberActivity:
    return MemberActivity(
        coupons=[_coupon(uow, c) for c in uow.coupons.of_member(member_id)],
        surveys=q.surveys_answered(uow.session, member_id),
        complaints=_complaints(uow, member_id),
        messages=q.messages_to(uow.session, member_id),
    )


def _coupon(uow: UnitOfWork, coupon: Coupon) -> dict[str, Any]:
    """The coupon and whether its holder could use it now (a per-member limit is
    checked at the till, not here)."""
    refused = refusal(coupon, coupon.member_id, 0, uow.clock())
    state = COUPON_STATES.get(refused.code if refused else None, "usable")
    return {
        "code": coupon.code,
        "discount": coupon.discount,
        "left": coupon.redemptions_left,
        "max": coupon.max_redemptions,
        "expires_at": coupon.expires_at,
        "state": state,
    }


def _complaints(uow: UnitOfWork, member_id: int) -> list[dict[str, Any]]:
    rows = q.complaints_of(uow.session, member_id)
    clocks = clocks_for(uow, rows, uow.clock())
    return [
        {
            "id": row.id,
            "subject": row.subject,
            "category": row.category,
            "severity": row.severity,
            "status": row.status,
            "filed_at": row.filed_at,
            "first_response": clocks[row.id].first_response,
            "resolution": clocks[row.id].resolution,
        }
        for row in rows
    ]
