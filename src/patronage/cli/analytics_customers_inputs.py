"""Options and loading shared by the customer-analytics commands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from patronage.cli.common import database_url
from patronage.errors import InvalidInput

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    from ibis.backends import BaseBackend

    from patronage.analytics.platform_data import PlatformData

TransactionsOption = Annotated[
    Path | None,
    typer.Option("--transactions", help="Transactions file (CSV or Parquet) instead of --db."),
]
CustomerColOption = Annotated[str, typer.Option("--customer-col", help="Customer id column.")]
DateColOption = Annotated[str, typer.Option("--date-col", help="Date column (ISO 8601).")]
AmountColOption = Annotated[str, typer.Option("--amount-col", help="Amount column.")]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Analyse data up to this date (default: last purchase)."),
]
EngineOption = Annotated[str, typer.Option("--engine", help="duckdb (default) or spark.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", help="Write per-customer results (.csv or .parquet).")
]


@dataclass(frozen=True)
class Inputs:
    con: BaseBackend
    transactions: ir.Table
    platform: PlatformData | None
    as_of: date


def parse_date(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--{field}: {text!r} is not a date (YYYY-MM-DD)", field=field) from None


def load_inputs(
    db: str | None,
    transactions: Path | None,
    columns: tuple[str, str, str],
    as_of: str | None,
    engine: str = "duckdb",
) -> Inputs:
    """Open the engine and the transactions from --transactions or --db."""
    from patronage.analytics.engines import connect
    from patronage.analytics.platform_data import read_platform
    from patronage.analytics.sources import TransactionFile, read_transactions
    from patronage.analytics.summary import last_purchase_date

    if db and transactions:
        raise InvalidInput("give either --db or --transactions, not both", field="transactions")
    requested = parse_date(as_of, "as-of")
    con = connect(engine)
    if transactions is not None:
        spec = TransactionFile(transactions, *columns)
        table, platform = read_transactions(con, spec), None
    else:
        platform = read_platform(con, database_url(db))
        table = platform.transactions
    return Inputs(con, table, platform, requested or last_purchase_date(table))


def print_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, allow_nan=False))


def write_output(frame: pd.DataFrame, path: Path | None) -> None:
    if path is None:
        return
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
