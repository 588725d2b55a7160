"""`patronage training ...`: the starter curriculum, seeding it into the database,
re-certification reminders, and the evaluation (levels 1-4) from files or the database."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from patronage.cli.common import DbOption, cli_errors, console
from patronage.errors import InvalidInput

app = typer.Typer(
    help="Staff loyalty training: the starter curriculum and its effect on customers.",
    no_args_is_help=True,
)


def read_table(path: Path, source: str) -> Any:
    """A CSV or Parquet file as a DataFrame, ids and times kept as text."""
    import pandas as pd

    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        text_columns = ["staff_id", "customer_id", "course_id", "occurred_at", "completed_at"]
        return pd.read_csv(path, dtype=dict.fromkeys(text_columns, "string"))
    except (ValueError, OSError) as exc:
        raise InvalidInput(f"cannot read {source} file {path}: {exc}", field=source) from None


def parse_money(value: str | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"{field} must be a number, got {value!r}", field=field) from None


@app.command()
def evaluate(
    outcome: Annotated[
        str,
        typer.Option(
            help="Outcome column of the file, or from the database: repeat_purchase_30d "
            "(any repeat_purchase_<N>d), spend, csat, nps, complaint_rate."
        ),
    ],
    interactions: Annotated[
        Path | None,
        typer.Option(
            help="CSV/Parquet: staff_id, customer_id, occurred_at and the outcome column.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    trainings: Annotated[
        Path | None,
        typer.Option(
            help="CSV/Parquet: staff_id, course_id, completed_at. Staff not listed are controls.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    db: DbOption = None,
    course: Annotated[str | None, typer.Option(help="Only completions of this course.")] = None,
    period: Annotated[str, typer.Option(help="Period length: month or week.")] = "month",
    tz: Annotated[
        str, typer.Option("--tz", help="Zone for periods and offset-less times.")
    ] = "UTC",
    value_per_unit: Annotated[
        str | None, typer.Option(help="Value of one unit of outcome per interaction (ROI).")
    ] = None,
    cost: Annotated[str | None, typer.Option(help="Total training cost (ROI).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Effect of training on the customers staff served (staggered difference-in-differences),
    from files (--interactions and --trainings) or from the database (--db)."""
    from patronage.analytics.training_effect import evaluate_training
    from patronage.analytics.training_panel import PeriodUnit
    from patronage.analytics.training_report import effect_payload, roi_payload

    with cli_errors():
        if period not in {u.value for u in PeriodUnit}:
            raise InvalidInput("period must be month or week", field="period")
        value, spent = parse_money(value_per_unit, "value_per_unit"), parse_money(cost, "cost")
        if (value is None) != (spent is None):
            raise InvalidInput("ROI needs both --value-per-unit and --cost", field="cost")
        roi = None if value is None or spent is None else (value, spent)
        if interactions is None and trainings is None:
            payload = _evaluate_database(db, outcome, course, period, _zone(tz), roi)
        elif interactions is None or trainings is None:
            raise InvalidInput(
                "give both --interactions and --trainings, or --db", field="trainings"
            )
        else:
            result = evaluate_training(
                read_table(interactions, "interactions"),
                read_table(trainings, "trainings"),
                outcome,
                course=course,
                unit=PeriodUnit(period),
                tz=_zone(tz),
            )
            payload = effect_payload(result)
            if roi is not None:
                payload["roi"] = roi_payload(result, *roi)
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        _print_effect(payload, outcome)


def _evaluate_database(
    db: str | None,
    outcome: str,
    course: str | None,
    period: str,
    tz: str,
    roi: tuple[Decimal, Decimal] | None,
) -> dict[str, Any]:
    from patronage.cli.operations import database
    from patronage.services.training_evaluation import training_impact
    from patronage.storage.uow import UnitOfWork

    with database(db) as engine:
        return training_impact(UnitOfWork(engine), outcome, course, period, tz, roi)


def _zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", field="tz") from None
    return name


