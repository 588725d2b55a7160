"""`patronage coupons ...`: design a batch, generate its codes, import a code pool."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from patronage.cli.common import DbOption, cli_errors, console, err_console
from patronage.cli.operations import database
from patronage.errors import InvalidInput

app = typer.Typer(
    help="Coupon batches: design, generate codes, import a code pool.", no_args_is_help=True
)
BatchOpt = Annotated[int, typer.Option("--batch", min=1, help="The coupon batch id.")]


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--{name}: {value!r} is not a date or time", field=name) from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"--{name} needs a time zone, e.g. +08:00 or Z", field=name)
    return parsed


@app.command("new-batch")
def new_batch(
    name: Annotated[str, typer.Option(help="What the batch is for.")],
    db: DbOption = None,
    percent: Annotated[int | None, typer.Option(help="Percent off (1-100).")] = None,
    amount_off: Annotated[int | None, typer.Option(help="Fixed amount off, minor units.")] = None,
    free_sku: Annotated[str | None, typer.Option(help="A free item, by sku.")] = None,
    max_redemptions: Annotated[int, typer.Option(help="Uses per code (1: single use).")] = 1,
    per_member_limit: Annotated[int | None, typer.Option(help="Uses per member.")] = None,
    valid_from: Annotated[str | None, typer.Option(help="ISO time with zone.")] = None,
    expires_at: Annotated[str | None, typer.Option(help="ISO time with zone.")] = None,
    campaign: Annotated[str | None, typer.Option(help="The campaign id, if any.")] = None,
    program: Annotated[str, typer.Option(help="Program code.")] = "default",
) -> None:
    """Create a coupon batch (exactly one of --percent, --amount-off, --free-sku);
    prints its id as the last line."""
    from patronage.domain.coupons import Discount
    from patronage.services.coupon_batches import NewBatch, create_batch
    from patronage.storage.uow import UnitOfWork

    with cli_errors():
        offers: list[tuple[str, int | None]] = [("percent", percent), ("fixed", amount_off)]
        given: list[tuple[str, int | None]] = [(t, v) for t, v in offers if v is not None]
        if free_sku is not None:
            given.append(("free_item", None))
        if len(given) != 1:
            raise InvalidInput("give one of --percent, --amount-off, --free-sku", field="discount")
        kind, value = given[0]
        request = NewBatch(
            name=name,
            discount=Discount(kind, value, free_sku),
            program=program,
            max_redemptions=max_redemptions,
            per_member_limit=per_member_limit,
            valid_from=_when(valid_from, "valid-from"),
            expires_at=_when(expires_at, "expires-at"),
            campaign_id=campaign,
        )
        with database(db) as engine:
            made = create_batch(UnitOfWork(engine), request, actor="cli")
    err_console.print(f"created coupon batch {made.name!r}")
    print(made.id)  # noqa: T201 - the id alone on stdout, for scripts


@app.command("generate")
def generate(
    batch: BatchOpt,
    count: Annotated[int, typer.Option("--count", min=1, help="How many codes.")],
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option(help="Write the codes to this CSV file.")] = None,
) -> None:
    """Generate unique codes for a batch (one transaction), with a progress bar."""
    from patronage.services.coupon_batches import generate_codes
    from patronage.storage.uow import UnitOfWork

    columns = (
        TextColumn("generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with cli_errors(), database(db) as engine:
        if output is not None and output.exists() and output.is_dir():
            raise InvalidInput(f"--output {output} is a directory", field="output")
        with Progress(*columns, console=err_console) as bar:
            task = bar.add_task("codes", total=count)
            codes = generate_codes(
                UnitOfWork(engine), batch, count, progress=lambda n: bar.update(task, completed=n)
            )
    if output is not None:
        with output.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["code"])
            writer.writerows([code] for code in codes)
        console.print(f"{len(codes):,} codes added to batch {batch}, written to {output}")
    else:
        console.print(f"{len(codes):,} codes added to batch {batch}")


@app.command("import")
def import_pool(
    file: Annotated[Path, typer.Argument(help="CSV: a 'code' column, or codes in column 1.")],
    batch: BatchOpt,
    db: DbOption = None,
) -> None:
    """Import an external code pool into a batch, all or nothing; codes already in
    the batch are skipped, so a re-run is safe."""
    from patronage.services.coupon_batches import import_codes, read_pool
    from patronage.storage.uow import UnitOfWork

    with cli_errors():
        codes, first_line = read_pool(file)
        with database(db) as engine:
            added = import_codes(UnitOfWork(engine), batch, codes, first_line=first_line)
    console.print(
        f"{added.added:,} codes imported into batch {batch}, {added.skipped:,} already there"
    )
