"""The model formulas on hand-made histories, and refusals to fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from patronage.analytics import bgnbd, gamma_gamma, pareto_nbd
from patronage.analytics.fitting import ModelNotFitted


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_bgnbd_likelihood_of_a_customer_without_repeats() -> None:
    # x = 0: L = (alpha / (alpha + T))^r; with r=1, alpha=1, T=1 that is 1/2
    ll = bgnbd.log_likelihood(arr(1, 1, 1, 2), arr(0), arr(0), arr(1))
    assert ll[0] == pytest.approx(math.log(0.5))


def test_bgnbd_likelihood_with_one_repeat() -> None:
    # r=1, alpha=1, a=1, b=2, x=1, t_x=1, T=2:
    # Gamma(2)/Gamma(1) * [B(1,3)/B(1,2) / (1+2)^2 + B(2,2)/B(1,2) / (1+1)^2] = (2/3)/9 + (1/3)/4
    expected = (2 / 3) / 9 + (1 / 3) / 4
    ll = bgnbd.log_likelihood(arr(1, 1, 1, 2), arr(1), arr(1), arr(2))
    assert ll[0] == pytest.approx(math.log(expected))


def test_bgnbd_alive_probability() -> None:
    params = arr(1, 1, 1, 2)
    # no repeat purchase: alive by assumption
    assert bgnbd.probability_alive(params, arr(0), arr(0), arr(5))[0] == 1.0
    # x=1, t_x=1, T=2: 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)) = 1/(1 + 0.5 * 2.25)
    assert bgnbd.probability_alive(params, arr(1), arr(1), arr(2))[0] == pytest.approx(1 / 2.125)


def test_pareto_nbd_likelihood_matches_direct_integration() -> None:
    """x=0, t_x=0, T=1: integrate the individual likelihood over the gamma mixing laws."""
    from scipy import integrate, stats

    r, alpha, s, beta = 1.2, 2.0, 0.8, 3.0
    lam = stats.gamma(r, scale=1 / alpha)
    mu = stats.gamma(s, scale=1 / beta)

    def individual(lv: float, mv: float) -> float:
        # x=0 history: no purchase in (0, T]; death at tau<T leaves prob e^{-lambda tau}
        stays = math.exp(-(lv + mv))
        died = mv / (lv + mv) * (1 - math.exp(-(lv + mv)))
        return (stays + died) * lam.pdf(lv) * mu.pdf(mv)

    numeric, _ = integrate.dblquad(individual, 0, 60, 0, 60)
    ll = pareto_nbd.log_likelihood(arr(r, alpha, s, beta), arr(0), arr(0), arr(1))
    assert ll[0] == pytest.approx(math.log(numeric), abs=1e-6)


def test_gamma_gamma_expected_value_shrinks_towards_the_mean() -> None:
    p, q, v = 6.0, 4.0, 15.0
    population = p * v / (q - 1)  # 30
    value = gamma_gamma.expected_average_value(arr(p, q, v), arr(0, 2), arr(0, 50))
    assert value[0] == pytest.approx(population)
    # weight px/(px+q-1) = 12/15
    assert value[1] == pytest.approx(0.2 * population + 0.8 * 50)


def test_no_repeat_buyers_cannot_be_fitted() -> None:
    zeros = np.zeros(50)
    with pytest.raises(ModelNotFitted, match="no customer made a repeat purchase"):
        bgnbd.fit(zeros, zeros, np.linspace(1, 30, 50))
    with pytest.raises(ModelNotFitted, match="no customer has a repeat purchase"):
        gamma_gamma.fit(zeros, zeros)


def test_gradients_match_finite_differences() -> None:
    from scipy.optimize import approx_fprime

    x, t_x, T = arr(0, 1, 4, 7), arr(0, 2.5, 10, 30), arr(5, 12, 20, 31)  # noqa: N806
    params = arr(0.7, 4.0, 0.8, 2.5)
    for i in range(4):
        numeric = approx_fprime(params, lambda p, i=i: bgnbd.log_likelihood(p, x, t_x, T)[i], 1e-7)
        assert bgnbd.gradient(params, x, t_x, T)[:, i] == pytest.approx(numeric, rel=1e-4, abs=1e-6)
    spend = arr(6.0, 3.7, 15.0)
    xs, ms = arr(1, 3), arr(20.0, 35.5)
    for i in range(2):
        numeric = approx_fprime(
            spend, lambda p, i=i: gamma_gamma.log_likelihood(p, xs, ms)[i], 1e-7
        )
        assert gamma_gamma.gradient(spend, xs, ms)[:, i] == pytest.approx(
            numeric, rel=1e-4, abs=1e-6
        )
