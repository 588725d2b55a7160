"""Statistics of the complaints report. Pure domain, no I/O.

Repurchase after recovery
    Do complainants whose complaint was resolved buy again as often as
    comparable customers who never complained? Each recovered complainant is
    matched 1:1, without replacement, to a member who never complained, on the
    same *index date* (the complainant's resolution):

    - prior spend band: the member's purchases in the 365 days before the index
      date, in bands ``none``, ``<1000``, ``1000-4999``, ``5000+`` (whole units
      of the program currency);
    - tenure band: days from joining to the index date, ``<90``, ``90-364``,
      ``365+`` (members who joined later are not eligible).

    Within the cell the control with the closest prior spend is taken (ties: the
    lowest member id). Complainants without a match are counted and left out.
    The outcome is any purchase in the N days after the index date; only index
    dates at least N days before the report's ``as of`` are used, so every
    follow-up is complete.

    The difference of the two repurchase rates gets the Newcombe hybrid score
    interval (method 10): R. G. Newcombe (1998), "Interval estimation for the
    difference between independent proportions: comparison of eleven methods",
    Statistics in Medicine 17(8), 873-890, built from Wilson intervals. It
    treats the two groups as independent samples (it ignores the pairing, which
    makes it somewhat conservative).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from patronage.domain.surveys import wilson_interval

PRIOR_DAYS = 365
SPEND_BANDS = ((0, "none"), (1, "<1000"), (100_000, "1000-4999"), (500_000, "5000+"))
TENURE_BANDS = ((0, "<90"), (90, "90-364"), (365, "365+"))


@dataclass(frozen=True)
class PurchaseHistory:
    """One member's purchases, sorted by time, with running totals for fast windows."""

    times: tuple[datetime, ...]
    cumulative: tuple[int, ...]  # cumulative[i] = total of the first i purchases

    @classmethod
    def of(cls, purchases: Sequence[tuple[datetime, int]]) -> PurchaseHistory:
        ordered = sorted(purchases)
        totals = [0]
        for _, amount in ordered:
            totals.append(totals[-1] + amount)
        return cls(tuple(t for t, _ in ordered), tuple(totals))

    def spend(self, start: datetime, end: datetime) -> int:
        """Total of purchases with start <= time < end."""
        lo = bisect.bisect_left(self.times, start)
        hi = bisect.bisect_left(self.times, end)
        return self.cumulative[hi] - self.cumulative[lo]

    def bought_between(self, start: datetime, end: datetime) -> bool:
        """Any purchase with start < time <= end."""
        i = bisect.bisect_right(self.times, start)
        return i < len(self.times) and self.times[i] <= end


EMPTY = PurchaseHistory((), (0,))


def band(value: int, bands: Sequence[tuple[int, str]]) -> str:
    label = bands[0][1]
    for threshold, name in bands:
        if value >= threshold:
            label = name
    return label


def cell(
    history: PurchaseHistory, joined_at: datetime, index: datetime
) -> tuple[str, str, int] | None:
    """(spend band, tenure band, prior spend) at ``index``; None if not yet a member."""
    if joined_at > index:
        return None
    prior = history.spend(index - timedelta(days=PRIOR_DAYS), index)
    tenure = (index - joined_at).days
    return band(prior, SPEND_BANDS), band(tenure, TENURE_BANDS), prior


@dataclass(frozen=True)
class RepurchaseComparison:
    days: int
    recovered: int
    recovered_repurchased: int
    matched_controls: int
    controls_repurchased: int
    unmatched: int
    recovered_rate: float | None
    control_rate: float | None
    difference: float | None
    ci95: tuple[float, float] | None


def match_and_compare(
    cases: Sequence[tuple[int, datetime]],
    controls: Sequence[int],
    joined: Mapping[int, datetime],
    histories: Mapping[int, PurchaseHistory],
    days: int,
) -> RepurchaseComparison:
    """Match each (member, index date) case to one never-complaining control, compare."""
    used: set[int] = set()
    pairs: list[tuple[bool, bool]] = []
    unmatched = 0
    follow_up = timedelta(days=days)
    for member_id, index in sorted(cases, key=lambda c: (c[1], c[0])):
        own = cell(histories.get(member_id, EMPTY), joined[member_id], index)
        control = _closest_control(own, controls, used, joined, histories, index)
        if own is None or control is None:
            unmatched += 1
            continue
        used.add(control)
        pairs.append(
            (
                histories.get(member_id, EMPTY).bought_between(index, index + follow_up),
                histories.get(control, EMPTY).bought_between(index, index + follow_up),
            )
        )
    return _compare(days, len(cases), pairs, unmatched)


def _closest_control(
    own: tuple[str, str, int] | None,
    controls: Sequence[int],
    used: set[int],
    joined: Mapping[int, datetime],
    histories: Mapping[int, PurchaseHistory],
    index: datetime,
) -> int | None:
    if own is None:
        return None
    best: tuple[int, int] | None = None
    for candidate in controls:
        if candidate in used:
            continue
        found = cell(histories.get(candidate, EMPTY), joined[candidate], index)
        if found is None or found[:2] != own[:2]:
            continue
        key = (abs(found[2] - own[2]), candidate)
        if best is None or key < best:
            best = key
    return None if best is None else best[1]


def _compare(
    days: int, cases: int, pairs: Sequence[tuple[bool, bool]], unmatched: int
) -> RepurchaseComparison:
    n = len(pairs)
    x1 = sum(1 for case, _ in pairs if case)
    x2 = sum(1 for _, control in pairs if control)
    if n == 0:
        return RepurchaseComparison(days, cases, 0, 0, 0, unmatched, None, None, None, None)
    difference, ci = newcombe_difference(x1, n, x2, n)
    return RepurchaseComparison(days, cases, x1, n, x2, unmatched, x1 / n, x2 / n, difference, ci)


def newcombe_difference(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, tuple[float, float]]:
    """p1 - p2 with the Newcombe (1998) hybrid score interval from Wilson intervals."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence=confidence)
    l2, u2 = wilson_interval(x2, n2, confidence=confidence)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, (lower, upper)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between order statistics; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
