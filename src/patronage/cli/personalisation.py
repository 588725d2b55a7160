"""`patronage recommend ...` and `patronage membership ...`."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from patronage.cli.common import DbOption, cli_errors, console
from patronage.cli.operations import database, parse_as_of

recommend_app = typer.Typer(
    help="Product recommendations and next best offers.", no_args_is_help=True
)
membership_app = typer.Typer(
    help="Paid membership (plans, renewals, report).", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print_json(data: object) -> None:
    console.print_json(json.dumps(data, default=str))


@recommend_app.command("train")
def recommend_train(
    db: DbOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Train on events before this time.")
    ] = None,
) -> None:
    """Train the item-to-item model on purchases and views and store it."""
    from patronage.services.recommendations import train
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        report = train(UnitOfWork(engine), "default", parse_as_of(as_of) if as_of else None)
    console.print(
        f"model {report.model_id}: {report.items} items, {report.members} members, "
        f"{report.interactions} interactions, trained at {report.trained_at.isoformat()} "
        f"in {report.seconds:.2f}s"
    )


@recommend_app.command("evaluate")
def recommend_evaluate(
    db: DbOption = None,
    split_date: Annotated[
        str | None, typer.Option("--split-date", help="Train before, test after.")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="List length.")] = 10,
    horizon: Annotated[
        int, typer.Option("--horizon", help="Days after the split to test on.")
    ] = 60,
    as_json: JsonOption = False,
) -> None:
    """Precision@k, recall@k and MAP@k of the model and of popularity, on a time split."""
    from patronage.services.recommendation_evaluation import evaluate
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        split = parse_as_of(split_date) if split_date else None
        result = evaluate(UnitOfWork(engine), "default", split, k, horizon)
    if as_json:
        _print_json(asdict(result))
        return
    table = Table(title=f"split {result.split_date:%Y-%m-%d}, {result.members} members, k={k}")
    for column in ("metric", "model", "popularity"):
        table.add_column(column)
    for name in ("precision", "recall", "map"):
        label = f"{'MAP' if name == 'map' else name}@{k}"
        table.add_row(
            label, f"{getattr(result.model, name):.4f}", f"{getattr(result.popularity, name):.4f}"
        )
    console.print(table)


@recommend_app.command("offers")
def recommend_offers(
    db: DbOption = None,
    member: Annotated[int | None, typer.Option("--member", help="One member id.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every member's next best offer (or one member's), with the reason."""
    from patronage.services.next_best_offer import offers_for_program
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        offers = offers_for_program(UnitOfWork(engine), "default", member)
    if as_json:
        _print_json([asdict(o) for o in offers])
        return
    table = Table()
    for column in ("member", "offer", "expected value", "risk", "reason"):
        table.add_column(column)
    for o in offers:
        offer = f"{o.kind}:{o.ref}" if o.kind else "-"
        table.add_row(
            str(o.member_id), offer, str(o.expected_value_minor), f"{o.churn_risk:.2f}", o.reason
        )
    console.print(table)


@membership_app.command("plans")
def membership_plans(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List the paid plans."""
    from patronage.domain.membership import plain
    from patronage.services.membership import list_plans
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        plans = list_plans(UnitOfWork(engine))
    if as_json:
        _print_json([asdict(p) for p in plans])
        return
    for p in plans:
        state = "" if p.active else " (retired)"
        console.print(
            f"{p.code}: {p.name}, {p.period} {p.fee_minor} minor units, "
            f"earn x{plain(p.earn_multiplier)}, grace {p.grace_days} days{state}"
        )


@membership_app.command("add-plan")
def membership_add_plan(
    code: Annotated[str, typer.Argument(help="Plan code.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    fee: Annotated[int, typer.Option("--fee", help="Fee per period in minor units.")],
    period: Annotated[str, typer.Option(help="monthly or annual.")] = "annual",
    multiplier: Annotated[str, typer.Option(help="Extra earn multiplier.")] = "1",
    free_delivery: Annotated[bool, typer.Option("--free-delivery")] = False,
    member_prices: Annotated[bool, typer.Option("--member-prices")] = False,
    coupon_batch: Annotated[int | None, typer.Option(help="Batch of the monthly coupons.")] = None,
    coupons_per_month: Annotated[int, typer.Option(help="Monthly coupons.")] = 0,
    grace_days: Annotated[int, typer.Option(help="Days of grace after a failed renewal.")] = 7,
    db: DbOption = None,
) -> None:
    """Add a paid plan."""
    from patronage.services.membership import NewPlan, add_plan
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        plan = NewPlan(
            code,
            name,
            period,
            fee,
            Decimal(multiplier),
            free_delivery,
            member_prices,
            coupon_batch,
            coupons_per_month,
            grace_days,
        )
        created = add_plan(UnitOfWork(engine), plan)
    console.print(f"plan {created.code} added (id {created.id})")


@membership_app.command("report")
def membership_report(
    db: DbOption = None,
    prior_days: Annotated[int, typer.Option(help="Days before sign-up to match on.")] = 180,
    after_days: Annotated[int, typer.Option(help="Days after sign-up to compare.")] = 90,
    as_json: JsonOption = False,
) -> None:
    """Do paid members spend more than matched unpaid members?"""
    from patronage.services.membership_report import spend_report
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        report = spend_report(UnitOfWork(engine), "default", prior_days, after_days)
    if as_json:
        _print_json(asdict(report))
        return
    console.print(
        f"{report.pairs} matched pairs ({report.paid_members} paid members); "
        f"spend in {after_days} days after sign-up: paid {report.paid_after_mean_minor:.0f}, "
        f"matched unpaid {report.matched_after_mean_minor:.0f}, difference "
        f"{report.difference_minor:.0f} (95% bootstrap {report.bootstrap_ci_minor}, "
        f"paired t {report.t_ci_minor}); prior spend {report.paid_prior_mean_minor:.0f} vs "
        f"{report.matched_prior_mean_minor:.0f}; "
        f"raw unpaid average {report.raw_unpaid_after_mean_minor:.0f}"
    )


@membership_app.command("renew-due")
def membership_renew_due(db: DbOption = None) -> None:
    """Renew due memberships from the wallet, lapse those past grace, grant monthly coupons."""
    from patronage.services.membership_jobs import renew_due
    from patronage.storage.uow import UnitOfWork

    with cli_errors(), database(db) as engine:
        run = renew_due(UnitOfWork(engine))
    console.print(
        f"renewed {run.renewed}, failed {run.failed}, lapsed {run.lapsed}, coupons {run.coupons}"
    )
