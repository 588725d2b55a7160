"""Level-4 training evaluation: what training did to the customers staff served.

Staff are trained in waves, so a before/after comparison would mix the training
effect with everything else that changed over the same months. This module
estimates it with the staggered-adoption difference-in-differences design of

    Callaway, B. and Sant'Anna, P. H. C. (2021). "Difference-in-Differences with
    multiple time periods". Journal of Econometrics 225(2), 200-230.

For each cohort g (staff who completed training in period g) and period t the
group-time effect ATT(g,t) is the mean change of the cohort's outcome from the
base period g-1 to t minus the mean change, over the same two periods, of the
staff not yet trained at either (trained later, or never): unconditional
parallel trends, no covariates, so the outcome-regression, IPW and doubly
robust estimators of the paper coincide. The base period is universal (g-1 for
every t), so the event study reads against the last month before training,
whose estimate is zero by construction (the reference).

Aggregates weight the ATT(g,t) by the number of trained staff behind each: the
overall effect averages every post-training cell, the event study averages the
cells at each period relative to training. Staff-period panels may be
unbalanced: a cell uses the staff observed in both of its periods.

Inference uses each staff member's influence function, stacked over all cells,
so standard errors are clustered by staff member and the covariance between
cells is kept (for the joint pre-trend test). Deviations from the paper: the
aggregation weights are treated as fixed (no estimated-weight term), and the
within-group variances get the n/(n-1) small-sample correction. Intervals are
pointwise normal 95 % intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from patronage.analytics.training_panel import (
    FloatArray,
    PeriodUnit,
    StaffPanel,
    build_panel,
)
from patronage.errors import InvalidInput

METHOD = (
    "Callaway-Sant'Anna (2021) staggered difference-in-differences; controls: "
    "never-trained and not-yet-trained staff; base period g-1; "
    "95% CI from influence functions clustered by staff member"
)
Z95 = float(stats.norm.ppf(0.975))
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Estimate:
    effect: float
    se: float

    @property
    def ci95(self) -> tuple[float, float]:
        return (self.effect - Z95 * self.se, self.effect + Z95 * self.se)


@dataclass(frozen=True)
class EventStudyPoint:
    period: int  # relative to training: 0 = the training period, -1 = the reference
    estimate: Estimate
    cells: int
    staff_treated: int


@dataclass(frozen=True)
class PreTrendTest:
    """Wald test that every pre-training event-study estimate is zero."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class TrainingEffect:
    overall: Estimate
    event_study: tuple[EventStudyPoint, ...]
    pre_trend: PreTrendTest | None
    staff_treated: int
    staff_control: int
    staff_not_yet_trained: int
    interactions: int
    affected_interactions: int
    method: str = METHOD


@dataclass(frozen=True)
class GroupTime:
    """All ATT(g,t) cells with both treated and control staff, and their influence."""

    cohort: FloatArray
    period: FloatArray
    att: FloatArray
    n_treated: FloatArray
    influence: FloatArray  # staff x cells
    treated: BoolArray  # staff x cells
    control: BoolArray


def group_time_effects(panel: StaffPanel) -> GroupTime:
    """ATT(g,t) for every cohort g and period t != g-1, vectorised over cells."""
    first, last = panel.periods[0], panel.periods[-1]
    within = (panel.cohort > first) & (panel.cohort <= last)
    cohorts = np.unique(panel.cohort[within])
    if cohorts.size == 0:
        raise InvalidInput("no trained staff has interactions before training", field="trainings")
    g, t = (a.ravel().astype(np.float64) for a in np.meshgrid(cohorts, panel.periods))
    keep = t != g - 1
    g, t = g[keep], t[keep]
    base_col = (g - 1 - first).astype(np.int64)
    change = panel.outcome[:, (t - first).astype(np.int64)] - panel.outcome[:, base_col]
    seen = ~np.isnan(change)
    staff_g = panel.cohort[:, None]
    treated = (staff_g == g) & seen
    control = (staff_g > np.maximum(t, g - 1)) & (staff_g != g) & seen
    n_t, n_c = treated.sum(axis=0), control.sum(axis=0)
    usable = (n_t > 0) & (n_c > 0)
    treated, control, change = treated[:, usable], control[:, usable], change[:, usable]
    n_t, n_c = n_t[usable].astype(np.float64), n_c[usable].astype(np.float64)
    delta = np.nan_to_num(change)
    mean_t = (delta * treated).sum(axis=0) / n_t
    mean_c = (delta * control).sum(axis=0) / n_c
    n_staff = float(panel.outcome.shape[0])
    influence = n_staff * (
        treated * (delta - mean_t) / n_t * _small_sample(n_t)
        - control * (delta - mean_c) / n_c * _small_sample(n_c)
    )
    return GroupTime(g[usable], t[usable], mean_t - mean_c, n_t, influence, treated, control)


