"""The five behavioural measures of loyalty, per customer, each reported on its own.

1. repeat purchases: purchase days after the first (always available);
2. share of category spend: our revenue / the customer's whole category spend
   (needs a category-spend file);
3. attention: non-purchase interactions (visits, views, app opens);
4. decision time: days from the first interaction to the first purchase (shorter is
   more loyal; only when an interaction precedes the purchase);
5. price sensitivity: the price elasticity of quantity bought, the within-SKU slope of
   log quantity on log price (needs line items with at least two prices per SKU).
A measure the data cannot give is NaN and listed as missing, never invented. The index is
the mean of the available measures' percentile ranks, each oriented so higher is more loyal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

COMPONENTS = (
    "repeat_purchases",
    "share_of_category_spend",
    "attention",
    "decision_days",
    "price_elasticity",
)
LOYAL_DIRECTION = {
    "repeat_purchases": 1,
    "share_of_category_spend": 1,
    "attention": 1,
    "decision_days": -1,
    "price_elasticity": 1,
}
"""Elasticity is usually negative: closer to zero (higher) means less price-sensitive."""


@dataclass(frozen=True)
class LoyaltyData:
    transactions: ir.Table
    interactions: ir.Table | None = None
    items: ir.Table | None = None
    category_spend: pd.DataFrame | None = None


def _frame(expr: ir.Table) -> pd.DataFrame:
    return expr.to_pyarrow().to_pandas().astype({"customer_id": str})


def attention_and_decision(
    interactions: ir.Table, transactions: ir.Table, as_of: date
) -> pd.DataFrame:
    seen = interactions.filter(interactions.occurred_on <= ibis.literal(as_of))
    per = seen.group_by("customer_id").agg(
        attention=seen.count(), first_seen=seen.occurred_on.min()
    )
    bought = transactions.filter(
        transactions.is_purchase & (transactions.occurred_on <= ibis.literal(as_of))
    )
    first_buy = bought.group_by(customer_id=bought.customer_id.cast("string")).agg(
        first_buy=bought.occurred_on.min()
    )
    joined = per.left_join(first_buy, "customer_id")
    waited = joined.first_buy.epoch_days() - joined.first_seen.epoch_days()
    return _frame(
        joined.select(
            customer_id=joined.customer_id,
            attention=joined.attention,
            decision_days=ibis.ifelse(waited >= 0, waited, ibis.null()).cast("float64"),
        )
    )


def price_elasticity(items: ir.Table, as_of: date) -> pd.DataFrame:
    """Per customer: sum((lp - mean_lp)(lq - mean_lq)) / sum((lp - mean_lp)^2) within SKU."""
    lines = items.filter(
        (items.occurred_on <= ibis.literal(as_of)) & (items.price > 0) & (items.quantity > 0)
    )
    lines = lines.mutate(lp=lines.price.ln(), lq=lines.quantity.ln())
    means = lines.group_by(["customer_id", "sku"]).agg(mlp=lines.lp.mean(), mlq=lines.lq.mean())
    centred = lines.join(means, ["customer_id", "sku"])
    dp, dq = centred.lp - centred.mlp, centred.lq - centred.mlq
    sums = centred.group_by("customer_id").agg(sxy=(dp * dq).sum(), sxx=(dp * dp).sum())
    slope = ibis.ifelse(sums.sxx > 1e-12, sums.sxy / sums.sxx, ibis.null())
    return _frame(sums.select(customer_id=sums.customer_id, price_elasticity=slope.cast("float64")))


def components(
    data: LoyaltyData, summary: pd.DataFrame, as_of: date
) -> tuple[pd.DataFrame, list[str]]:
    """Per-customer components (NaN where missing) and the names of missing components."""
    out = pd.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "repeat_purchases": (summary["purchase_days"] - 1).astype("float64"),
        }
    )
    missing = []
    if data.category_spend is not None:
        wallet = data.category_spend.astype({"customer_id": str})
        out = out.merge(wallet, on="customer_id", how="left")
        out["share_of_category_spend"] = summary["revenue"].to_numpy() / out.pop("category_spend")
    else:
        missing.append("share_of_category_spend")
    if data.interactions is not None:
        out = out.merge(
            attention_and_decision(data.interactions, data.transactions, as_of),
            on="customer_id",
            how="left",
        )
        out["attention"] = out["attention"].fillna(0.0)
    else:
        missing += ["attention", "decision_days"]
    if data.items is not None:
        out = out.merge(price_elasticity(data.items, as_of), on="customer_id", how="left")
    else:
        missing.append("price_elasticity")
    for name in missing:
        out[name] = np.nan
    return _with_index(out[["customer_id", *COMPONENTS]]), missing


def _with_index(frame: pd.DataFrame) -> pd.DataFrame:
    ranks = pd.DataFrame(
        {name: (frame[name] * LOYAL_DIRECTION[name]).rank(pct=True) for name in COMPONENTS}
    )
    frame = frame.copy()
    frame["components_used"] = ranks.notna().sum(axis=1)
    frame["loyalty_index"] = ranks.mean(axis=1, skipna=True) * 100
    return frame
