"""The per-customer summary every analysis starts from, aggregated by Ibis.

Purchases on the same day are merged into one purchase (the convention of the
"buy till you die" literature). Days are counted as integer days since 1970-01-01 so
that DuckDB and Spark return identical numbers.

On DuckDB, large inputs are summarised in passes and, without refunds, with day
bitmaps (see ``summary_passes``).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from patronage.analytics.summary_passes import SummaryPlan, duckdb_arg_min, summary_by_bitmaps
from patronage.errors import InvalidInput

SUMMARY_TYPES = {
    "first_day": "int64",
    "last_day": "int64",
    "purchase_days": "int64",
    "gross": "float64",
    "first_day_amount": "float64",
    "revenue": "float64",
}
SUMMARY_COLUMNS = ("customer_id", *SUMMARY_TYPES)
EPOCH = date(1970, 1, 1)


def purchase_days(transactions: ir.Table) -> ir.Table:
    """One row per customer and day with a purchase, and that day's purchase amount."""
    bought = transactions.filter(transactions.is_purchase)
    return bought.group_by(["customer_id", "occurred_on"]).agg(amount=bought.amount.sum())


def customer_summary_expr(transactions: ir.Table, as_of: date, refunds: bool = True) -> ir.Table:
    """first/last purchase day, purchase days, gross spend, first-day spend, net revenue.

    Two aggregations and no join: per customer and day, then per customer. With
    ``refunds=False`` the caller knows every transaction is a purchase, and one sum per
    day is enough.
    """
    window = transactions.filter(transactions.occurred_on <= ibis.literal(as_of))
    per = _with_refunds(window) if refunds else _purchases_only(window)
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


def _with_refunds(window: ir.Table) -> ir.Table:
    """Purchase figures over days with a purchase (``bought`` is NULL on refund-only days)."""
    daily = window.group_by(["customer_id", "occurred_on"]).agg(
        bought=window.amount.sum(where=window.is_purchase),
        net=window.amount.sum(),
    )
    day, has_purchase = daily.occurred_on, daily.bought.notnull()
    return daily.group_by("customer_id").agg(
        first_on=day.min(where=has_purchase),
        last_on=day.max(where=has_purchase),
        purchase_days=daily.bought.count(),
        gross=daily.bought.sum(),
        first_day_amount=_first_day_amount(daily, has_purchase),
        revenue=daily.net.sum(),
    )


def _purchases_only(window: ir.Table) -> ir.Table:
    daily = window.group_by(["customer_id", "occurred_on"]).agg(bought=window.amount.sum())
    per = daily.group_by("customer_id").agg(
        first_on=daily.occurred_on.min(),
        last_on=daily.occurred_on.max(),
        purchase_days=daily.count(),
        gross=daily.bought.sum(),
        first_day_amount=_first_day_amount(daily),
    )
    return per.mutate(revenue=per.gross)


def _first_day_amount(daily: ir.Table, where: ir.BooleanValue | None = None) -> ir.Value:
    if daily._find_backend().name == "duckdb":  # noqa: SLF001
        return duckdb_arg_min(daily.bought, daily.occurred_on, where=where)
    return daily.bought.argmin(daily.occurred_on, where=where)


def customer_summary(
    transactions: ir.Table, as_of: date, rows_per_pass: int | None = None
) -> pd.DataFrame:
    """The summary as a pandas frame sorted by customer, with fixed dtypes.

    ``rows_per_pass`` (default: from the memory setting) bounds how many transactions
    DuckDB groups at a time; the result does not depend on it.
    """
    window = transactions.filter(transactions.occurred_on <= ibis.literal(as_of))
    plan = SummaryPlan.of(window, rows_per_pass)
    table = pa.concat_tables([_summarise(part, as_of, plan) for part in plan.passes])
    if table.num_rows == 0:
        raise InvalidInput(f"no purchases on or before {as_of.isoformat()}", field="as_of")
    if len(plan.passes) > 1 and not window.customer_id.type().is_integer():  # hash buckets
        table = table.take(pc.sort_indices(table, [("customer_id", "ascending")]))
    columns = {"customer_id": table["customer_id"].cast(pa.string()).to_pandas()}
    for name, kind in SUMMARY_TYPES.items():
        columns[name] = table[name].to_numpy().astype(kind, copy=False)
    return pd.DataFrame(columns, copy=False)


def _summarise(part: ir.Table, as_of: date, plan: SummaryPlan) -> pa.Table:
    if plan.day_range is not None:
        return summary_by_bitmaps(part, plan.day_range).select(list(SUMMARY_COLUMNS))
    return customer_summary_expr(part, as_of, plan.refunds).order_by("customer_id").to_pyarrow()


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
