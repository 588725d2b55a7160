"""RFM: recency, frequency and monetary value, quintile scores and named segments.

Scores are quintiles of the customers' ranks (5 = best). Tied customers share the lower
score, so the result does not depend on row order. Segments follow the common R x FM
grid, where FM is the mean of the F and M scores rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from patronage.analytics.summary import day_number


@dataclass(frozen=True)
class Segment:
    name: str
    recency: tuple[int, int]
    fm: tuple[int, int]
    action: str


SEGMENTS = (
    Segment(
        "Champions", (4, 5), (4, 5), "Reward them; early access, ask for reviews and referrals."
    ),
    Segment("Loyal", (3, 3), (4, 5), "Upsell higher-value products; invite to the loyalty tier."),
    Segment(
        "Potential loyalists", (4, 5), (2, 3), "Offer membership and personalised recommendations."
    ),
    Segment("New", (5, 5), (1, 1), "Onboard well: first-90-days follow-up, easy second purchase."),
    Segment(
        "Promising", (4, 4), (1, 1), "Build awareness of the range; a modest incentive to return."
    ),
    Segment(
        "Need attention", (3, 3), (2, 3), "Limited-time, personalised offers before they drift."
    ),
    Segment("About to sleep", (3, 3), (1, 1), "Share popular products; reconnect with a reminder."),
    Segment("Can't lose them", (1, 2), (5, 5), "Win them back personally; ask what went wrong."),
    Segment(
        "At risk", (1, 2), (3, 4), "Personal outreach and renewal offers; listen to complaints."
    ),
    Segment("Hibernating", (1, 2), (2, 2), "Offer relevant products and special discounts."),
    Segment("Lost", (1, 2), (1, 1), "Revive with a broad campaign or let go; do not overspend."),
)
ACTIONS = {s.name: s.action for s in SEGMENTS}


def quintile_scores(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """1..5 by rank; higher values score higher; ties take the lowest rank of the tie.

    The score is 1 + floor(5 (rank - 1) / n) with rank - 1 the number of smaller values.
    That reaches j + 1 when at least k_j = ceil(j n / 5) values are smaller, i.e. when the
    value exceeds the k_j-th smallest: four comparisons with cut points of the sorted values.
    """
    n = len(values)
    scores = np.ones(n, dtype=np.int64)
    if n:
        ordered = np.sort(values)
        for j in range(1, 5):
            scores += values > ordered[-(-j * n // 5) - 1]
    return scores


def _segment_grid() -> NDArray[np.intp]:
    """grid[R - 1, FM - 1] = index of the segment in SEGMENTS (-1: none)."""
    grid = np.full((5, 5), -1, dtype=np.intp)
    for i, s in reversed(list(enumerate(SEGMENTS))):  # earlier segments win where grids overlap
        grid[s.recency[0] - 1 : s.recency[1], s.fm[0] - 1 : s.fm[1]] = i
    return grid


SEGMENT_GRID = _segment_grid()
RFM_CODES = [f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]


def segment_names(r: NDArray[np.int64], fm: NDArray[np.int64]) -> pd.Categorical:
    return pd.Categorical.from_codes(
        SEGMENT_GRID[r - 1, fm - 1], categories=[s.name for s in SEGMENTS]
    )


def score(summary: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per customer: recency_days, frequency, monetary, R/F/M scores, rfm code, segment.

    The rfm code and the segment are categorical columns (a handful of labels shared by
    all customers).
    """
    recency = day_number(as_of) - summary["last_day"].to_numpy()
    frequency = summary["purchase_days"].to_numpy()
    monetary = summary["revenue"].to_numpy(dtype=np.float64)
    r = quintile_scores(-recency.astype(np.float64))
    f = quintile_scores(frequency.astype(np.float64))
    m = quintile_scores(monetary)
    fm = (f + m + 1) // 2
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "recency_days": recency,
            "frequency": frequency,
            "monetary": monetary,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm": pd.Categorical.from_codes((r - 1) * 25 + (f - 1) * 5 + m - 1, RFM_CODES),
            "segment": segment_names(r, fm),
        },
        copy=False,
    )


def segment_table(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """Customers, revenue and revenue share per segment, in the order of SEGMENTS."""
    total = float(scored["monetary"].sum())
    grouped = scored.groupby("segment")["monetary"].agg(["count", "sum"])
    rows = []
    for s in SEGMENTS:
        count, revenue = (
            (int(grouped.loc[s.name, "count"]), float(grouped.loc[s.name, "sum"]))
            if s.name in grouped.index
            else (0, 0.0)
        )
        rows.append(
            {
                "segment": s.name,
                "customers": count,
                "customer_share": count / len(scored),
                "revenue": round(revenue, 2),
                "revenue_share": revenue / total if total else 0.0,
                "action": s.action,
            }
        )
    return rows
