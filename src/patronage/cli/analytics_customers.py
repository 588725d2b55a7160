"""`patronage analytics rfm|pareto|retention|clv|churn|ladder|loyalty-index`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from patronage.cli import analytics_customers_loyalty  # noqa: F401 - ladder, loyalty-index
from patronage.cli.analytics import app
from patronage.cli.analytics_customers_inputs import (
    AmountColOption,
    AsOfOption,
    CustomerColOption,
    DateColOption,
    EngineOption,
    JsonOption,
    OutputOption,
    TransactionsOption,
    load_inputs,
    parse_date,
    print_json,
    write_output,
)
from patronage.cli.common import DbOption, cli_errors, console, err_console
from patronage.errors import InvalidInput

if TYPE_CHECKING:
    from patronage.analytics import clv_bayes

ModelOption = Annotated[str, typer.Option("--model", help="bgnbd (default) or pareto-nbd.")]
TimeUnitOption = Annotated[str, typer.Option("--time-unit", help="day, week (default) or month.")]


@app.command("rfm")
def rfm(
    db: DbOption = None,
    transactions: TransactionsOption = None,
    customer_col: CustomerColOption = "customer_id",
    date_col: DateColOption = "date",
    amount_col: AmountColOption = "amount",
    as_of: AsOfOption = None,
    engine: EngineOption = "duckdb",
    json: JsonOption = False,
    output: OutputOption = None,
) -> None:
    """Recency, frequency, monetary scores and named segments with suggested actions."""
    from patronage.analytics import rfm as rfm_scores
    from patronage.analytics.summary import customer_summary

    with cli_errors():
        inputs = load_inputs(db, transactions, (customer_col, date_col, amount_col), as_of, engine)
        scored = rfm_scores.score(customer_summary(inputs.transactions, inputs.as_of), inputs.as_of)
        segments = rfm_scores.segment_table(scored)
        write_output(scored, output)
        if json:
            print_json({"as_of": inputs.as_of, "customers": len(scored), "segments": segments})
            return
        table = Table(
            "Segment",
            "Customers",
            "Revenue share",
            "Suggested action",
            title=f"RFM segments as of {inputs.as_of}",
        )
        for row in segments:
            table.add_row(
                row["segment"], str(row["customers"]), f"{row['revenue_share']:.1%}", row["action"]
            )
        console.print(table)


@app.command("pareto")
def pareto(
    db: DbOption = None,
    transactions: TransactionsOption = None,
    customer_col: CustomerColOption = "customer_id",
    date_col: DateColOption = "date",
    amount_col: AmountColOption = "amount",
    as_of: AsOfOption = None,
    top: Annotated[
        list[float] | None, typer.Option("--top", help="Top k% of customers (repeatable).")
    ] = None,
    engine: EngineOption = "duckdb",
    json: JsonOption = False,
    output: OutputOption = None,
) -> None:
    """Share of revenue from the top 20% (and any --top k%) of customers; Lorenz curve, Gini."""
    from patronage.analytics import pareto as pareto_rule
    from patronage.analytics.summary import customer_summary

    with cli_errors():
        tops = sorted({20.0, *(top or [])})
        if any(not 0 < t <= 100 for t in tops):
            raise InvalidInput("--top must be a percentage in (0, 100]", field="top")
        inputs = load_inputs(db, transactions, (customer_col, date_col, amount_col), as_of, engine)
        summary = customer_summary(inputs.transactions, inputs.as_of)
        report = pareto_rule.pareto_report(summary["revenue"].to_numpy(), [t / 100 for t in tops])
        write_output(
            summary[["customer_id", "revenue"]].sort_values("revenue", ascending=False), output
        )
        if json:
            print_json({"as_of": inputs.as_of, **report})
            return
        for row in report["top_shares"]:
            console.print(
                f"top {row['top']:.0%} of customers bring {row['revenue_share']:.1%} of revenue"
            )
        console.print(f"Gini {report['gini']:.3f} over {report['customers']} customers")


@app.command("retention")
def retention(
    db: DbOption = None,
    transactions: TransactionsOption = None,
    customer_col: CustomerColOption = "customer_id",
    date_col: DateColOption = "date",
    amount_col: AmountColOption = "amount",
    as_of: AsOfOption = None,
    engine: EngineOption = "duckdb",
    json: JsonOption = False,
    output: OutputOption = None,
) -> None:
    """Repurchase rate, days between purchases and monthly cohorts' retention."""
    from patronage.analytics import retention as retention_stats
    from patronage.analytics.summary import customer_summary, day_from_number

    with cli_errors():
        inputs = load_inputs(db, transactions, (customer_col, date_col, amount_col), as_of, engine)
        summary = customer_summary(inputs.transactions, inputs.as_of)
        counts = (
            retention_stats.cohort_counts_expr(inputs.transactions, inputs.as_of)
            .to_pyarrow()
            .to_pandas()
        )
        report = {
            "as_of": inputs.as_of,
            **retention_stats.repurchase(summary),
            "cohorts": retention_stats.cohort_matrix(counts, inputs.as_of),
        }
        per_customer = summary[["customer_id", "purchase_days"]].assign(
            first_purchase=[day_from_number(d) for d in summary["first_day"]],
            last_purchase=[day_from_number(d) for d in summary["last_day"]],
        )
        write_output(per_customer, output)
        if json:
            print_json(report)
            return
        console.print(
            f"repurchase rate {report['repurchase_rate']:.1%} of {report['customers']} customers"
        )
        for row in report["cohorts"]:
            console.print(
                row["cohort"], row["customers"], " ".join(f"{v:.0%}" for v in row["retention"])
            )


