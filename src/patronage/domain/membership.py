"""Paid membership (a Prime-style plan): periods, renewals, grace and refunds.

Plain Python, no I/O. Money is integer minor units. A membership is paid through
``period_end``; a failed renewal opens a grace period of the plan's ``grace_days``
after ``period_end``, during which benefits continue; with no successful renewal by
then the membership lapses. A cancellation refunds the unused whole days of the
period in proportion to the fee paid, rounded down to the minor unit (never more
than was paid; the fraction of a minor unit stays with the business).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from patronage.errors import InvalidInput

PERIODS = {"monthly": 1, "annual": 12}
STATUSES = ("active", "grace", "cancelled", "lapsed")
LIVE = ("active", "grace")
RENEWAL_WINDOW_DAYS = 7
MAX_FEE_MINOR = 10**9
MAX_MULTIPLIER = Decimal(10)


@dataclass(frozen=True)
class Plan:
    id: int
    program_id: int
    code: str
    name: str
    period: str
    fee_minor: int
    earn_multiplier: Decimal
    free_delivery: bool
    member_prices: bool
    coupon_batch_id: int | None
    coupons_per_month: int
    grace_days: int
    active: bool


@dataclass(frozen=True)
class Membership:
    id: int
    member_id: int
    plan: Plan
    status: str
    started_at: datetime
    period_start: datetime
    period_end: datetime
    grace_until: datetime | None
    fee_paid_minor: int
    cancelled_at: datetime | None
    refund_minor: int

    def covers(self, at: datetime) -> bool:
        """Benefits apply at ``at``: paid through, or within the grace period."""
        if self.status not in LIVE or at < self.started_at:
            return False
        end = self.grace_until if self.status == "grace" and self.grace_until else self.period_end
        return at < end

    def effective_status(self, now: datetime) -> str:
        """The status as of ``now``: a grace period that ran out has lapsed."""
        if self.status == "grace" and self.grace_until is not None and now >= self.grace_until:
            return "lapsed"
        return self.status


def plain(value: Decimal) -> str:
    """A multiplier as people write it: 2, 1.5 (not 2.0000)."""
    return format(value.normalize(), "f")


def check_plan(
    code: str, period: str, fee_minor: int, earn_multiplier: Decimal, grace_days: int
) -> None:
    if not code or len(code) > 64 or not code.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("code must be 1-64 letters, digits, '-' or '_'", field="code")
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}", field="period")
    if not 0 < fee_minor <= MAX_FEE_MINOR:
        raise InvalidInput(f"fee_minor must be 1..{MAX_FEE_MINOR}", field="fee_minor")
    if not Decimal(1) <= earn_multiplier <= MAX_MULTIPLIER:
        raise InvalidInput("earn_multiplier must be between 1 and 10", field="earn_multiplier")
    if not 0 <= grace_days <= 60:
        raise InvalidInput("grace_days must be 0..60", field="grace_days")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later, clamped to the month's last day
    (31 January + 1 month = 28 or 29 February)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_period(start: datetime, period: str) -> tuple[datetime, datetime]:
    return start, add_months(start, PERIODS[period])


def renewal_is_due(membership: Membership, now: datetime) -> bool:
    """Renewals open ``RENEWAL_WINDOW_DAYS`` before the period ends; once renewed,
    the next period is far from its end, so a second renewal is refused."""
    if membership.effective_status(now) not in LIVE:
        return False
    return now >= membership.period_end - timedelta(days=RENEWAL_WINDOW_DAYS)


def prorated_refund(fee_paid_minor: int, start: datetime, end: datetime, at: datetime) -> int:
    """The refund for cancelling at ``at``: fee x unused whole days / days in the period,
    rounded down. Nothing once the period has ended; the whole fee before it starts."""
    if fee_paid_minor <= 0 or at >= end:
        return 0
    if at <= start:
        return fee_paid_minor
    period_days = (end - start).days
    unused_days = (end - at).days  # whole days only: a started day is used
    if period_days <= 0:
        return 0
    return fee_paid_minor * unused_days // period_days
