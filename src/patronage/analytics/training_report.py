"""Plain-data views of a training evaluation, for JSON output (CLI and API)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from patronage.analytics.training_effect import Estimate, TrainingEffect
from patronage.domain.training import phillips_roi

CENT = Decimal("0.01")


def _rounded(value: float) -> float:
    return round(value, 6)


def _interval(estimate: Estimate) -> list[float]:
    low, high = estimate.ci95
    return [_rounded(low), _rounded(high)]


def effect_payload(result: TrainingEffect) -> dict[str, Any]:
    pre = result.pre_trend
    return {
        "effect": _rounded(result.overall.effect),
        "ci95": _interval(result.overall),
        "se": _rounded(result.overall.se),
        "method": result.method,
        "staff_treated": result.staff_treated,
        "staff_control": result.staff_control,
        "staff_not_yet_trained": result.staff_not_yet_trained,
        "interactions": result.interactions,
        "event_study": [
            {
                "period": point.period,
                "effect": _rounded(point.estimate.effect),
                "ci95": _interval(point.estimate),
                "staff_treated": point.staff_treated,
                "reference": point.period == -1,
            }
            for point in result.event_study
        ],
        "pre_trend": None
        if pre is None
        else {
            "test": "wald_f",
            "statistic": _rounded(pre.statistic),
            "df": pre.df,
            "p_value": _rounded(pre.p_value),
        },
    }


def roi_payload(result: TrainingEffect, value_per_unit: Decimal, cost: Decimal) -> dict[str, Any]:
    """Phillips ROI at the point estimate and at both ends of its interval."""
    return estimate_roi(result.overall, result.affected_interactions, value_per_unit, cost)


def estimate_roi(
    overall: Estimate, affected: int, value_per_unit: Decimal, cost: Decimal
) -> dict[str, Any]:
    """``roi_payload`` from the overall estimate and the interactions it affected."""

    def at(change: float) -> Decimal:
        return phillips_roi(Decimal(repr(change)), value_per_unit, affected, cost).roi

    point = phillips_roi(Decimal(repr(overall.effect)), value_per_unit, affected, cost)
    low, high = overall.ci95
    return {
        "affected_interactions": affected,
        "value_per_unit": str(value_per_unit),
        "benefit": str(point.benefit.quantize(CENT)),
        "cost": str(cost),
        "net_benefit": str(point.net_benefit.quantize(CENT)),
        "roi": float(point.roi.quantize(Decimal("0.0001"))),
        "roi_percent": float((point.roi * 100).quantize(CENT)),
        "roi_ci95": [
            float(at(low).quantize(Decimal("0.0001"))),
            float(at(high).quantize(Decimal("0.0001"))),
        ],
    }