@app.command("clv")
def clv(
    db: DbOption = None,
    transactions: TransactionsOption = None,
    customer_col: CustomerColOption = "customer_id",
    date_col: DateColOption = "date",
    amount_col: AmountColOption = "amount",
    as_of: AsOfOption = None,
    model: ModelOption = "bgnbd",
    time_unit: TimeUnitOption = "week",
    calibration_end: Annotated[
        str | None, typer.Option("--calibration-end", help="Fit on data up to this date.")
    ] = None,
    horizon: Annotated[
        float | None, typer.Option("--horizon", help="Predict this many time units ahead.")
    ] = None,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="Per time unit.")] = 0.0,
    bayes: Annotated[
        bool, typer.Option("--bayes", help="Also posterior intervals (patronage[bayes]).")
    ] = False,
    sampler: Annotated[str, typer.Option("--sampler", help="--bayes: nuts or demz.")] = "nuts",
    draws: Annotated[int, typer.Option("--draws", help="--bayes: draws per chain.")] = 1000,
    chains: Annotated[int, typer.Option("--chains", help="--bayes: chains.")] = 2,
    hdi_prob: Annotated[float, typer.Option("--hdi-prob", help="--bayes: interval mass.")] = 0.94,
    seed: Annotated[int, typer.Option("--seed", help="--bayes: random seed.")] = 0,
    engine: EngineOption = "duckdb",
    json: JsonOption = False,
    output: OutputOption = None,
) -> None:
    """BG/NBD or Pareto/NBD with Gamma-Gamma: fitted parameters and per-customer CLV."""
    from patronage.analytics import clv as clv_models
    from patronage.analytics.summary import customer_summary

    with cli_errors():
        sampling = _bayes_sampling(bayes, sampler, draws, chains, hdi_prob, seed)
        inputs = load_inputs(db, transactions, (customer_col, date_col, amount_col), as_of, engine)
        end = parse_date(calibration_end, "calibration-end") or inputs.as_of
        history = clv_models.repeat_history(
            customer_summary(inputs.transactions, end), end, time_unit
        )
        fitted = clv_models.fit_models(history, model)
        payload = {**fitted.as_json(), "calibration_end": end, "time_unit": time_unit}
        predicted = history
        if horizon is not None:
            predicted = clv_models.predict(history, fitted, horizon, discount_rate)
        if sampling is not None:
            from patronage.analytics import clv_bayes

            posterior = clv_bayes.fit_models(history, model, sampling)
            payload["bayes"] = bayes_json = posterior.as_json()
            _warn_unconverged(bayes_json)
            if horizon is not None:
                predicted = clv_bayes.predict_intervals(predicted, posterior, horizon)
        write_output(predicted, output)
        if json:
            print_json(payload)
            return
        console.print(payload)


def _bayes_sampling(
    bayes: bool, sampler: str, draws: int, chains: int, hdi_prob: float, seed: int
) -> clv_bayes.Sampling | None:
    """The --bayes settings, checked before any data is read; None without --bayes."""
    if not bayes:
        return None
    from patronage.analytics import clv_bayes

    clv_bayes.require_pymc_marketing()
    sampling = clv_bayes.Sampling(sampler, draws, chains, hdi_prob, seed)
    sampling.check()
    return sampling


def _warn_unconverged(bayes: dict[str, Any]) -> None:
    """One stderr line when either model's chains disagree (r_hat too high)."""
    worst = max(bayes["r_hat_max"], bayes["spend_model"]["r_hat_max"])
    if not (bayes["converged"] and bayes["spend_model"]["converged"]):
        err_console.print(
            f"[yellow]warning[/yellow]: --bayes chains disagree (r_hat_max {worst:.3f}); "
            "the intervals are unreliable: raise --draws or --chains"
        )


@app.command("churn")
def churn(
    db: DbOption = None,
    transactions: TransactionsOption = None,
    customer_col: CustomerColOption = "customer_id",
    date_col: DateColOption = "date",
    amount_col: AmountColOption = "amount",
    as_of: AsOfOption = None,
    model: ModelOption = "bgnbd",
    time_unit: TimeUnitOption = "week",
    horizon: Annotated[float, typer.Option("--horizon", help="Look-ahead in time units.")] = 13.0,
    engine: EngineOption = "duckdb",
    json: JsonOption = False,
    output: OutputOption = None,
) -> None:
    """Churn risk and health grade (Good / Average / Poor) with reasons, per customer."""
    import numpy as np

    from patronage.analytics import churn as churn_grades
    from patronage.analytics import clv as clv_models
    from patronage.analytics.summary import customer_summary

    with cli_errors():
        inputs = load_inputs(db, transactions, (customer_col, date_col, amount_col), as_of, engine)
        history = clv_models.repeat_history(
            customer_summary(inputs.transactions, inputs.as_of), inputs.as_of, time_unit
        )
        fitted = clv_models.fit_models(history, model)
        graded = churn_grades.grade(
            clv_models.predict(history, fitted, horizon), horizon, time_unit
        )
        write_output(graded, output)
        payload = {
            "as_of": inputs.as_of,
            "model": fitted.purchases.model,
            "customers": len(graded),
            "health": churn_grades.grade_counts(graded),
            "mean_churn_risk": float(np.mean(graded["churn_risk"])),
        }
        if json:
            print_json(payload)
            return
        console.print(payload)
