"""Bayesian CLV: the same models fitted with pymc-marketing, for posterior intervals.

Optional (`pip install 'patronage[bayes]'`, Python >= 3.12). Nothing here imports PyMC
at module level: the maximum-likelihood path never loads it. Every parameter gets a
flat prior on (0, inf) (HalfFlat), so the posterior mode is the maximum-likelihood
fit and the intervals reflect the data alone, whatever the currency or time unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

from patronage.errors import InvalidInput

INSTALL_HINT = "--bayes needs pymc-marketing: pip install 'patronage[bayes]' (Python >= 3.12)"
SAMPLERS = {"nuts": "mcmc", "demz": "demz"}  # our name -> pymc-marketing's fit method
PURCHASE_PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pareto-nbd": ("r", "alpha", "s", "beta")}
SPEND_PARAMS = ("p", "q", "v")
R_HAT_OK = 1.01  # Vehtari et al. (2021): above this the chains disagree; sample longer


@dataclass(frozen=True)
class Sampling:
    sampler: str = "nuts"
    draws: int = 1000
    chains: int = 2
    hdi_prob: float = 0.94
    seed: int = 0

    def check(self) -> None:
        if self.sampler not in SAMPLERS:
            raise InvalidInput(
                f"unknown sampler {self.sampler!r}: use nuts or demz", field="sampler"
            )
        if self.draws < 100:
            raise InvalidInput("--draws must be at least 100", field="draws")
        if self.chains < 2:
            raise InvalidInput("--chains must be at least 2 (r_hat needs two)", field="chains")
        if not 0 < self.hdi_prob < 1:
            raise InvalidInput("--hdi-prob must be in (0, 1)", field="hdi_prob")


@dataclass(frozen=True)
class BayesFit:
    purchases: Any  # a fitted pymc-marketing BetaGeoModel or ParetoNBDModel
    spend: Any  # a fitted GammaGammaModel
    model: str
    sampling: Sampling

    def as_json(self) -> dict[str, Any]:
        prob = self.sampling.hdi_prob
        purchases = _posterior(self.purchases.fit_result, PURCHASE_PARAMS[self.model], prob)
        spend = _posterior(self.spend.fit_result, SPEND_PARAMS, prob)
        return {
            "library": f"pymc-marketing {version('pymc-marketing')}",
            "sampler": self.sampling.sampler,
            "draws": self.sampling.draws,
            "tune": self.sampling.draws,
            "chains": self.sampling.chains,
            "seed": self.sampling.seed,
            "hdi_prob": prob,
            "priors": "HalfFlat (flat on (0, inf)) for every parameter",
            "params": purchases["params"],
            "r_hat_max": purchases["r_hat_max"],
            "converged": purchases["converged"],
            "spend_model": spend,
        }


def require_pymc_marketing() -> None:
    """Refuse clearly (exit 2 in the CLI) when the optional extra is not installed."""
    try:
        import pymc_marketing  # noqa: F401
    except ImportError:
        raise InvalidInput(INSTALL_HINT, field="bayes") from None


def fit_models(history: pd.DataFrame, model: str, sampling: Sampling) -> BayesFit:
    """Sample the purchase model on everyone and Gamma-Gamma on the repeat buyers."""
    require_pymc_marketing()
    sampling.check()
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel

    if model not in PURCHASE_PARAMS:
        raise InvalidInput(f"unknown model {model!r}: use bgnbd or pareto-nbd", field="model")
    purchase_class = BetaGeoModel if model == "bgnbd" else ParetoNBDModel
    purchases = purchase_class(model_config={n: Prior("HalfFlat") for n in PURCHASE_PARAMS[model]})
    _sample(purchases, history[["customer_id", "frequency", "recency", "T"]], sampling)
    repeat = history[history["frequency"] > 0]
    spend = GammaGammaModel(model_config={n: Prior("HalfFlat") for n in SPEND_PARAMS})
    _sample(spend, repeat[["customer_id", "frequency", "monetary_value"]], sampling)
    return BayesFit(purchases, spend, model, sampling)


def predict_intervals(history: pd.DataFrame, fitted: BayesFit, horizon: float) -> pd.DataFrame:
    """Highest-density intervals of P(alive) and expected purchases, per customer."""
    ids = history["customer_id"].to_numpy()
    prob = fitted.sampling.hdi_prob
    alive = fitted.purchases.expected_probability_alive().sel(customer_id=ids)
    expected = fitted.purchases.expected_purchases(future_t=horizon).sel(customer_id=ids)
    columns: dict[str, Any] = {}
    for name, draws in (("p_alive", alive), ("expected_purchases", expected)):
        low, high = _hdi(draws, prob)
        columns[f"{name}_hdi_low"], columns[f"{name}_hdi_high"] = low, high
    return history.assign(**columns)


def _sample(model: Any, data: pd.DataFrame, sampling: Sampling) -> None:
    model.fit(
        data,
        method=SAMPLERS[sampling.sampler],
        draws=sampling.draws,
        tune=sampling.draws,
        chains=sampling.chains,
        cores=1,
        random_seed=sampling.seed,
        progressbar=False,
    )


def _posterior(posterior: Any, names: tuple[str, ...], prob: float) -> dict[str, Any]:
    import arviz as az

    r_hat = az.rhat(posterior[list(names)])
    params = {}
    for name in names:
        low, high = _hdi(posterior[name], prob)
        params[name] = {
            "mean": float(posterior[name].mean()),
            "hdi_low": float(low),
            "hdi_high": float(high),
            "r_hat": float(r_hat[name]),
        }
    r_hat_max = max(p["r_hat"] for p in params.values())
    return {"params": params, "r_hat_max": r_hat_max, "converged": r_hat_max < R_HAT_OK}


def _hdi(draws: Any, prob: float) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    import arviz as az

    bounds = az.hdi(draws, prob=prob, dim=["chain", "draw"])
    return (
        np.asarray(bounds.sel(ci_bound="lower"), dtype=np.float64),
        np.asarray(bounds.sel(ci_bound="upper"), dtype=np.float64),
    )
