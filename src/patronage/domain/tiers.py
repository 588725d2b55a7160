"""Tier qualification: upgrade at once, downgrade only at a review date, overrides expire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from patronage.domain.program import Program, Tier
from patronage.errors import InvalidInput


def qualifying_tier(program: Program, value: int) -> Tier:
    """The highest tier whose threshold ``value`` reaches."""
    reached = [tier for tier in program.tiers if value >= tier.threshold]
    return max(reached, key=lambda t: t.rank) if reached else program.base_tier()


def window_start(program: Program, now: datetime) -> datetime:
    """Start of the qualification window ending at ``now``."""
    if program.tier_window == "calendar_year":
        zone = ZoneInfo(program.timezone)
        return datetime.combine(date(now.astimezone(zone).year, 1, 1), time(0), tzinfo=zone)
    return now - timedelta(days=program.tier_window_days)


def review_dates(program: Program, start: datetime, end: datetime) -> list[datetime]:
    """Review instants in (start, end], at local midnight of the review month/day."""
    zone = ZoneInfo(program.timezone)
    found = []
    for year in range(start.astimezone(zone).year, end.astimezone(zone).year + 1):
        instant = datetime.combine(
            date(year, program.tier_review_month, program.tier_review_day), time(0), tzinfo=zone
        )
        if start < instant <= end:
            found.append(instant)
    return found


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    reason: str


def on_activity(
    program: Program, current: Tier, qualified: Tier, override_active: bool
) -> TierDecision | None:
    """After an earning: move up as soon as a higher threshold is crossed."""
    if override_active or qualified.rank <= current.rank:
        return None
    return TierDecision(qualified, f"qualified for {qualified.name} ({program.tier_metric})")


def at_review(
    program: Program,
    current: Tier,
    qualified: Tier,
    tier_since: datetime,
    review_at: datetime,
    override_until: datetime | None,
) -> TierDecision | None:
    """At a review date: expired overrides fall back to what the member earned;
    members below their tier's threshold move down unless they reached it within
    the grace period before the review."""
    if override_until is not None:
        if override_until > review_at:
            return None
        if qualified.code != current.code:
            return TierDecision(qualified, "manual override expired")
        return None
    if qualified.rank > current.rank:
        return TierDecision(qualified, f"qualified for {qualified.name} at review")
    if qualified.rank < current.rank:
        if tier_since + timedelta(days=program.tier_grace_days) > review_at:
            return None
        return TierDecision(qualified, f"did not requalify for {current.name} at review")
    return None


MAX_THRESHOLD = 10**12
MAX_MULTIPLIER = Decimal(100)


def check_ladder(tiers: Sequence[Tier]) -> None:
    """Refuse a tier ladder qualification could not climb: the lowest tier starts at 0,
    each higher tier needs strictly more, and multipliers are between 1 and 100 with at
    most four decimals (what the program stores)."""
    ladder = sorted(tiers, key=lambda t: t.rank)
    for index, tier in enumerate(ladder):
        where = f"tiers.{tier.code}"
        if not 0 <= tier.threshold <= MAX_THRESHOLD:
            raise InvalidInput(
                f"{tier.code}: threshold must be between 0 and {MAX_THRESHOLD}",
                field=f"{where}.threshold",
            )
        if index == 0 and tier.threshold != 0:
            raise InvalidInput(
                f"{tier.code}: the lowest tier's threshold is 0", field=f"{where}.threshold"
            )
        if index > 0 and tier.threshold <= ladder[index - 1].threshold:
            raise InvalidInput(
                f"{tier.code}: threshold must be above {ladder[index - 1].code}'s "
                f"({ladder[index - 1].threshold})",
                field=f"{where}.threshold",
                below=ladder[index - 1].code,
            )
        multiplier = tier.multiplier
        if (
            not multiplier.is_finite()
            or not 1 <= multiplier <= MAX_MULTIPLIER
            or multiplier != multiplier.quantize(Decimal("0.0001"))
        ):
            raise InvalidInput(
                f"{tier.code}: multiplier must be between 1 and 100 (at most 4 decimals)",
                field=f"{where}.multiplier",
            )
