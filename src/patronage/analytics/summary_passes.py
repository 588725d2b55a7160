"""How DuckDB computes the customer summary on large inputs.

Merging same-day purchases the plain way needs one group per customer and day, nearly
one per transaction. Two things keep that cheap on DuckDB:

- Passes: customers are split into disjoint sets (ranges of integer ids, hash buckets of
  text ids) of about ``rows_per_pass`` transactions, summarised one set at a time, so
  memory stays bounded by ``PATRONAGE_ANALYTICS_MEMORY_MB``. With ids clustered in the
  file, as exports usually are, DuckDB skips the row groups outside each range.
- Day bitmaps: when every transaction is a purchase and the days span at most
  ``MAX_BITMAP_DAYS``, one group per customer is enough: a bitmap of the days the
  customer bought on counts the distinct days exactly. Only customers who bought more
  than once on some day need a second look, for the amount of their first day.

Spark gets one pass and the plain expression (it manages its own memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from patronage.config import get_settings

BYTES_PER_TRANSACTION = 100
"""DuckDB's hash table for one (customer, day) group, measured with some margin."""
MAX_BITMAP_DAYS = 8192
"""Longest span of days summarised with day bitmaps (1 kB per customer)."""


@ibis.udf.agg.builtin(name="arg_min")  # type: ignore[untyped-decorator]
def duckdb_arg_min(arg: float, key: dt.Date) -> float:  # type: ignore[empty-body]
    """DuckDB's arg_min (Ibis's argmin becomes an ordered FIRST there, which sorts)."""


@ibis.udf.agg.builtin(name="bitstring_agg")  # type: ignore[untyped-decorator]
def _day_bitmap(day: dt.Int32, low: dt.Int32, high: dt.Int32) -> dt.Binary:
    """DuckDB's BIT value with one bit per day in [low, high]; declared binary for Ibis,
    only its bit count leaves DuckDB."""


@ibis.udf.scalar.builtin(name="bit_count")  # type: ignore[untyped-decorator]
def _bits_set(bits: dt.Binary) -> dt.Int64:
    """DuckDB's bit_count of a BIT value."""


@dataclass(frozen=True)
class SummaryPlan:
    """The passes, whether any transaction is a refund, and the day range (epoch days)
    when day bitmaps apply."""

    passes: list[ir.Table]
    refunds: bool = True
    day_range: tuple[int, int] | None = None

    @classmethod
    def of(cls, transactions: ir.Table, rows_per_pass: int | None = None) -> SummaryPlan:
        if transactions._find_backend().name != "duckdb":  # noqa: SLF001
            return cls([transactions])
        if rows_per_pass is None:
            rows_per_pass = get_settings().analytics_memory_mb * 2**20 // 4 // BYTES_PER_TRANSACTION
        ids, days = transactions.customer_id, transactions.occurred_on.epoch_days()
        numeric = ids.type().is_integer()
        stats = transactions.aggregate(
            rows=transactions.count(),
            refunds=(~transactions.is_purchase).any(),
            first_day=days.min(),
            last_day=days.max(),
            **({"low": ids.min(), "high": ids.max()} if numeric else {}),
        )
        found = stats.to_pyarrow().to_pylist()[0]
        refunds = bool(found["refunds"])
        span = (found["first_day"], found["last_day"])
        bitmaps = not refunds and found["rows"] > 0 and span[1] - span[0] < MAX_BITMAP_DAYS
        return cls(_passes(transactions, found, rows_per_pass), refunds, span if bitmaps else None)


def _passes(transactions: ir.Table, found: dict, rows_per_pass: int) -> list[ir.Table]:  # type: ignore[type-arg]
    passes = -(-found["rows"] // max(rows_per_pass, 1))
    if passes <= 1:
        return [transactions]
    ids = transactions.customer_id
    if not ids.type().is_integer():
        bucket = (ids.hash() % passes).abs()  # the hash is a signed 64-bit integer
        return [transactions.filter(bucket == i) for i in range(passes)]
    low, high = found["low"], found["high"]
    bounds = [low + (high - low + 1) * i // passes for i in range(passes + 1)]
    return [
        transactions.filter((ids >= start) & (ids < stop))
        for start, stop in zip(bounds, bounds[1:], strict=False)
        if stop > start
    ]


def summary_by_bitmaps(part: ir.Table, day_range: tuple[int, int]) -> pa.Table:
    """The summary columns of one pass of purchases, sorted by customer."""
    low, high = day_range
    day = part.occurred_on.epoch_days()
    offset = (day - low).cast("int32")
    per = part.group_by("customer_id").agg(
        first_day=day.min(),
        last_day=day.max(),
        rows=part.count(),
        days=_day_bitmap(offset, ibis.literal(0, "int32"), ibis.literal(high - low, "int32")),
        gross=part.amount.sum(),
        first_day_amount=duckdb_arg_min(part.amount, part.occurred_on),
    )
    per = per.mutate(purchase_days=_bits_set(per.days), revenue=per.gross)
    table = per.drop("days").order_by("customer_id").to_pyarrow()
    return _first_days_summed(part, table).drop_columns(["rows"])


def _first_days_summed(part: ir.Table, table: pa.Table) -> pa.Table:
    """arg_min took one transaction of the first day; customers who bought more than once
    on some day get the sum over their first day instead."""
    several = table.filter(pc.greater(table["rows"], table["purchase_days"]))
    if several.num_rows == 0:
        return table
    firsts = ibis.memtable(several.select(["customer_id", "first_day"]))
    joined = part.join(
        firsts,
        [part.customer_id == firsts.customer_id, part.occurred_on.epoch_days() == firsts.first_day],
    )
    sums = joined.group_by("customer_id").agg(amount=joined.amount.sum()).to_pyarrow()
    at = pc.index_in(table["customer_id"], value_set=sums["customer_id"])
    summed = pc.take(sums["amount"], at)
    amounts = pc.if_else(pc.is_valid(at), summed, table["first_day_amount"])
    index = table.schema.get_field_index("first_day_amount")
    return table.set_column(index, "first_day_amount", amounts)
