"""Churn risk and lifetime value of one member, for member 360.

The member's own purchase history (repeat purchase days, recency, age, mean repeat
spend) goes through the program's BG/NBD and Gamma-Gamma models (``analytics.clv``,
graded by ``analytics.churn``): the same models as ``GET /analytics/churn``, in weeks.
The models are fitted on the program's buyers, summarised in SQL. A fit is kept in
memory per database, program, day and purchase count, so it runs at most once per
change of the data and day, never on every page view.

With too little data the outlook says so and shows no numbers: fewer than
``MIN_BUYERS`` buyers or ``MIN_REPEAT_BUYERS`` repeat buyers, or a fit that does not
identify the model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from patronage.analytics import churn, clv
from patronage.analytics.fitting import ModelNotFitted
from patronage.storage.member_history_queries import purchase_fingerprint, purchase_summary
from patronage.storage.uow import UnitOfWork

MIN_BUYERS = 20
MIN_REPEAT_BUYERS = 5
TIME_UNIT = "week"
CHURN_HORIZON = 13.0  # weeks, as GET /analytics/churn
VALUE_HORIZON = 52.0  # weeks: the next twelve months
CACHE_SIZE = 8

_fits: OrderedDict[tuple[Any, ...], Fit] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Fit:
    """The program's fitted models, or why there are none."""

    models: clv.ClvFit | None
    buyers: int
    repeat_buyers: int
    problem: str | None = None


@dataclass(frozen=True)
class Outlook:
    """``state``: ready, no_purchases or not_enough_data (``problem`` says which)."""

    state: str
    as_of: date
    buyers: int = 0
    repeat_buyers: int = 0
    problem: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    min_buyers: int = MIN_BUYERS
    min_repeat_buyers: int = MIN_REPEAT_BUYERS


def member_outlook(uow: UnitOfWork, program_id: int, member_id: int) -> Outlook:
    """Inside the caller's ``with uow``."""
    as_of = uow.clock().date()
    own = purchase_summary(uow.session, program_id, as_of, member_id)
    if own.empty:
        return Outlook("no_purchases", as_of)
    fit = _program_fit(uow, program_id, as_of)
    if fit.models is None:
        return Outlook(
            "not_enough_data", as_of, fit.buyers, fit.repeat_buyers, fit.problem or "model"
        )
    history = clv.repeat_history(own, as_of, TIME_UNIT)
    graded = churn.grade(clv.predict(history, fit.models, CHURN_HORIZON), CHURN_HORIZON, TIME_UNIT)
    year = clv.predict(history, fit.models, VALUE_HORIZON)
    values = {
        "churn_risk": float(graded["churn_risk"].iloc[0]),
        "p_alive": float(graded["p_alive"].iloc[0]),
        "health": str(graded["health"].iloc[0]),
        "expected_purchases": float(year["expected_purchases"].iloc[0]),
        "clv_minor": round(float(year["clv"].iloc[0]) * 100),
        "repeat_purchases": int(history["frequency"].iloc[0]),
    }
    return Outlook("ready", as_of, fit.buyers, fit.repeat_buyers, None, values)


def _program_fit(uow: UnitOfWork, program_id: int, as_of: date) -> Fit:
    database = uow.engine.url.render_as_string(hide_password=True)
    key = (database, program_id, as_of, purchase_fingerprint(uow.session, program_id, as_of))
    with _lock:
        if key in _fits:
            _fits.move_to_end(key)
            return _fits[key]
    fit = _fit(purchase_summary(uow.session, program_id, as_of), as_of)
    with _lock:
        _fits[key] = fit
        while len(_fits) > CACHE_SIZE:
            _fits.popitem(last=False)
    return fit


def _fit(summary: Any, as_of: date) -> Fit:
    history = clv.repeat_history(summary, as_of, TIME_UNIT)
    buyers, repeat = len(history), int((history["frequency"] > 0).sum())
    if buyers < MIN_BUYERS:
        return Fit(None, buyers, repeat, "few_buyers")
    if repeat < MIN_REPEAT_BUYERS:
        return Fit(None, buyers, repeat, "few_repeat_buyers")
    try:
        return Fit(clv.fit_models(history, "bgnbd"), buyers, repeat)
    except ModelNotFitted:
        return Fit(None, buyers, repeat, "model")
