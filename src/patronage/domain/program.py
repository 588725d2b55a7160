"""A loyalty program's policy: how points are earned, when they expire, how tiers qualify."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

EXPIRY_POLICIES = ("days", "end_of_month", "end_of_year", "never")
TIER_METRICS = ("points", "spend", "visits")
TIER_WINDOWS = ("rolling", "calendar_year")


@dataclass(frozen=True)
class Tier:
    code: str
    name: str
    rank: int
    threshold: int
    multiplier: Decimal = Decimal(1)
    id: int | None = None


@dataclass(frozen=True)
class Program:
    code: str
    name: str
    unit: str = "points"
    currency: str = "CNY"
    timezone: str = "UTC"
    earn_rate: Decimal = Decimal(1)
    expiry_policy: str = "days"
    expiry_days: int = 365
    pending_days: int = 0
    tier_metric: str = "points"
    tier_window: str = "rolling"
    tier_window_days: int = 365
    tier_review_month: int = 1
    tier_review_day: int = 1
    tier_grace_days: int = 30
    point_value_minor: Decimal = Decimal("0.01")
    tiers: tuple[Tier, ...] = field(default_factory=tuple)
    id: int | None = None

    def tier(self, code: str) -> Tier:
        for tier in self.tiers:
            if tier.code == code:
                return tier
        raise KeyError(code)

    def base_tier(self) -> Tier:
        return min(self.tiers, key=lambda t: t.rank)


def default_program() -> Program:
    """The program a fresh database holds (see README, 'The default program')."""
    return Program(
        code="default",
        name="Default program",
        tiers=(
            Tier("member", "Member", 0, 0, Decimal(1)),
            Tier("silver", "Silver", 1, 1000, Decimal("1.25")),
            Tier("gold", "Gold", 2, 5000, Decimal("1.5")),
        ),
    )
