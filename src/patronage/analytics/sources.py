"""Where transactions come from: a CSV/Parquet file or the platform's database.

Every source becomes the same Ibis table of transactions:
``customer_id`` (integer when the file holds integer ids, which are cheaper to group,
otherwise string), ``occurred_on`` (date), ``amount`` (float64, refunds negative) and
``is_purchase`` (bool). Bad input stops here with a one-line InvalidInput.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from patronage.errors import InvalidInput

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class TransactionFile:
    """A transaction file and which of its columns hold customer, date and amount."""

    path: Path
    customer_col: str = "customer_id"
    date_col: str = "date"
    amount_col: str = "amount"
    allow_refunds: bool = False
    """When true, negative amounts are refunds; otherwise they are an error."""


def read_table_file(con: BaseBackend, path: Path, required: tuple[str, ...]) -> ir.Table:
    """Open a CSV (all columns read as text) or Parquet file and check its columns."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field=str(path))
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path.name} is empty", field=str(path))
    table = _open(con, path)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InvalidInput(
            f"column {missing[0]!r} not found in {path.name} (columns: {', '.join(table.columns)})",
            field=missing[0],
        )
    return table


def _open(con: BaseBackend, path: Path) -> ir.Table:
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            return con.read_parquet(str(path))
        if con.name == "pyspark":
            return con.read_csv(str(path), inferSchema=False, header=True)
        return con.read_csv(str(path), all_varchar=True, header=True)
    except Warning:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"cannot read {path.name}: {first_line}", field=str(path)) from None


def as_date(column: ir.Value) -> ir.DateValue:
    """Dates from text (ISO 8601 date or timestamp), dates or timestamps; bad text -> NULL."""
    kind = column.type()
    if kind.is_date():
        return column
    if kind.is_timestamp():
        return column.date()
    if kind.is_string():
        return column.strip().try_cast("timestamp").date()
    raise InvalidInput(
        f"column {column.get_name()!r} holds {kind}, not dates", field=column.get_name()
    )


def as_number(column: ir.Value) -> ir.FloatingValue:
    """Numbers from text or numbers; bad text -> NULL.

    Text is trimmed first: DuckDB would otherwise push the TRY_CAST into its CSV reader,
    which then fails on the bad value instead of yielding NULL.
    """
    if column.type().is_string():
        return column.strip().try_cast("float64")
    return column.try_cast("float64")


def read_transactions(con: BaseBackend, spec: TransactionFile) -> ir.Table:
    raw = read_table_file(con, spec.path, (spec.customer_col, spec.date_col, spec.amount_col))
    table = raw.select(
        customer_id=customer_ids(raw[spec.customer_col]),
        occurred_on=as_date(raw[spec.date_col]),
        amount=as_number(raw[spec.amount_col]),
        raw_date=raw[spec.date_col].cast("string"),
        raw_amount=raw[spec.amount_col].cast("string"),
    )
    check_transactions(table, spec)
    return table.select("customer_id", "occurred_on", "amount", is_purchase=table.amount >= 0)


def customer_ids(column: ir.Value) -> ir.Value:
    """Integer ids stay integers; anything else is compared as text."""
    return column if column.type().is_integer() else column.cast("string")


def check_transactions(table: ir.Table, spec: TransactionFile) -> None:
    """Refuse empty files, missing customers, unparsable dates and amounts, negatives."""
    no_customer = table.customer_id.isnull()
    if table.customer_id.type().is_string():
        no_customer |= table.customer_id == ""
    problems = [
        (no_customer, spec.customer_col, "no customer"),
        (table.occurred_on.isnull(), spec.date_col, "cannot parse date"),
        (table.amount.isnull() | table.amount.isnan(), spec.amount_col, "cannot parse amount"),
    ]
    if not spec.allow_refunds:
        problems.append((table.amount < 0, spec.amount_col, "negative amount (not allowed here)"))
    counts = (
        table.aggregate(
            rows=table.count(), **{f"bad{i}": p[0].sum() for i, p in enumerate(problems)}
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    if not counts["rows"]:
        raise InvalidInput(f"{spec.path.name} has no transactions", field=str(spec.path))
    for i, (condition, column, what) in enumerate(problems):
        if counts[f"bad{i}"]:
            _refuse_first(table, condition, column, what, int(counts[f"bad{i}"]))


def _refuse_first(
    table: ir.Table, condition: ir.BooleanValue, column: str, what: str, count: int
) -> None:
    numbered = table.mutate(row=ibis.row_number() + 1) if _keeps_order(table) else table
    row = numbered.filter(condition).limit(1).to_pyarrow().to_pylist()[0]
    where = f"row {row['row']}" if "row" in row else "a row"
    shown = row["raw_amount"] if "amount" in what else row["raw_date"]
    shown = row["customer_id"] if what == "no customer" else shown
    others = f" ({count - 1} more such rows)" if count > 1 else ""
    raise InvalidInput(
        f"column {column!r}, {where}: {what}: {shown!r}{others}", field=column, row=row.get("row")
    )


def _keeps_order(table: ir.Table) -> bool:
    """DuckDB numbers rows in file order; Spark needs an ORDER BY for row numbers."""
    return bool(table._find_backend().name == "duckdb")  # noqa: SLF001


def read_dated_file(
    con: BaseBackend,
    path: Path,
    id_col: str,
    numbers: tuple[str, ...] = (),
    texts: tuple[str, ...] = (),
) -> ir.Table:
    """A side file (interactions, referrals, NPS answers, line items) with customer and date.

    Columns: ``id_col`` (the customer), ``date`` and the given numeric and text columns.
    """
    raw = read_table_file(con, path, (id_col, "date", *numbers, *texts))
    table = raw.select(
        customer_id=raw[id_col].cast("string"),
        occurred_on=as_date(raw["date"]),
        **{n: as_number(raw[n]) for n in numbers},
        **{t: raw[t].cast("string") for t in texts},
    )
    bad = table.filter(table.occurred_on.isnull()).count().to_pyarrow().as_py()
    if bad:
        raise InvalidInput(f"{path.name}: column 'date' has {bad} unparsable dates", field="date")
    return table
