"""The per-customer summary every analysis starts from, aggregated by Ibis.

Purchases on the same day are merged into one purchase (the convention of the
"buy till you die" literature). Days are counted as integer days since 1970-01-01 so
that DuckDB and Spark return identical numbers.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from patronage.errors import InvalidInput

SUMMARY_COLUMNS = (
    "customer_id",
    "first_day",
    "last_day",
    "purchase_days",
    "gross",
    "first_day_amount",
    "revenue",
)
EPOCH = date(1970, 1, 1)


def purchase_days(transactions: ir.Table) -> ir.Table:
    """One row per customer and day with a purchase, and that day's purchase amount."""
    bought = transactions.filter(transactions.is_purchase)
    return bought.group_by(["customer_id", "occurred_on"]).agg(amount=bought.amount.sum())


def customer_summary_expr(transactions: ir.Table, as_of: date) -> ir.Table:
    """first/last purchase day, purchase days, gross spend, first-day spend, net revenue.

    Two aggregations and no join: per customer and day, then per customer, with the
    purchase figures taken over days that had a purchase.
    """
    window = transactions.filter(transactions.occurred_on <= ibis.literal(as_of))
    daily = window.group_by(["customer_id", "occurred_on"]).agg(
        bought=window.amount.sum(where=window.is_purchase),
        net=window.amount.sum(),
        has_purchase=window.is_purchase.any(),
    )
    day, bought = daily.occurred_on, daily.has_purchase
    per = daily.group_by("customer_id").agg(
        first_on=day.min(where=bought),
        last_on=day.max(where=bought),
        purchase_days=daily.count(where=bought),
        gross=daily.bought.sum(where=bought),
        first_day_amount=daily.bought.argmin(day, where=bought),
        revenue=daily.net.sum(),
    )
    per = per.filter(per.purchase_days > 0)
    return per.select(
        "customer_id",
        first_day=per.first_on.epoch_days(),
        last_day=per.last_on.epoch_days(),
        purchase_days=per.purchase_days,
        gross=per.gross,
        first_day_amount=per.first_day_amount,
        revenue=per.revenue,
    )


def customer_summary(transactions: ir.Table, as_of: date) -> pd.DataFrame:
    """The summary as a pandas frame sorted by customer, with fixed dtypes."""
    frame = customer_summary_expr(transactions, as_of).to_pyarrow().to_pandas()
    if frame.empty:
        raise InvalidInput(f"no purchases on or before {as_of.isoformat()}", field="as_of")
    frame = frame.astype(
        {
            "customer_id": str,
            "first_day": "int64",
            "last_day": "int64",
            "purchase_days": "int64",
            "gross": "float64",
            "first_day_amount": "float64",
            "revenue": "float64",
        }
    )
    return frame.sort_values("customer_id", ignore_index=True)[list(SUMMARY_COLUMNS)]


def last_purchase_date(transactions: ir.Table) -> date:
    """The default as-of date: the last day anyone bought."""
    latest = transactions.filter(transactions.is_purchase).occurred_on.max().to_pyarrow().as_py()
    if latest is None:
        raise InvalidInput("no purchases in the data", field="transactions")
    return latest if isinstance(latest, date) else latest.date()


def day_number(day: date) -> int:
    return (day - EPOCH).days


def day_from_number(number: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(number))
