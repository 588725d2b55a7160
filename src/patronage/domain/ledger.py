"""The arithmetic of the points ledger. Pure functions: no storage, no clock.

See docs/adr/0001-append-only-ledger.md and ../shared/LEDGER_SEMANTICS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from patronage.domain.program import Program
from patronage.errors import RuleViolation

KINDS = ("earn", "redeem", "expire", "adjust", "reverse", "transfer_in", "transfer_out")


@dataclass(frozen=True)
class Lot:
    """Points earned together; what is left of them and when they lapse."""

    id: int
    remaining: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None

    def is_live(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    def is_spendable(self, now: datetime) -> bool:
        return self.remaining > 0 and self.available_at <= now and self.is_live(now)

    def is_pending(self, now: datetime) -> bool:
        return self.remaining > 0 and self.available_at > now and self.is_live(now)


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    debt: int
    expiring_soon: int

    @property
    def total(self) -> int:
        return self.available + self.pending - self.debt


def points_for_amount(amount_minor: int, earn_rate: Decimal, multiplier: Decimal) -> int:
    """Points for a purchase: rate per whole currency unit times the tier multiplier,
    rounded down once, on the final figure (88.80 at 1 point per 1.00 earns 88)."""
    raw = Decimal(amount_minor) / 100 * earn_rate * multiplier
    return int(raw.to_integral_value(rounding=ROUND_FLOOR))


def _start_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def lot_expiry(program: Program, earned_at: datetime) -> datetime | None:
    """The instant a lot earned at ``earned_at`` stops counting.

    'days': the end of the N-th day after earning, in program time (earned
    2026-03-10T15:00 with 365 days lapses at the end of 2027-03-10).
    'end_of_month' / 'end_of_year': the end of the month or year of earning.
    """
    zone = ZoneInfo(program.timezone)
    local = earned_at.astimezone(zone).date()
    if program.expiry_policy == "never":
        return None
    if program.expiry_policy == "days":
        return _start_of_local_day(local + timedelta(days=program.expiry_days + 1), zone)
    if program.expiry_policy == "end_of_month":
        first_next = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
        return _start_of_local_day(first_next, zone)
    if program.expiry_policy == "end_of_year":
        return _start_of_local_day(date(local.year + 1, 1, 1), zone)
    raise ValueError(f"unknown expiry policy {program.expiry_policy!r}")


def lot_available_at(program: Program, earned_at: datetime) -> datetime:
    return earned_at + timedelta(days=program.pending_days)


def spending_order(lots: list[Lot]) -> list[Lot]:
    """Soonest-expiring first; lots that never expire last; ties by the older lot."""
    far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return sorted(lots, key=lambda lot: (lot.expires_at or far, lot.earned_at, lot.id))


def plan_spend(lots: list[Lot], points: int, now: datetime) -> list[tuple[int, int]]:
    """Which lots a spend of ``points`` draws from, as (lot id, points) pairs.

    Only spendable lots count (not pending, not expired). A spend larger than
    what is available is refused whole.
    """
    if points <= 0:
        raise ValueError("points to spend must be positive")
    plan: list[tuple[int, int]] = []
    left = points
    for lot in spending_order([lot for lot in lots if lot.is_spendable(now)]):
        take = min(lot.remaining, left)
        plan.append((lot.id, take))
        left -= take
        if left == 0:
            return plan
    available = points - left
    raise RuleViolation(
        f"insufficient points: {points} requested, {available} available",
        code="insufficient_points",
        requested=points,
        available=available,
    )


def reversal_for_refund(
    order_amount: int, refunded_before: int, refund_amount: int, earned: int, reversed_before: int
) -> int:
    """Points a refund takes back: cumulative and proportional, rounded half up.

    The target after the refund is round-half-up(earned x refunded / amount); the
    refund reverses the difference to what was already reversed, so a full refund
    always reverses exactly what the order earned.
    """
    if refund_amount <= 0:
        raise ValueError("refund amount must be positive")
    refunded_after = refunded_before + refund_amount
    if refunded_after > order_amount:
        raise RuleViolation(
            "refund exceeds what is left of the order",
            code="refund_exceeds_order",
            order_amount=order_amount,
            refunded_before=refunded_before,
            refund_amount=refund_amount,
        )
    if refunded_after == order_amount:
        return earned - reversed_before
    target = (Decimal(earned) * refunded_after / order_amount).to_integral_value(ROUND_HALF_UP)
    return max(0, min(int(target), earned) - reversed_before)


def repay_debt(points: int, debt: int) -> tuple[int, int]:
    """Split new points into (debt repaid, points left to form a lot)."""
    repaid = min(points, debt)
    return repaid, points - repaid


def balance_of(lots: list[Lot], debt: int, now: datetime, soon_days: int = 30) -> Balance:
    soon = now + timedelta(days=soon_days)
    available = sum(lot.remaining for lot in lots if lot.is_spendable(now))
    pending = sum(lot.remaining for lot in lots if lot.is_pending(now))
    expiring = sum(
        lot.remaining
        for lot in lots
        if lot.is_spendable(now) and lot.expires_at is not None and lot.expires_at <= soon
    )
    return Balance(available=available, pending=pending, debt=debt, expiring_soon=expiring)


@dataclass(frozen=True)
class Entry:
    """One append-only line of a member's ledger."""

    id: int
    member_id: int
    kind: str
    points: int
    occurred_at: datetime
    recorded_at: datetime
    order_id: str | None = None
    reason: str | None = None
    actor: str | None = None
    counterparty_id: int | None = None
    details: dict[str, object] | None = None
