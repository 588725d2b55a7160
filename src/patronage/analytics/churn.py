"""Churn risk and the customer health grade (Good / Average / Poor), with reasons.

The risk is the model's probability that the customer has already stopped buying
(1 - P(alive)). The grade follows the health-score idea: Poor when the customer has
probably gone (or bought once long ago), Average when there are warning signs (slowing
pace, new and still in the first 90 days), Good otherwise. Each grade says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.analytics.clv import DAYS_PER_UNIT

POOR_ALIVE = 0.5
AVERAGE_ALIVE = 0.8
NEW_CUSTOMER_DAYS = 90
ONE_TIME_LAPSED_DAYS = 180
SLOWING_PACE = 0.5
GRADES = ("Good", "Average", "Poor")


def grade(predictions: pd.DataFrame, horizon: float, unit: str) -> pd.DataFrame:
    """Add churn_risk, health and reasons to per-customer predictions (from clv.predict)."""
    p_alive = predictions["p_alive"].to_numpy()
    x = predictions["frequency"].to_numpy()
    age_days = predictions["T"].to_numpy() * DAYS_PER_UNIT[unit]
    expected = predictions["expected_purchases"].to_numpy()
    past_pace = np.where(
        predictions["T"] > 0, x / np.maximum(predictions["T"].to_numpy(), 1e-9), 0.0
    )
    pace_due = past_pace * horizon
    checks = [
        (2, (x > 0) & (p_alive < POOR_ALIVE), "probably lapsed: P(alive) {p:.2f}"),
        (
            2,
            (x == 0) & (age_days > ONE_TIME_LAPSED_DAYS),
            "bought once, {age:.0f} days ago, never returned",
        ),
        (
            1,
            (x > 0) & (p_alive >= POOR_ALIVE) & (p_alive < AVERAGE_ALIVE),
            "slipping: P(alive) {p:.2f}",
        ),
        (
            1,
            (x > 0) & (expected < SLOWING_PACE * pace_due),
            "slowing: expects {e:.2f} purchases vs {due:.2f} at past pace",
        ),
        (1, (x == 0) & (age_days <= NEW_CUSTOMER_DAYS), "new customer in first 90 days: follow up"),
        (
            1,
            (x == 0) & (age_days > NEW_CUSTOMER_DAYS) & (age_days <= ONE_TIME_LAPSED_DAYS),
            "no second purchase after {age:.0f} days",
        ),
    ]
    level = np.zeros(len(x), dtype=np.int64)
    reasons = pd.Series([""] * len(x), dtype=object)
    for severity, hit, template in checks:
        level = np.where(hit, np.maximum(level, severity), level)
        text = _fill(template, p_alive, age_days, expected, pace_due)
        reasons = reasons.where(~hit, reasons + np.where(reasons == "", "", "; ") + text)
    healthy = _fill(
        "active: P(alive) {p:.2f}, expects {e:.2f} purchases", p_alive, age_days, expected, pace_due
    )
    out = predictions.copy()
    out["churn_risk"] = 1.0 - p_alive
    out["health"] = np.array(GRADES, dtype=object)[level]
    out["reasons"] = reasons.where(reasons != "", healthy).to_numpy()
    return out


def _fill(
    template: str, p: np.ndarray, age: np.ndarray, e: np.ndarray, due: np.ndarray
) -> pd.Series:
    """Format a reason for every customer with vectorised string building."""
    frame = pd.DataFrame({"p": p, "age": age, "e": e, "due": due})
    parts = template.replace("}", "}\0").split("\0")
    text = pd.Series([""] * len(frame), dtype=object)
    for part in parts:
        if "{" not in part:
            text = text + part
            continue
        head, spec = part.split("{")
        name, fmt = spec.rstrip("}").split(":")
        text = text + head + frame[name].map(("{:" + fmt + "}").format)
    return text


def grade_counts(graded: pd.DataFrame) -> dict[str, int]:
    counts = graded["health"].value_counts()
    return {g: int(counts.get(g, 0)) for g in GRADES}
