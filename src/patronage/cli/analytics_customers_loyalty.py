"""`patronage analytics ladder|loyalty-index`: the loyalty ladder and the loyalty index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from patronage.cli.analytics import app
from patronage.cli.analytics_customers_inputs import (
    AmountColOption,
    AsOfOption,
    CustomerColOption,
    DateColOption,
    EngineOption,
    Inputs,
    JsonOption,
    OutputOption,
    TransactionsOption,
    load_inputs,
    parse_date,
    print_json,
    write_output,
)
from patronage.cli.common import DbOption, cli_errors, console

InteractionsOption = Annotated[
    Path | None,
    typer.Option("--interactions", help="customer_id,date[,type]: visits, views, app opens."),
]


def _interactions(inputs: Inputs, path: Path | None):  # type: ignore[no-untyped-def]
    from patronage.analytics.sources import read_dated_file

    if path is not None:
        return read_dated_file(inputs.con, path, "customer_id")
    return inputs.platform.interactions if inputs.platform is not None else None


@app.command("ladder")
def ladder(
    db: DbOption = None,
    transactions: TransactionsOption = None,
    customer_col: CustomerColOption = "customer_id",
    date_col: DateColOption = "date",
    amount_col: AmountColOption = "amount",
    as_of: AsOfOption = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Also show movement since this date.")
    ] = None,
    interactions: InteractionsOption = None,
    referrals: Annotated[Path | None, typer.Option("--referrals", help="referrer_id,date.")] = None,
    nps: Annotated[
        Path | None, typer.Option("--nps", help="customer_id,date,score (0-10).")
    ] = None,
    customers: Annotated[
        Path | None, typer.Option("--customers", help="customer_id,date (joined).")
    ] = None,
    engine: EngineOption = "duckdb",
    json: JsonOption = False,
    output: OutputOption = None,
) -> None:
    """Loyalty-ladder stage counts, and movement between --from and --as-of."""
    from patronage.analytics import ladder as loyalty_ladder
    from patronage.analytics.sources import read_dated_file

    with cli_errors():
        inputs = load_inputs(db, transactions, (customer_col, date_col, amount_col), as_of, engine)
        known = read_dated_file(inputs.con, customers, "customer_id") if customers else None
        if known is None and inputs.platform is not None:
            known = inputs.platform.customers.rename(occurred_on="joined_on")
        data = loyalty_ladder.LadderData(
            transactions=inputs.transactions,
            interactions=_interactions(inputs, interactions),
            customers=known,
            referrals=read_dated_file(inputs.con, referrals, "referrer_id") if referrals else None,
            nps=read_dated_file(inputs.con, nps, "customer_id", numbers=("score",))
            if nps
            else None,
        )
        after = loyalty_ladder.stages_at(data, inputs.as_of)
        payload: dict[str, object] = {
            "as_of": inputs.as_of,
            "stages": loyalty_ladder.stage_counts(after),
        }
        start = parse_date(since, "from")
        per_customer = after
        if start is not None:
            per_customer, moves = loyalty_ladder.movement(
                loyalty_ladder.stages_at(data, start), after
            )
            payload.update(
                {
                    "from": start,
                    "stages_from": loyalty_ladder.stage_counts(
                        per_customer[per_customer["stage_from"] != "not yet known"].rename(
                            columns={"stage_from": "stage"}
                        )
                    ),
                    "movement": moves,
                }
            )
        write_output(per_customer, output)
        if json:
            print_json(payload)
            return
        console.print(payload)


@app.command("loyalty-index")
def loyalty_index(
    db: DbOption = None,
    transactions: TransactionsOption = None,
    customer_col: CustomerColOption = "customer_id",
    date_col: DateColOption = "date",
    amount_col: AmountColOption = "amount",
    as_of: AsOfOption = None,
    interactions: InteractionsOption = None,
    items: Annotated[
        Path | None, typer.Option("--items", help="customer_id,date,sku,quantity,price.")
    ] = None,
    category_spend: Annotated[
        Path | None,
        typer.Option(
            "--category-spend",
            help="customer_id,category_spend: the customer's whole spend in the category.",
        ),
    ] = None,
    engine: EngineOption = "duckdb",
    json: JsonOption = False,
    output: OutputOption = None,
) -> None:
    """Per-customer loyalty measures (repeat, share of wallet, attention, decision time,
    price sensitivity), each on its own; missing ones are marked, never invented."""
    from patronage.analytics import loyalty_index as index
    from patronage.analytics.sources import read_dated_file, read_table_file
    from patronage.analytics.summary import customer_summary

    with cli_errors():
        inputs = load_inputs(db, transactions, (customer_col, date_col, amount_col), as_of, engine)
        lines = (
            read_dated_file(inputs.con, items, "customer_id", ("quantity", "price"), ("sku",))
            if items
            else None
        )
        if lines is None and inputs.platform is not None:
            lines = inputs.platform.items
        wallet = None
        if category_spend is not None:
            raw = read_table_file(inputs.con, category_spend, ("customer_id", "category_spend"))
            wallet = (
                raw.select(
                    customer_id=raw.customer_id.cast("string"),
                    category_spend=raw.category_spend.cast("float64"),
                )
                .to_pyarrow()
                .to_pandas()
            )
        data = index.LoyaltyData(
            inputs.transactions, _interactions(inputs, interactions), lines, wallet
        )
        frame, missing = index.components(
            data, customer_summary(inputs.transactions, inputs.as_of), inputs.as_of
        )
        write_output(frame, output)
        payload = {
            "as_of": inputs.as_of,
            "customers": len(frame),
            "missing_components": missing,
            "available_components": [c for c in index.COMPONENTS if c not in missing],
            "medians": {
                c: (None if frame[c].isna().all() else float(frame[c].median()))
                for c in index.COMPONENTS
            },
        }
        if json:
            print_json(payload)
            return
        console.print(payload)
