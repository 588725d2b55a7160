"""Customer lifetime value: repeat-purchase model + Gamma-Gamma spend model.

Conventions of the literature (Fader, Hardie & Lee 2005): a customer's history counts
*repeat* purchase days after the first (x = frequency), the time of the last one
(t_x = recency) and the time since the first (T), in the chosen time unit; the
monetary value is the mean spend of the repeat purchase days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from patronage.analytics import bgnbd, gamma_gamma, pareto_nbd
from patronage.analytics.fitting import FittedModel, FloatArray
from patronage.analytics.summary import day_number
from patronage.errors import InvalidInput

DAYS_PER_UNIT = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


@dataclass(frozen=True)
class PurchaseModel:
    fit: Callable[[FloatArray, FloatArray, FloatArray], FittedModel]
    probability_alive: Callable[..., FloatArray]
    expected_purchases: Callable[..., FloatArray]


PURCHASE_MODELS = {
    "bgnbd": PurchaseModel(bgnbd.fit, bgnbd.probability_alive, bgnbd.expected_purchases),
    "pareto-nbd": PurchaseModel(
        pareto_nbd.fit, pareto_nbd.probability_alive, pareto_nbd.expected_purchases
    ),
}


@dataclass(frozen=True)
class ClvFit:
    purchases: FittedModel
    spend: FittedModel

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.purchases.model,
            "params": self.purchases.params,
            "log_likelihood": self.purchases.log_likelihood,
            "customers": self.purchases.customers,
            "converged": self.purchases.converged,
            "spend_model": {
                "params": self.spend.params,
                "log_likelihood": self.spend.log_likelihood,
                "customers": self.spend.customers,
                "converged": self.spend.converged,
            },
        }


def model_named(name: str) -> PurchaseModel:
    if name not in PURCHASE_MODELS:
        raise InvalidInput(f"unknown model {name!r}: use bgnbd or pareto-nbd", field="model")
    return PURCHASE_MODELS[name]


def repeat_history(
    summary: pd.DataFrame, calibration_end: date, unit: str = "week"
) -> pd.DataFrame:
    """customer_id, frequency, recency, T, monetary_value from the customer summary."""
    if unit not in DAYS_PER_UNIT:
        raise InvalidInput(f"unknown time unit {unit!r}: use day, week or month", field="time_unit")
    per = DAYS_PER_UNIT[unit]
    repeats = (summary["purchase_days"] - 1).to_numpy(dtype=np.float64)
    repeat_spend = (summary["gross"] - summary["first_day_amount"]).to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "frequency": repeats,
            "recency": (summary["last_day"] - summary["first_day"]).to_numpy() / per,
            "T": (day_number(calibration_end) - summary["first_day"]).to_numpy() / per,
            "monetary_value": np.where(repeats > 0, repeat_spend / np.maximum(repeats, 1.0), 0.0),
        }
    )


def fit_models(history: pd.DataFrame, model: str = "bgnbd") -> ClvFit:
    x, t_x, T = _columns(history)  # noqa: N806
    return ClvFit(
        purchases=model_named(model).fit(x, t_x, T),
        spend=gamma_gamma.fit(x, history["monetary_value"].to_numpy(dtype=np.float64)),
    )


def predict(
    history: pd.DataFrame, fitted: ClvFit, horizon: float, discount_rate: float = 0.0
) -> pd.DataFrame:
    """Per customer: p_alive, expected purchases and value over the horizon, and CLV.

    CLV sums expected purchases per time unit times the expected spend per purchase,
    discounted at ``discount_rate`` per time unit (the last step may be partial).
    """
    if horizon <= 0:
        raise InvalidInput("the horizon must be positive", field="horizon")
    model = model_named(fitted.purchases.model)
    params = np.array(fitted.purchases.values())
    x, t_x, T = _columns(history)  # noqa: N806
    value = gamma_gamma.expected_average_value(
        np.array(fitted.spend.values()), x, history["monetary_value"].to_numpy(dtype=np.float64)
    )
    alive = model.probability_alive(params, x, t_x, T)
    expected = model.expected_purchases(params, horizon, x, t_x, T, alive=alive)
    purchases = _discounted_purchases(
        model, params, horizon, discount_rate, (x, t_x, T, alive), expected
    )
    return history.assign(
        p_alive=alive, expected_purchases=expected, expected_avg_value=value, clv=value * purchases
    )


def _discounted_purchases(
    model: PurchaseModel,
    params: FloatArray,
    horizon: float,
    rate: float,
    history: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    undiscounted: FloatArray,
) -> FloatArray:
    """Expected purchases per time unit, discounted; ``history`` is x, t_x, T, P(alive)."""
    if rate == 0:
        return undiscounted
    x, t_x, T, alive = history  # noqa: N806
    ends = np.minimum(np.arange(1, int(np.ceil(horizon)) + 1, dtype=np.float64), horizon)
    total = np.zeros_like(x)
    before = np.zeros_like(x)
    for step, end in enumerate(ends, start=1):  # one vectorised pass per time unit
        upto = model.expected_purchases(params, end, x, t_x, T, alive=alive)
        total += (upto - before) / (1.0 + rate) ** step
        before = upto
    return total


def _columns(history: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    return (
        history["frequency"].to_numpy(dtype=np.float64),
        history["recency"].to_numpy(dtype=np.float64),
        history["T"].to_numpy(dtype=np.float64),
    )