def _print_effect(payload: dict[str, Any], outcome: str) -> None:
    lo, hi = payload["ci95"]
    console.print(
        f"Effect of training on {outcome}: [bold]{payload['effect']:+.4f}[/bold] "
        f"(95% CI {lo:+.4f} to {hi:+.4f})"
    )
    console.print(
        f"{payload['staff_treated']} trained staff, {payload['staff_control']} "
        f"never-trained staff, {payload['interactions']} interactions"
    )
    table = Table("period", "effect", "95% CI", title="Event study (0 = training period)")
    for point in payload["event_study"]:
        low, high = point["ci95"]
        table.add_row(str(point["period"]), f"{point['effect']:+.4f}", f"{low:+.4f} .. {high:+.4f}")
    console.print(table)
    if payload["pre_trend"] is not None:
        test = payload["pre_trend"]
        console.print(
            f"Pre-trend joint test: chi2({test['df']}) = {test['statistic']:.2f}, "
            f"p = {test['p_value']:.3f}"
        )
    if "roi" in payload:
        console.print(f"ROI (Phillips): {payload['roi']['roi_percent']}%")
    console.print(f"[dim]{payload['method']}[/dim]")


@app.command()
def curriculum(
    lang: Annotated[str, typer.Option(help="Language: en or zh-CN.")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the modules of the built-in starter curriculum."""
    from patronage.training.starter import load_starter_course, module_summaries

    with cli_errors():
        rows = module_summaries(load_starter_course(lang))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("#", "module", "title", "activities", title=f"Starter curriculum ({lang})")
    for number, row in enumerate(rows, start=1):
        table.add_row(str(number), row["id"], row["title"], ", ".join(row["activities"]))
    console.print(table)


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=str))


@app.command()
def seed(
    lang: Annotated[str, typer.Option(help="Language: en, zh-CN or both.")] = "both",
    db: DbOption = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A folder with a course of your own (course.yaml and module files, "
            "the starter's format) instead of the starter curriculum.",
        ),
    ] = None,
) -> None:
    """Install the starter curriculum (or --from a course of your own) into the database
    (running it again changes nothing)."""
    from patronage.cli.operations import database
    from patronage.services.training import install_course, seed_curriculum
    from patronage.storage.uow import UnitOfWork
    from patronage.training.starter import LANGUAGES

    with cli_errors():
        if lang != "both" and lang not in LANGUAGES:
            raise InvalidInput("--lang must be en, zh-CN or both", field="lang")
        with database(db) as engine:
            if source is not None:
                language = None if lang == "both" else lang
                results = [install_course(UnitOfWork(engine), source, language)]
            else:
                languages = LANGUAGES if lang == "both" else [lang]
                results = seed_curriculum(UnitOfWork(engine), languages)
    for row in results:
        console.print(f"course {row['code']} ({row['language']}): {row['status']}, id {row['id']}")


@app.command()
def reminders(
    db: DbOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date or time (UTC if no zone); default now.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List staff whose certificate is due for re-certification or has expired."""
    from patronage.cli.operations import database, parse_as_of
    from patronage.services.training_progress import due_reminders
    from patronage.storage.uow import UnitOfWork

    with cli_errors():
        when = parse_as_of(as_of)
        with database(db) as engine:
            rows = due_reminders(UnitOfWork(engine), when)
    if as_json:
        _echo_json(rows)
        return
    table = Table("staff", "name", "store", "course", "expires", "status", title="Re-certification")
    for row in rows:
        table.add_row(
            row["staff_id"], row["name"], row["store"] or "", str(row["course_id"]),
            row["expires_at"].date().isoformat(), row["status"],
        )  # fmt: skip
    console.print(table)


@app.command()
def kirkpatrick(
    db: DbOption = None,
    course: Annotated[str | None, typer.Option(help="Course code for level 3.")] = None,
) -> None:
    """Levels 1-3 from the database as JSON: reactions by store, learning gain, behaviour."""
    from patronage.cli.operations import database
    from patronage.services.training_evaluation import kirkpatrick as report
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        payload = report(UnitOfWork(engine), course)
    _echo_json(payload)
