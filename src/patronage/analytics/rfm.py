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
    """1..5 by rank; higher values score higher; ties take the lowest rank of the tie."""
    n = len(values)
    ranks = pd.Series(values).rank(method="min").to_numpy(dtype=np.float64)
    return np.asarray(1 + np.floor(5 * (ranks - 1) / n), dtype=np.int64)


def segment_names(r: NDArray[np.int64], fm: NDArray[np.int64]) -> NDArray[np.str_]:
    names = np.full(len(r), "", dtype=object)
    for s in reversed(SEGMENTS):  # earlier segments win where grids overlap
        inside = (r >= s.recency[0]) & (r <= s.recency[1]) & (fm >= s.fm[0]) & (fm <= s.fm[1])
        names[inside] = s.name
    return names.astype(str)


def score(summary: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per customer: recency_days, frequency, monetary, R/F/M scores, rfm code, segment."""
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
            "rfm": (r * 100 + f * 10 + m).astype(str),
            "segment": segment_names(r, fm),
        }
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
