"""The BG/NBD model of repeat purchasing ("counting your customers the easy way").

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy
Way: An Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275-284.
Equation numbers below refer to that paper. A history is (x, t_x, T): repeat purchases,
time of the last purchase and age of the customer, all since the first purchase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from patronage.analytics.fitting import (
    Distinct,
    FittedModel,
    FloatArray,
    chunks,
    distinct_pairs,
    fit_by_sums,
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
    return fit_by_sums("bgnbd", NAMES, LikelihoodSums.of(x, t_x, T))


@dataclass(frozen=True)
class LikelihoodSums:
    """The summed log-likelihood (eq. 6) and its gradient, arranged to be cheap.

    A customer without repeat purchases contributes r log alpha - r log(alpha + T): these
    are kept as counts per distinct T. For repeat buyers the terms in x alone are
    evaluated once per distinct frequency, log(alpha + T) and log(alpha + t_x) once per
    distinct time; what is left per customer is -(r + x) log(alpha + T) + softplus(z),
    z = log(a / (b + x - 1)) + (r + x) log((alpha + T) / (alpha + t_x)), summed over
    chunks of customers.
    """

    customers: int
    once_t: FloatArray
    once_n: FloatArray
    x: FloatArray
    frequency: Distinct
    age: Distinct
    last: Distinct

    @classmethod
    def of(cls, x: FloatArray, t_x: FloatArray, T: FloatArray) -> LikelihoodSums:  # noqa: N803
        repeat = x > 0
        once = Distinct.of(T[~repeat])
        return cls(
            customers=len(x),
            once_t=once.values,
            once_n=once.counts,
            x=x[repeat],
            frequency=Distinct.of(x[repeat]),
            age=Distinct.of(T[repeat]),
            last=Distinct.of(t_x[repeat]),
        )

    def __call__(self, params: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = params
        ll, grad = self._without_repeats(r, alpha)
        ll_x, grad_x = self._frequency_terms(params)
        ll_rows, grad_rows = self._repeat_rows(params)
        return ll + ll_x + ll_rows, grad + grad_x + grad_rows

    def _without_repeats(self, r: float, alpha: float) -> tuple[float, FloatArray]:
        log_ratio = np.log(alpha) - np.log(alpha + self.once_t)
        d_alpha = r / alpha - r / (alpha + self.once_t)
        n = self.once_n
        return r * float(n @ log_ratio), np.array([n @ log_ratio, n @ d_alpha, 0.0, 0.0])

    def _frequency_terms(self, params: FloatArray) -> tuple[float, FloatArray]:
        """Terms in x alone, once per distinct frequency k, weighted by its customers n_k."""
        r, alpha, a, b = params
        k, n = self.frequency.values, self.frequency.counts
        ll = (
            gammaln(r + k)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + k)
            - gammaln(b)
            - gammaln(a + b + k)
        )
        shared = digamma(a + b) - digamma(a + b + k)
        slopes = [
            digamma(r + k) - digamma(r) + np.log(alpha),
            np.full_like(k, r / alpha),
            shared,
            shared + digamma(b + k) - digamma(b),
        ]
        return float(n @ ll), np.array([n @ s for s in slopes])

    def _repeat_rows(self, params: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = params
        k, ages, lasts = self.frequency.values, self.age.values, self.last.values
        per_value = (
            (np.log(a) - np.log(b + k - 1), 1.0 / (b + k - 1)),
            (np.log(alpha + ages), 1.0 / (alpha + ages)),
            (np.log(alpha + lasts), 1.0 / (alpha + lasts)),
        )
        ll, grad = 0.0, np.zeros(4)
        for rows in chunks(len(self.x)):
            (log_odds, inv_b), (log_age, inv_age), (log_last, inv_last) = (
                (d.spread(log_v, rows), d.spread(inv_v, rows))
                for d, (log_v, inv_v) in zip(
                    (self.frequency, self.age, self.last), per_value, strict=True
                )
            )
            rx = r + self.x[rows]
            gap = log_age - log_last
            z = log_odds + rx * gap
            small = np.exp(-np.abs(z))  # softplus(z) and w = 1/(1 + e^-z) from one exponential
            w = np.where(z >= 0, 1.0, small) / (1.0 + small)
            ll += float((np.maximum(z, 0.0) + np.log1p(small) - rx * log_age).sum())
            grad += (
                (w * gap - log_age).sum(),
                (rx * (w * (inv_age - inv_last) - inv_age)).sum(),
                w.sum() / a,
                -(w * inv_b).sum(),
            )
        return ll, grad


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
    """P(still active | history) (FHL 2005, eq. 11 in the technical appendix); 1 for a
    customer without repeat purchases."""
    r, alpha, a, b = params
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.log(a / (b + x - 1)) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        return np.where(x > 0, expit(-log_odds), 1.0)


def expected_purchases(
    params: FloatArray,
    t: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,  # noqa: N803
    alive: FloatArray | None = None,
) -> FloatArray:
    """Expected purchases in (T, T + t] given the history (eq. 10).

    Apart from P(alive) (pass it as ``alive`` when already known) the expression depends
    on x and T only, so the hypergeometric function is evaluated once per distinct pair.
    """
    r, alpha, a, b = params
    pairs, xs, ages = distinct_pairs(x, T)
    z = t / (alpha + ages + t)
    tail = np.exp((r + xs) * np.log((alpha + ages) / (alpha + ages + t)))
    bracket = 1.0 - tail * hyp2f1(r + xs, b + xs, a + b + xs - 1, z)
    scale = (a + b + xs - 1) / (a - 1)
    if alive is None:
        alive = probability_alive(params, x, t_x, T)
    return np.asarray(pairs.spread(scale * bracket) * alive, dtype=np.float64)