def _small_sample(n: FloatArray) -> FloatArray:
    return np.sqrt(np.where(n > 1, n / np.maximum(n - 1, 1), 1.0))


def aggregate(cells: GroupTime, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Weighted averages of ATT(g,t) (one row of weights per aggregate) and their influence."""
    totals = weights.sum(axis=1, keepdims=True)
    shares = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    return shares @ cells.att, cells.influence @ shares.T


def _estimates(values: FloatArray, influence: FloatArray) -> list[Estimate]:
    n = influence.shape[0]
    se = np.sqrt((influence**2).sum(axis=0)) / n
    return [Estimate(float(v), float(s)) for v, s in zip(values, se, strict=True)]


def event_study(cells: GroupTime) -> tuple[tuple[EventStudyPoint, ...], PreTrendTest | None]:
    relative = cells.period - cells.cohort
    horizons = np.unique(relative)
    weights = (relative[None, :] == horizons[:, None]) * cells.n_treated[None, :]
    values, influence = aggregate(cells, weights)
    staff = [(cells.treated[:, relative == e].any(axis=1)).sum() for e in horizons]
    points = [
        EventStudyPoint(int(e), est, int((relative == e).sum()), int(k))
        for e, est, k in zip(horizons, _estimates(values, influence), staff, strict=True)
    ]
    points.append(EventStudyPoint(-1, Estimate(0.0, 0.0), 0, 0))
    pre = horizons < -1
    test = pre_trend_test(values[pre], influence[:, pre]) if pre.any() else None
    return tuple(sorted(points, key=lambda p: p.period)), test


def pre_trend_test(values: FloatArray, influence: FloatArray) -> PreTrendTest:
    """Wald statistic with a Hotelling-style F reference for a finite number of staff.

    F = W (m - k) / (k (m - 1)) on (k, m - k) degrees of freedom, with k the rank of
    the covariance and m the staff contributing; the plain chi-square reference
    rejects too often with a few dozen staff and many pre-periods.
    """
    n = influence.shape[0]
    covariance = influence.T @ influence / n**2
    rank = max(int(np.linalg.matrix_rank(covariance)), 1)
    statistic = float(values @ np.linalg.pinv(covariance) @ values)
    staff = int((np.abs(influence) > 0).any(axis=1).sum())
    if staff - rank < 1:
        return PreTrendTest(statistic, rank, float(stats.chi2.sf(statistic, rank)))
    scaled = statistic * (staff - rank) / (rank * (staff - 1))
    return PreTrendTest(statistic, rank, float(stats.f.sf(scaled, rank, staff - rank)))


def estimate_training_effect(panel: StaffPanel) -> TrainingEffect:
    cells = group_time_effects(panel)
    post = cells.period >= cells.cohort
    if not post.any():
        raise InvalidInput(
            "no post-training period has untrained or not-yet-trained staff to compare with, "
            "or trained staff have no interactions after training",
            field="trainings",
        )
    value, influence = aggregate(cells, (post * cells.n_treated)[None, :])
    overall = _estimates(value, influence)[0]
    points, pre_trend = event_study(cells)
    treated_staff = cells.treated[:, post].any(axis=1)
    control_any = cells.control.any(axis=1)
    never = ~np.isfinite(panel.cohort)
    used = treated_staff | control_any | cells.treated.any(axis=1)
    after = panel.periods[None, :] >= panel.cohort[:, None]
    return TrainingEffect(
        overall=overall,
        event_study=points,
        pre_trend=pre_trend,
        staff_treated=int(treated_staff.sum()),
        staff_control=int((control_any & never).sum()),
        staff_not_yet_trained=int((control_any & ~never).sum()),
        interactions=int(panel.served[used].sum()),
        affected_interactions=int((panel.served * after)[treated_staff].sum()),
    )


def evaluate_training(
    interactions: pd.DataFrame,
    trainings: pd.DataFrame,
    outcome: str,
    *,
    course: str | None = None,
    unit: PeriodUnit = PeriodUnit.MONTH,
    tz: str = "UTC",
) -> TrainingEffect:
    """Estimate the effect of training on ``outcome`` from raw interaction and training rows."""
    panel = build_panel(interactions, trainings, outcome, course=course, unit=unit, tz=tz)
    return estimate_training_effect(panel)
