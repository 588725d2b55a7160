"""The Gamma-Gamma model of spend per transaction.

Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
http://brucehardie.com/notes/025/ ; after Colombo, R. & Jiang, W. (1999). A stochastic
RFM model. Journal of Interactive Marketing 13(3), 2-12. Fitted on customers with at
least one repeat transaction: x repeat transactions with mean value m.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from patronage.analytics.fitting import (
    FittedModel,
    FloatArray,
    Histories,
    ModelNotFitted,
    fit_by_likelihood,
)

NAMES = ("p", "q", "v")


def log_likelihood(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Log density of the observed mean spend m over x transactions (FH 2013, eq. 3)."""
    p, q, v = params
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x),
        dtype=np.float64,
    )


def fit(x: FloatArray, m: FloatArray) -> FittedModel:
    spenders = (x > 0) & (m > 0)
    if not spenders.any():
        raise ModelNotFitted("gamma-gamma: no customer has a repeat purchase with a positive value")
    histories = Histories.group(x[spenders], m[spenders])
    return fit_by_likelihood("gamma-gamma", NAMES, log_likelihood, histories, gradient=gradient)


def gradient(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """d log-likelihood / d (p, q, v), one row per parameter."""
    p, q, v = params
    px = p * x
    both = digamma(px + q)
    return np.vstack(
        [
            x * (both - digamma(px) + np.log(m) + np.log(x) - np.log(v + m * x)),
            both - digamma(q) + np.log(v) - np.log(v + m * x),
            q / v - (px + q) / (v + m * x),
        ]
    )


def expected_average_value(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """E[M | x, m] = (q - 1)/(px + q - 1) * pv/(q - 1) + px/(px + q - 1) * m (FH 2013, eq. 5).

    Customers without repeat purchases get the population mean pv/(q - 1).
    """
    p, q, v = params
    weight = p * x / (p * x + q - 1)
    return np.asarray(
        (1 - weight) * p * v / (q - 1) + weight * np.where(x > 0, m, 0.0), dtype=np.float64
    )
