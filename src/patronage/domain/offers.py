"""Next best offer: among the offers a member may receive, the one worth most.

Plain Python, no I/O. The member's churn risk is recency-based: with a usual gap
``g`` between purchases (tenure / orders, at least a week), the risk after ``r``
days without buying is 1 - exp(-max(0, r - g) / g): nothing while the member is
on rhythm, about 0.63 one gap late, 0.86 two gaps late. Value at stake is the
member's spend over the last year (minor units). Each offer's expected value is

    P(response) x value at stake - expected cost

with response rates that depend on the offer kind and the member's state: a
win-back coupon moves members at risk, a reward or campaign keeps active members
engaged, a paid plan suits frequent, valuable members. The rates are deliberately
simple and stated here so the reason shown to staff is honest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NEW_DAYS = 90
MIN_GAP_DAYS = 7.0
AT_RISK = 0.5


@dataclass(frozen=True)
class MemberState:
    member_id: int
    tenure_days: float
    orders: int
    days_since_last: float | None
    year_spend_minor: int
    average_order_minor: int
    tier_rank: int
    tier_code: str | None
    points_available: int
    is_paid_member: bool


@dataclass(frozen=True)
class Offer:
    kind: str  # "coupon", "reward", "campaign", "membership"
    ref: str
    name: str
    cost_minor: int


@dataclass(frozen=True)
class Choice:
    offer: Offer | None
    expected_value_minor: int
    churn_risk: float
    value_segment: str
    reason: str


def churn_risk(state: MemberState) -> float:
    if state.orders == 0 or state.days_since_last is None:
        return 0.3 if state.tenure_days <= NEW_DAYS else 1.0
    gap = max(MIN_GAP_DAYS, state.tenure_days / state.orders)
    return 1.0 - math.exp(-max(0.0, state.days_since_last - gap) / gap)


def value_segment(year_spend_minor: int, high_from: int, low_below: int) -> str:
    if year_spend_minor >= high_from and year_spend_minor > 0:
        return "high value"
    return "low value" if year_spend_minor < low_below else "mid value"


def response_rate(offer: Offer, state: MemberState, risk: float) -> float:
    engaged = 1.0 - risk
    if offer.kind == "coupon":
        return 0.05 + 0.30 * risk
    if offer.kind == "reward":
        return 0.08 + 0.12 * engaged + 0.02 * state.tier_rank
    if offer.kind == "campaign":
        return 0.05 + 0.10 * engaged
    if offer.kind == "membership":
        frequent = min(1.0, state.orders / 12)
        return 0.02 + 0.15 * frequent * engaged + 0.02 * state.tier_rank
    return 0.0


def _label(kind: str, risk: float, state: MemberState) -> str:
    if kind == "coupon":
        return "win-back coupon" if risk >= AT_RISK else "coupon"
    return {"reward": "reward within reach", "campaign": "campaign", "membership": "paid plan"}[
        kind
    ]


def choose(state: MemberState, offers: list[Offer], high_from: int, low_below: int) -> Choice:
    """The offer with the highest expected value (ties: cheaper, then by kind and ref)."""
    risk = round(churn_risk(state), 3)
    segment = value_segment(state.year_spend_minor, high_from, low_below)
    stake = max(state.year_spend_minor, state.average_order_minor)
    if state.orders == 0 and state.tenure_days <= NEW_DAYS:
        status = "new"
    else:
        status = "at risk" if risk >= AT_RISK else "active"
    best: tuple[float, Offer] | None = None
    for offer in offers:
        value = response_rate(offer, state, risk) * stake - offer.cost_minor
        key = (value, -offer.cost_minor)
        if best is None or key > (best[0], -best[1].cost_minor):
            best = (value, offer)
    if best is None or best[0] <= 0:
        return Choice(None, 0, risk, segment, f"{status}, {segment}: no offer worth making")
    value, offer = best
    reason = f"{status}, {segment}: {_label(offer.kind, risk, state)} ({offer.name})"
    return Choice(offer, int(value), risk, segment, reason)
