"""A hand-made RFM data set for the segment tests: five customers whose R, F and M
ranks are all distinct, so with five customers each quintile score is the rank itself.

===  ========  =========  ========  =======  ==========================
who  recency   frequency  monetary  R F M    segment (FM = (F+M+1)//2)
===  ========  =========  ========  =======  ==========================
a    1 day     5 days     500.00    5 5 5    Champions
b    5 days    4 days     400.00    4 4 4    Champions
c    30 days   3 days     150.00    3 3 2    Need attention (FM 3)
d    200 days  2 days     200.00    2 2 3    At risk (FM 3)
e    300 days  1 day       50.00    1 1 1    Lost
===  ========  =========  ========  =======  ==========================
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.factories import Shop

AS_OF = date(2026, 3, 10)
PLAN = {  # external id: (days between the last purchase and AS_OF, purchase days, each)
    "a": (1, 5, "100"),
    "b": (5, 4, "100"),
    "c": (30, 3, "50"),
    "d": (200, 2, "100"),
    "e": (300, 1, "50"),
}


def five_customers(shop: Shop) -> dict[str, int]:
    """Enrol a..e (named "Customer A".."Customer E") with their purchases; their ids."""
    ids = {}
    for external_id, (ago, days, each) in PLAN.items():
        member = shop.member(external_id, name=f"Customer {external_id.upper()}")
        ids[external_id] = member.id
        for k in range(days):
            day = AS_OF - timedelta(days=ago + k)
            shop.buy(member, each, at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    return ids
