"""Maximum-likelihood fitting shared by the customer-base models.

Parameters are searched in log space (so they stay positive) inside bounds, on
customers grouped by identical histories (each distinct history is evaluated once and
weighted by how many customers share it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from patronage.errors import RuleViolation

FloatArray = NDArray[np.float64]
LogLikelihood = Callable[[FloatArray], FloatArray]
"""Per-history log-likelihood for positive parameters."""

LOG_BOUND = np.log(1e6)
"""Each parameter is searched in [1e-6, 1e6]."""
LOG_PLAUSIBLE = np.log(1e5)
"""A fit whose parameter ends outside [1e-5, 1e5] ran to a bound and is refused."""


class ModelNotFitted(RuleViolation):
    """The data do not pin the model down (too few repeat buyers, degenerate histories)."""

    code = "model_not_fitted"


@dataclass(frozen=True)
class FittedModel:
    model: str
    params: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    iterations: int

    def values(self) -> tuple[float, ...]:
        return tuple(self.params.values())


@dataclass(frozen=True)
class Histories:
    """Distinct rows of a per-customer table and how many customers share each."""

    columns: tuple[FloatArray, ...]
    weights: FloatArray

    @classmethod
    def group(cls, *columns: FloatArray) -> Histories:
        stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
        unique, counts = np.unique(stacked, axis=0, return_counts=True)
        return cls(tuple(unique[:, i] for i in range(unique.shape[1])), counts.astype(np.float64))

    @property
    def customers(self) -> int:
        return int(self.weights.sum())


def require_repeat_buyers(model: str, repeats: FloatArray) -> None:
    """The repeat-purchase models cannot be identified when nobody came back."""
    if not (np.asarray(repeats) > 0).any():
        raise ModelNotFitted(
            f"{model}: no customer made a repeat purchase before the calibration end", model=model
        )


def fit_by_likelihood(
    model: str,
    names: Sequence[str],
    log_likelihood: Callable[..., FloatArray],
    histories: Histories,
    method: str = "L-BFGS-B",
    gradient: Callable[..., FloatArray] | None = None,
) -> FittedModel:
    """Maximise the summed log-likelihood; raise ModelNotFitted when it cannot be done.

    ``gradient(params, *columns)`` returns d log-likelihood / d parameter, one row per
    parameter; without it the optimiser differentiates numerically.
    """
    if histories.customers == 0:
        raise ModelNotFitted(f"{model}: no customers to fit", model=model)
    total = histories.weights.sum()

    def objective(log_params: FloatArray) -> float:
        with np.errstate(all="ignore"):
            ll = log_likelihood(np.exp(log_params), *histories.columns)
            value = -float(np.dot(histories.weights, ll)) / total
        return value if np.isfinite(value) else 1e10

    def objective_and_slope(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            slope = -(gradient(params, *histories.columns) @ histories.weights) * params / total  # type: ignore[misc]
        value = objective(log_params)
        if value >= 1e10 or not np.all(np.isfinite(slope)):
            return 1e10, np.zeros_like(log_params)
        return value, np.asarray(slope, dtype=np.float64)

    start = np.zeros(len(names))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    options = (
        {"maxiter": 5000, "xatol": 1e-8, "fatol": 1e-12}
        if method == "Nelder-Mead"
        else {"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9}
    )
    if gradient is not None and method == "L-BFGS-B":
        result = minimize(
            objective_and_slope, start, jac=True, method=method, bounds=bounds, options=options
        )
    else:
        result = minimize(objective, start, method=method, bounds=bounds, options=options)
    return _checked(model, names, result, total)


def _checked(model: str, names: Sequence[str], result: object, total: float) -> FittedModel:
    log_params = np.asarray(result.x, dtype=np.float64)  # type: ignore[attr-defined]
    value = float(result.fun)  # type: ignore[attr-defined]
    if value >= 1e10 or not np.isfinite(value):
        raise ModelNotFitted(f"{model}: the likelihood is not finite anywhere it was searched")
    at_bound = [n for n, v in zip(names, log_params, strict=True) if abs(v) > LOG_PLAUSIBLE]
    if at_bound:
        raise ModelNotFitted(
            f"{model}: parameter {', '.join(at_bound)} ran to its bound; the data do not "
            "identify the model (too few customers or repeat purchases?)",
            model=model,
        )
    return FittedModel(
        model=model,
        params={n: float(np.exp(v)) for n, v in zip(names, log_params, strict=True)},
        log_likelihood=float(-value * total),
        customers=int(total),
        converged=bool(result.success),  # type: ignore[attr-defined]
        iterations=int(getattr(result, "nit", 0)),
    )
