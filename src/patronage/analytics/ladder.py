"""The loyalty ladder: prospect, expectation, first-time buyer, repeat buyer, advocate.

At a given date a known customer is a *prospect* until they show interest
(non-purchase interactions) and are then in *expectation*; one purchase day makes a
*first-time buyer*, two or more a *repeat buyer*; a repeat buyer who has referred
someone, or whose latest NPS answer is a promoter's (9-10), is an *advocate*. Referral
and NPS data are used only when given; without them nobody is called an advocate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from patronage.analytics.summary import purchase_days

STAGES = ("prospect", "expectation", "first-time buyer", "repeat buyer", "advocate")
PROMOTER = 9


@dataclass(frozen=True)
class LadderData:
    """Tables with customer_id and occurred_on (nps also has score; for customers the
    date is when they became known, e.g. joined the program)."""

    transactions: ir.Table
    interactions: ir.Table | None = None
    customers: ir.Table | None = None
    referrals: ir.Table | None = None
    nps: ir.Table | None = None


def _counts(table: ir.Table | None, day: date, name: str) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame({"customer_id": pd.Series(dtype=str), name: pd.Series(dtype="int64")})
    seen = table.filter(table.occurred_on <= ibis.literal(day))
    return seen.group_by("customer_id").agg(**{name: seen.count()}).to_pyarrow().to_pandas()


def _promoters(nps: ir.Table | None, day: date) -> pd.DataFrame:
    if nps is None:
        return pd.DataFrame(
            {"customer_id": pd.Series(dtype=str), "latest_score": pd.Series(dtype=float)}
        )
    seen = nps.filter(nps.occurred_on <= ibis.literal(day))
    latest = seen.group_by("customer_id").agg(latest_score=seen.score.argmax(seen.occurred_on))
    return latest.to_pyarrow().to_pandas()


def stages_at(data: LadderData, day: date) -> pd.DataFrame:
    """customer_id and stage for everyone known on ``day``."""
    frames = [
        _counts(purchase_days(data.transactions), day, "purchase_days"),
        _counts(data.interactions, day, "interactions"),
        _counts(data.customers, day, "known"),
        _counts(data.referrals, day, "referrals"),
        _promoters(data.nps, day),
    ]
    merged = frames[0].astype({"customer_id": str})  # integer ids in a file meet text ids
    for frame in frames[1:]:
        merged = merged.merge(frame.astype({"customer_id": str}), on="customer_id", how="outer")
    merged = merged.fillna({"purchase_days": 0, "interactions": 0, "referrals": 0})
    level = np.select(
        [merged["purchase_days"] >= 2, merged["purchase_days"] == 1, merged["interactions"] > 0],
        [3, 2, 1],
        default=0,
    )
    advocate = (merged["referrals"] > 0) | (merged["latest_score"].fillna(-1) >= PROMOTER)
    level = np.where((level == 3) & advocate, 4, level)
    stages = pd.DataFrame(
        {"customer_id": merged["customer_id"].astype(str), "stage": np.array(STAGES)[level]}
    )
    return stages.sort_values("customer_id", ignore_index=True)


def stage_counts(stages: pd.DataFrame) -> dict[str, int]:
    counts = stages["stage"].value_counts()
    return {s: int(counts.get(s, 0)) for s in STAGES}


def movement(
    before: pd.DataFrame, after: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per customer stage on both dates (NA if not yet known) and counts per move."""
    both = before.rename(columns={"stage": "stage_from"}).merge(
        after.rename(columns={"stage": "stage_to"}), on="customer_id", how="outer"
    )
    both["stage_from"] = both["stage_from"].fillna("not yet known")
    moves = both.groupby(["stage_from", "stage_to"]).size().reset_index(name="customers")
    rows = [
        {"from": r.stage_from, "to": r.stage_to, "customers": int(r.customers)}
        for r in moves.itertuples()
    ]
    return both.sort_values("customer_id", ignore_index=True), rows
