"""Customer analytics for the analyst role: the same analyses as `patronage analytics`,
on the platform's own database, computed by DuckDB in-process."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy import Engine

from patronage.analytics import churn as churn_grades
from patronage.analytics import clv as clv_models
from patronage.analytics import ladder as loyalty_ladder
from patronage.analytics import loyalty_index as index
from patronage.analytics import pareto as pareto_rule
from patronage.analytics import retention as retention_stats
from patronage.analytics import rfm as rfm_scores
from patronage.analytics.engines import connect
from patronage.analytics.platform_data import PlatformData, read_platform_engine
from patronage.analytics.summary import customer_summary, last_purchase_date
from patronage.http.deps import get_engine, require_role
from patronage.services.access import Principal

router = APIRouter(prefix="/analytics", tags=["analytics"])
Payload = dict[str, Any]
Analyst = Annotated[Principal, Depends(require_role("admin", "analyst"))]
Database = Annotated[Engine, Depends(get_engine)]
AsOf = Annotated[date | None, Query(description="Analyse data up to this date.")]
Model = Annotated[str, Query(pattern="^(bgnbd|pareto-nbd)$")]
TimeUnit = Annotated[str, Query(pattern="^(day|week|month)$")]


def _load(engine: Engine, as_of: date | None) -> tuple[PlatformData, date]:
    data = read_platform_engine(connect(), engine)
    return data, as_of or last_purchase_date(data.transactions)


@router.get("/rfm")
def rfm(_: Analyst, engine: Database, as_of: AsOf = None) -> Payload:
    data, day = _load(engine, as_of)
    scored = rfm_scores.score(customer_summary(data.transactions, day), day)
    return {"as_of": day, "customers": len(scored), "segments": rfm_scores.segment_table(scored)}


@router.get("/pareto")
def pareto(
    _: Analyst,
    engine: Database,
    as_of: AsOf = None,
    top: Annotated[list[Annotated[float, Field(gt=0, le=100)]] | None, Query()] = None,
) -> Payload:
    data, day = _load(engine, as_of)
    revenue = customer_summary(data.transactions, day)["revenue"].to_numpy()
    tops = [t / 100 for t in sorted({20.0, *(top or [])})]
    return {"as_of": day, **pareto_rule.pareto_report(revenue, tops)}


@router.get("/retention")
def retention(_: Analyst, engine: Database, as_of: AsOf = None) -> Payload:
    data, day = _load(engine, as_of)
    counts = retention_stats.cohort_counts_expr(data.transactions, day).to_pyarrow().to_pandas()
    summary = customer_summary(data.transactions, day)
    return {
        "as_of": day,
        **retention_stats.repurchase(summary),
        "cohorts": retention_stats.cohort_matrix(counts, day),
    }


@router.get("/clv")
def clv(
    _: Analyst,
    engine: Database,
    as_of: AsOf = None,
    model: Model = "bgnbd",
    time_unit: TimeUnit = "week",
    calibration_end: date | None = None,
) -> Payload:
    data, day = _load(engine, as_of)
    end = calibration_end or day
    history = clv_models.repeat_history(customer_summary(data.transactions, end), end, time_unit)
    fitted = clv_models.fit_models(history, model)
    return {**fitted.as_json(), "calibration_end": end, "time_unit": time_unit}


@router.get("/churn")
def churn(
    _: Analyst,
    engine: Database,
    as_of: AsOf = None,
    model: Model = "bgnbd",
    time_unit: TimeUnit = "week",
    horizon: Annotated[float, Query(gt=0)] = 13.0,
) -> Payload:
    data, day = _load(engine, as_of)
    history = clv_models.repeat_history(customer_summary(data.transactions, day), day, time_unit)
    fitted = clv_models.fit_models(history, model)
    graded = churn_grades.grade(clv_models.predict(history, fitted, horizon), horizon, time_unit)
    return {
        "as_of": day,
        "model": model,
        "customers": len(graded),
        "health": churn_grades.grade_counts(graded),
    }


@router.get("/ladder")
def ladder(_: Analyst, engine: Database, as_of: AsOf = None) -> Payload:
    data, day = _load(engine, as_of)
    stages = loyalty_ladder.stages_at(
        loyalty_ladder.LadderData(
            data.transactions,
            data.interactions,
            data.customers.rename(occurred_on="joined_on"),
        ),
        day,
    )
    return {"as_of": day, "stages": loyalty_ladder.stage_counts(stages)}


@router.get("/loyalty-index")
def loyalty_index(_: Analyst, engine: Database, as_of: AsOf = None) -> Payload:
    data, day = _load(engine, as_of)
    frame, missing = index.components(
        index.LoyaltyData(data.transactions, data.interactions, data.items),
        customer_summary(data.transactions, day),
        day,
    )
    return {
        "as_of": day,
        "customers": len(frame),
        "missing_components": missing,
        "medians": {
            c: (None if frame[c].isna().all() else float(frame[c].median()))
            for c in index.COMPONENTS
        },
    }
