"""The BG/NBD model of repeat purchasing ("counting your customers the easy way").

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy
Way: An Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275-284.
Equation numbers below refer to that paper. A history is (x, t_x, T): repeat purchases,
time of the last purchase and age of the customer, all since the first purchase.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from patronage.analytics.fitting import (
    FittedModel,
    FloatArray,
    Histories,
    fit_by_likelihood,
    require_repeat_buyers,
)

NAMES = ("r", "alpha", "a", "b")


def log_likelihood(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:  # noqa: N803
    """Individual log-likelihood (eq. 6), evaluated as a log-sum of its two terms."""
    r, alpha, a, b = params
    common = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    stays = -(r + x) * np.log(alpha + T)
    return np.asarray(
        common + np.logaddexp(stays, _log_dropout_term(params, x, t_x)), dtype=np.float64
    )


def _log_dropout_term(params: FloatArray, x: FloatArray, t_x: FloatArray) -> FloatArray:
    r, alpha, a, b = params
    repeat = x > 0
    safe = np.where(repeat, b + x - 1, 1.0)
    term = np.log(a) - np.log(safe) - (r + x) * np.log(alpha + t_x)
    return np.where(repeat, term, -np.inf)


def fit(x: FloatArray, t_x: FloatArray, T: FloatArray) -> FittedModel:  # noqa: N803
    require_repeat_buyers("bgnbd", x)
    histories = Histories.group(x, t_x, T)
    return fit_by_likelihood("bgnbd", NAMES, log_likelihood, histories, gradient=gradient)


def gradient(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:  # noqa: N803
    """d log-likelihood / d (r, alpha, a, b), one row per parameter.

    With LL = C + log(e^S + e^D), w = e^D / (e^S + e^D) is the weight of the drop-out term.
    """
    r, alpha, a, b = params
    stays = -(r + x) * np.log(alpha + T)
    dropout = _log_dropout_term(params, x, t_x)
    w = np.exp(dropout - np.logaddexp(stays, dropout))
    shared = digamma(a + b) - digamma(a + b + x)
    return np.vstack(
        [
            digamma(r + x)
            - digamma(r)
            + np.log(alpha)
            - (1 - w) * np.log(alpha + T)
            - w * np.log(alpha + t_x),
            r / alpha - (r + x) * ((1 - w) / (alpha + T) + w / (alpha + t_x)),
            shared + w / a,
            shared + digamma(b + x) - digamma(b) - w / np.where(x > 0, b + x - 1, 1.0),
        ]
    )


def probability_alive(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:  # noqa: N803
    """P(still active | history) (FHL 2005, eq. 11 in the technical appendix)."""
    r, alpha, a, b = params
    with np.errstate(divide="ignore"):
        log_odds = _log_dropout_term(params, x, t_x) + (r + x) * np.log(alpha + T)
    return np.asarray(expit(-log_odds), dtype=np.float64)


def expected_purchases(
    params: FloatArray,
    t: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,  # noqa: N803
) -> FloatArray:
    """Expected purchases in (T, T + t] given the history (eq. 10)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    tail = np.exp((r + x) * np.log((alpha + T) / (alpha + T + t)))
    bracket = 1.0 - tail * hyp2f1(r + x, b + x, a + b + x - 1, z)
    scale = (a + b + x - 1) / (a - 1)
    return np.asarray(scale * bracket * probability_alive(params, x, t_x, T), dtype=np.float64)
