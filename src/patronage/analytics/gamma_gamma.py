"""The Gamma-Gamma model of spend per transaction.

Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
http://brucehardie.com/notes/025/ ; after Colombo, R. & Jiang, W. (1999). A stochastic
RFM model. Journal of Interactive Marketing 13(3), 2-12. Fitted on customers with at
least one repeat transaction: x repeat transactions with mean value m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from patronage.analytics.fitting import (
    Distinct,
    FittedModel,
    FloatArray,
    ModelNotFitted,
    chunks,
    fit_by_sums,
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
    return fit_by_sums("gamma-gamma", NAMES, LikelihoodSums.of(x[spenders], m[spenders]))


@dataclass(frozen=True)
class LikelihoodSums:
    """The summed log-likelihood (eq. 3) and its gradient, arranged to be cheap.

    With s = m x (the repeat spend), (px - 1) log m + px log x = px log s - log m, so
    the sum needs, per customer, only log(v + s); the gamma functions of px are
    evaluated once per distinct x.
    """

    customers: int
    x: FloatArray
    spend: FloatArray
    frequency: Distinct
    x_log_spend: float
    log_m: float

    @classmethod
    def of(cls, x: FloatArray, m: FloatArray) -> LikelihoodSums:
        spend = m * x
        return cls(
            customers=len(x),
            x=x,
            spend=spend,
            frequency=Distinct.of(x),
            x_log_spend=float((x * np.log(spend)).sum()),
            log_m=float(np.log(m).sum()),
        )

    def __call__(self, params: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = params
        k, n = self.frequency.values, self.frequency.counts
        count = float(self.customers)
        x_log_total, sum_log_total, x_inverse, sum_inverse = self._per_customer(v)
        ll = (
            n @ (gammaln(p * k + q) - gammaln(p * k))
            - count * gammaln(q)
            + count * q * np.log(v)
            + p * self.x_log_spend
            - self.log_m
            - p * x_log_total
            - q * sum_log_total
        )
        both = digamma(p * k + q)
        grad = np.array(
            [
                n @ (k * (both - digamma(p * k))) + self.x_log_spend - x_log_total,
                n @ both - count * digamma(q) + count * np.log(v) - sum_log_total,
                count * q / v - p * x_inverse - q * sum_inverse,
            ]
        )
        return float(ll), grad

    def _per_customer(self, v: float) -> tuple[float, float, float, float]:
        """Sums of x log(v + s), log(v + s), x / (v + s) and 1 / (v + s)."""
        sums = np.zeros(4)
        for rows in chunks(len(self.x)):
            x, total = self.x[rows], v + self.spend[rows]
            log_total, inverse = np.log(total), 1.0 / total
            sums += ((x * log_total).sum(), log_total.sum(), (x * inverse).sum(), inverse.sum())
        return sums[0], sums[1], sums[2], sums[3]


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
