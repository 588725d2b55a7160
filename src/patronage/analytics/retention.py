"""Repurchase rate, time between purchases and monthly acquisition cohorts.

A customer's cohort is the calendar month of their first purchase; cell (cohort, k) is
the share of the cohort that bought in the k-th month after it (k = 0 is 100%).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from patronage.analytics.summary import purchase_days


def cohort_counts_expr(transactions: ir.Table, as_of: date) -> ir.Table:
    """Distinct buyers per (cohort month, months since cohort); months as year*12+month-1."""
    days = purchase_days(transactions.filter(transactions.occurred_on <= ibis.literal(as_of)))
    month = days.occurred_on.year() * 12 + days.occurred_on.month() - 1
    monthly = days.select("customer_id", month=month)
    first = monthly.group_by("customer_id").agg(cohort=monthly.month.min())
    joined = monthly.join(first, "customer_id")
    return joined.group_by(cohort=joined.cohort, offset=joined.month - joined.cohort).agg(
        customers=joined.customer_id.nunique()
    )


def cohort_matrix(counts: pd.DataFrame, as_of: date) -> list[dict[str, Any]]:
    """Per cohort: label 'YYYY-MM', size, and retention shares for each month observed."""
    table = counts.pivot_table(index="cohort", columns="offset", values="customers", fill_value=0)
    latest = as_of.year * 12 + as_of.month - 1
    table = table.reindex(columns=range(latest - int(table.index.min()) + 1), fill_value=0)
    rows = []
    for cohort, row in table.sort_index().iterrows():  # one row per month, not per transaction
        size = int(row[0])
        observed = latest - int(cohort) + 1
        rows.append(
            {
                "cohort": f"{int(cohort) // 12:04d}-{int(cohort) % 12 + 1:02d}",
                "customers": size,
                "retention": [round(float(v) / size, 6) for v in row.to_numpy()[:observed]],
            }
        )
    return rows


def repurchase(summary: pd.DataFrame) -> dict[str, Any]:
    """Share of customers with a second purchase day; gaps between purchase days."""
    days = summary["purchase_days"].to_numpy()
    span = (summary["last_day"] - summary["first_day"]).to_numpy()
    repeaters = days >= 2
    gaps = span[repeaters] / (days[repeaters] - 1)
    return {
        "customers": len(days),
        "repeat_customers": int(repeaters.sum()),
        "repurchase_rate": float(repeaters.mean()) if len(days) else 0.0,
        "days_between_purchases": {
            "mean": float(span[repeaters].sum() / (days[repeaters] - 1).sum())
            if repeaters.any()
            else None,
            "median_of_customer_means": float(np.median(gaps)) if repeaters.any() else None,
        },
    }
