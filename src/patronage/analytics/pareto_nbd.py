"""The Pareto/NBD model of repeat purchasing.

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your Customers: Who
Are They and What Will They Do Next? Management Science 33(1), 1-24. The likelihood
follows Fader, P. S. & Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD Model
and Related Expressions", eq. (22), with the A0 term split on alpha >= beta.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from patronage.analytics.fitting import (
    FittedModel,
    FloatArray,
    Histories,
    fit_by_likelihood,
    require_repeat_buyers,
)

NAMES = ("r", "alpha", "s", "beta")


def _log_a0(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:  # noqa: N803
    """log A0 = log(F(t_x) - F(T)), with F(t) = 2F1(...; z(t)) / (max + t)^(r+s+x)."""
    r, alpha, s, beta = params
    if alpha >= beta:
        top, second, gap = alpha, s + 1, alpha - beta
    else:
        top, second, gap = beta, r + x, beta - alpha
    power = r + s + x

    def log_f(t: FloatArray) -> FloatArray:
        return np.asarray(
            np.log(hyp2f1(power, second, power + 1, gap / (top + t))) - power * np.log(top + t),
            dtype=np.float64,
        )

    at_last, at_end = log_f(t_x), log_f(T)
    return np.asarray(at_last + np.log(-np.expm1(at_end - at_last)), dtype=np.float64)


def log_likelihood(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:  # noqa: N803
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    stays = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    left = np.log(s / (r + s + x)) + _log_a0(params, x, t_x, T)
    return np.asarray(common + np.logaddexp(stays, left), dtype=np.float64)


def fit(x: FloatArray, t_x: FloatArray, T: FloatArray) -> FittedModel:  # noqa: N803
    require_repeat_buyers("pareto-nbd", x)
    histories = Histories.group(x, t_x, T)
    return fit_by_likelihood("pareto-nbd", NAMES, log_likelihood, histories, method="Nelder-Mead")


def probability_alive(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:  # noqa: N803
    """P(alive | history) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)."""
    r, alpha, s, beta = params
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (
            np.log(s / (r + s + x))
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + _log_a0(params, x, t_x, T)
        )
    return np.asarray(expit(-log_odds), dtype=np.float64)


def expected_purchases(
    params: FloatArray,
    t: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,  # noqa: N803
    alive: FloatArray | None = None,
) -> FloatArray:
    """Expected purchases in (T, T + t] (Schmittlein et al. 1987, eq. 22); ``alive`` is
    P(alive) when already known."""
    r, alpha, s, beta = params
    rate = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
    bracket = 1.0 - ((beta + T) / (beta + T + t)) ** (s - 1)
    if alive is None:
        alive = probability_alive(params, x, t_x, T)
    return np.asarray(rate * bracket * alive, dtype=np.float64)
