"""The platform's own database as an analytics source (read-only).

Purchases and refunds are ``events`` of type 'purchase' / 'refund' (refunds count
negative); every other event type is a non-purchase interaction (attention). Customers
are identified by ``members.external_id``; amounts are minor units, divided by 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import Engine, select

from patronage.errors import InvalidInput
from patronage.storage.db import make_engine
from patronage.storage.tables import EventRow, MemberRow

TRANSACTION_TYPES = ("purchase", "refund")


@dataclass(frozen=True)
class PlatformData:
    """Everything the analyses can use from the database, as Ibis tables."""

    transactions: ir.Table
    interactions: ir.Table
    items: ir.Table
    customers: ir.Table


def read_platform(con: BaseBackend, url: str) -> PlatformData:
    engine = make_engine(url)
    try:
        return read_platform_engine(con, engine)
    finally:
        engine.dispose()


def read_platform_engine(
    con: BaseBackend, engine: Engine, program_id: int | None = None
) -> PlatformData:
    """All programs' data, or one program's when ``program_id`` is given."""
    events, members = _fetch(engine, program_id)
    if not (events["type"].isin(TRANSACTION_TYPES)).any():
        raise InvalidInput("the database has no purchase or refund events", field="events")
    events["occurred_on"] = (
        pd.to_datetime(events["occurred_at"], utc=True).dt.tz_localize(None).dt.normalize()
    )
    is_tx = events["type"].isin(TRANSACTION_TYPES)
    tx = events[is_tx]
    sign = tx["type"].map({"purchase": 1, "refund": -1}).astype("int64")
    transactions = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].astype(str),
            "occurred_on": tx["occurred_on"],
            "amount": sign * tx["amount_minor"].fillna(0).abs().astype("float64") / 100.0,
            "is_purchase": tx["type"] == "purchase",
        }
    )
    interactions = events.loc[~is_tx, ["customer_id", "occurred_on", "type"]]
    customers = pd.DataFrame(
        {
            "customer_id": members["customer_id"].astype(str),
            "joined_on": pd.to_datetime(members["joined_at"], utc=True)
            .dt.tz_localize(None)
            .dt.normalize(),
        }
    )
    return PlatformData(
        transactions=_register(con, "transactions", transactions, "occurred_on"),
        interactions=_register(con, "interactions", interactions, "occurred_on"),
        items=_register(con, "items", _items(tx[tx["type"] == "purchase"]), "occurred_on"),
        customers=_register(con, "customers", customers, "joined_on"),
    )


def _fetch(engine: Engine, program_id: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    events_query = select(
        MemberRow.external_id.label("customer_id"),
        EventRow.type,
        EventRow.occurred_at,
        EventRow.amount_minor,
        EventRow.items,
    ).join(MemberRow, MemberRow.id == EventRow.member_id)
    members_query = select(MemberRow.external_id.label("customer_id"), MemberRow.joined_at)
    if program_id is not None:
        events_query = events_query.where(MemberRow.program_id == program_id)
        members_query = members_query.where(MemberRow.program_id == program_id)
    with engine.connect() as conn:
        events = pd.DataFrame(
            conn.execute(events_query).all(),
            columns=["customer_id", "type", "occurred_at", "amount_minor", "items"],
        )
        members = pd.DataFrame(
            conn.execute(members_query).all(), columns=["customer_id", "joined_at"]
        )
    return events, members


def _items(purchases: pd.DataFrame) -> pd.DataFrame:
    """One row per purchased line: customer, day, sku, category, quantity, price."""
    lines = (
        purchases[["customer_id", "occurred_on", "items"]].explode("items").dropna(subset=["items"])
    )
    detail = pd.json_normalize(lines["items"].tolist())
    return pd.DataFrame(
        {
            "customer_id": lines["customer_id"].astype(str).to_numpy(),
            "occurred_on": lines["occurred_on"].to_numpy(),
            "sku": _column(detail, "sku", str),
            "category": _column(detail, "category", str),
            "quantity": _column(detail, "quantity", float),
            "price": _column(detail, "price", float),
        }
    )


def _column(frame: pd.DataFrame, name: str, kind: Any) -> Any:
    if name not in frame.columns:
        return pd.Series([None] * len(frame), dtype=object if kind is str else "float64").to_numpy()
    return (
        frame[name].astype(kind).to_numpy() if kind is float else frame[name].astype(str).to_numpy()
    )


def _register(con: BaseBackend, name: str, frame: pd.DataFrame, date_col: str) -> ir.Table:
    table_name = f"patronage_{name}_{ibis.util.guid()[:8]}"
    if con.name == "duckdb":  # ibis 12's create_table from memory fails on duckdb 2
        con.con.register(table_name, pa.Table.from_pandas(frame, preserve_index=False))
        table = con.table(table_name)
    else:
        table = con.create_table(table_name, frame, overwrite=True)
    return table.mutate(**{date_col: table[date_col].cast("date")})
