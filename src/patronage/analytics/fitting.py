"""Maximum-likelihood fitting shared by the customer-base models.

Parameters are searched in log space (so they stay positive) inside bounds. Either on
customers grouped by identical histories (each distinct history is evaluated once and
weighted by how many customers share it), or, for the models with analytic gradients,
on ``LikelihoodSums``: the model's total log-likelihood and gradient computed from
precomputed per-customer arrays, with terms that depend on few distinct values (the
frequency, the customer's age) evaluated once per value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

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


@dataclass(frozen=True)
class Distinct:
    """A column as its distinct values and, per row, the index of its value: a function
    of the column is evaluated on the distinct values and spread with ``spread``."""

    values: FloatArray
    index: NDArray[np.intp]
    counts: FloatArray
    """How many rows hold each value."""

    @classmethod
    def of(cls, column: FloatArray) -> Distinct:
        index, values = pd.factorize(np.asarray(column, dtype=np.float64))  # hashing, no sort
        index = index.astype(np.intp, copy=False)
        counts = np.bincount(index, minlength=len(values)).astype(np.float64)
        return cls(np.asarray(values, dtype=np.float64), index, counts)

    def spread(self, per_value: FloatArray, rows: slice = slice(None)) -> FloatArray:
        """``per_value`` (one entry per distinct value) for each row (of ``rows``)."""
        return np.take(per_value, self.index[rows])


def distinct_pairs(
    first: FloatArray, second: FloatArray
) -> tuple[Distinct, FloatArray, FloatArray]:
    """The distinct (first, second) pairs as a Distinct over pair numbers, and each
    distinct pair's first and second value."""
    ones, twos = Distinct.of(first), Distinct.of(second)
    width = len(twos.values)
    pairs = Distinct.of((ones.index * width + twos.index).astype(np.float64))  # < 2**53
    numbers = pairs.values.astype(np.intp)
    return pairs, ones.values[numbers // width], twos.values[numbers % width]


CHUNK_ROWS = 65_536
"""Per-customer sums run over chunks this long: their temporaries stay in the CPU cache
and are reused, instead of fresh multi-megabyte arrays on every evaluation."""


def chunks(rows: int) -> list[slice]:
    return [slice(start, start + CHUNK_ROWS) for start in range(0, rows, CHUNK_ROWS)]


class LikelihoodSums(Protocol):
    """A model's data ready for fitting: total log-likelihood and its gradient."""

    @property
    def customers(self) -> int: ...

    def __call__(self, params: FloatArray) -> tuple[float, FloatArray]: ...


def fit_by_sums(model: str, names: Sequence[str], sums: LikelihoodSums) -> FittedModel:
    """Maximise the total log-likelihood with L-BFGS-B and the analytic gradient; raise
    ModelNotFitted when it cannot be done."""
    if sums.customers == 0:
        raise ModelNotFitted(f"{model}: no customers to fit", model=model)
    total = float(sums.customers)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            ll, slope = sums(params)
        value, scaled = -ll / total, -slope * params / total
        if not (np.isfinite(value) and np.all(np.isfinite(scaled))):
            return 1e10, np.zeros_like(log_params)
        return value, np.asarray(scaled, dtype=np.float64)

    # A handful of parameters: BLAS threads would only spin beside the NumPy sums.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            objective,
            np.zeros(len(names)),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * len(names),
            options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
        )
    return _checked(model, names, result, total)


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
    method: str = "Nelder-Mead",
) -> FittedModel:
    """Maximise the summed log-likelihood without a gradient (for models that have none);
    raise ModelNotFitted when it cannot be done."""
    if histories.customers == 0:
        raise ModelNotFitted(f"{model}: no customers to fit", model=model)
    total = histories.weights.sum()

    def objective(log_params: FloatArray) -> float:
        with np.errstate(all="ignore"):
            ll = log_likelihood(np.exp(log_params), *histories.columns)
            value = -float(np.dot(histories.weights, ll)) / total
        return value if np.isfinite(value) else 1e10

    start = np.zeros(len(names))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    options = {"maxiter": 5000, "xatol": 1e-8, "fatol": 1e-12}
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
