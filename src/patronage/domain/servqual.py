"""SERVQUAL gap scores: perception minus expectation, per item, dimension and overall.

Pure domain, no I/O. The instrument is the 22-item SERVQUAL of Parasuraman,
Zeithaml and Berry: each item is asked twice on a 7-point scale, once as an
expectation (E1..E22) and once as a perception of the firm (P1..P22). The gap
``P - E`` is negative where service falls short of expectations.

Items group into five dimensions: tangibles 1-4, reliability 5-9,
responsiveness 10-13, assurance 14-17, empathy 18-22.

- Item gap: mean over respondents of ``P_i - E_i``.
- Dimension gap: per respondent, the mean of that respondent's item gaps in the
  dimension; then the mean over respondents.
- Unweighted total: per respondent, the mean of the five dimension gaps; then
  the mean over respondents (with complete data this is the mean of the five
  dimension gaps).
- Weighted total: respondents split 100 points of importance across the five
  dimensions (W_tangibles..W_empathy). Per respondent
  ``sum(dimension gap * weight / 100)``; then the mean over respondents who gave
  weights.

Every mean carries a standard error and a 95% t interval (n - 1 degrees of
freedom); with a single respondent neither exists and both are ``None``.

An unanswered item (``None``) is not a response: an item pair counts only when
both E and P were answered; a dimension counts for a respondent when at least
one of its pairs was answered; the totals need all five dimensions.

A. Parasuraman, V. A. Zeithaml and L. L. Berry (1988), "SERVQUAL: A multiple-item
scale for measuring consumer perceptions of service quality", Journal of
Retailing 64(1), 12-40.
A. Parasuraman, L. L. Berry and V. A. Zeithaml (1991), "Refinement and
reassessment of the SERVQUAL scale", Journal of Retailing 67(4), 420-450
(the 100-point importance allocation across the five dimensions).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy.stats import t as student_t

from patronage.errors import InvalidInput

ITEM_COUNT = 22
SCALE_LOW, SCALE_HIGH = 1, 7
DIMENSIONS: dict[str, tuple[int, ...]] = {
    "tangibles": (1, 2, 3, 4),
    "reliability": (5, 6, 7, 8, 9),
    "responsiveness": (10, 11, 12, 13),
    "assurance": (14, 15, 16, 17),
    "empathy": (18, 19, 20, 21, 22),
}
WEIGHT_TOTAL = 100.0
WEIGHT_TOLERANCE = 0.5

Score = float | int | None


@dataclass(frozen=True)
class ServqualAnswers:
    """One respondent: 22 expectations, 22 perceptions, optional importance weights."""

    expectations: Sequence[Score]
    perceptions: Sequence[Score]
    weights: Mapping[str, float] | None = None


@dataclass(frozen=True)
class GapEstimate:
    """A mean gap with its standard error and 95% t interval (None when n < 2)."""

    mean: float
    n: int
    standard_error: float | None
    ci95: tuple[float, float] | None


@dataclass(frozen=True)
class ServqualResult:
    respondents: int
    items: dict[int, GapEstimate]
    dimensions: dict[str, GapEstimate]
    unweighted_total: GapEstimate | None
    weighted_total: GapEstimate | None


def estimate(values: Sequence[float], *, confidence: float = 0.95) -> GapEstimate:
    """Mean with a Student t interval."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return GapEstimate(mean=mean, n=n, standard_error=None, ci95=None)
    se = statistics.stdev(values) / math.sqrt(n)
    half = float(student_t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return GapEstimate(mean=mean, n=n, standard_error=se, ci95=(mean - half, mean + half))


def servqual_gaps(responses: Sequence[ServqualAnswers]) -> ServqualResult:
    """Gap scores per item, per dimension and in total, with t intervals."""
    item_gaps: dict[int, list[float]] = {i: [] for i in range(1, ITEM_COUNT + 1)}
    dimension_gaps: dict[str, list[float]] = {name: [] for name in DIMENSIONS}
    unweighted: list[float] = []
    weighted: list[float] = []
    respondents = 0
    for row, answers in enumerate(responses, start=1):
        gaps = respondent_item_gaps(answers, row=row)
        weights = respondent_weights(answers.weights, row=row)
        if not gaps:
            continue  # shown, nothing answered: not a response
        respondents += 1
        for item, gap in gaps.items():
            item_gaps[item].append(gap)
        per_dimension = respondent_dimension_gaps(gaps)
        for name, gap in per_dimension.items():
            dimension_gaps[name].append(gap)
        if len(per_dimension) == len(DIMENSIONS):
            unweighted.append(statistics.fmean(per_dimension.values()))
            if weights is not None:
                weighted.append(
                    sum(per_dimension[d] * weights[d] / WEIGHT_TOTAL for d in DIMENSIONS)
                )
    if respondents == 0:
        raise InvalidInput("no answered SERVQUAL responses", field="responses")
    return ServqualResult(
        respondents=respondents,
        items={i: estimate(v) for i, v in item_gaps.items() if v},
        dimensions={d: estimate(v) for d, v in dimension_gaps.items() if v},
        unweighted_total=estimate(unweighted) if unweighted else None,
        weighted_total=estimate(weighted) if weighted else None,
    )


def respondent_item_gaps(answers: ServqualAnswers, *, row: int) -> dict[int, float]:
    """``P_i - E_i`` for every item where both were answered."""
    expectations = _checked_scores(answers.expectations, "E", row=row)
    perceptions = _checked_scores(answers.perceptions, "P", row=row)
    return {
        item: p - e
        for item, (e, p) in enumerate(zip(expectations, perceptions, strict=True), start=1)
        if e is not None and p is not None
    }


def respondent_dimension_gaps(item_gaps: Mapping[int, float]) -> dict[str, float]:
    """Mean item gap per dimension, for dimensions with at least one answered pair."""
    result: dict[str, float] = {}
    for name, items in DIMENSIONS.items():
        answered = [item_gaps[i] for i in items if i in item_gaps]
        if answered:
            result[name] = statistics.fmean(answered)
    return result


def respondent_weights(weights: Mapping[str, float] | None, *, row: int) -> dict[str, float] | None:
    """Importance weights, checked: all five, none negative, summing to 100."""
    if weights is None:
        return None
    present = {k: v for k, v in weights.items() if v is not None and not math.isnan(v)}
    if not present:
        return None
    missing = [d for d in DIMENSIONS if d not in present]
    if missing:
        raise InvalidInput(
            f"W_{missing[0]} missing: importance weights are all five or none (row {row})",
            field=f"W_{missing[0]}",
            row=row,
        )
    for name in DIMENSIONS:
        if present[name] < 0:
            raise InvalidInput(
                f"W_{name} cannot be negative (row {row})", field=f"W_{name}", row=row
            )
    total = sum(present[d] for d in DIMENSIONS)
    if abs(total - WEIGHT_TOTAL) > WEIGHT_TOLERANCE:
        raise InvalidInput(
            f"importance weights must sum to 100, not {total:g} (row {row})",
            field="W_*",
            row=row,
            total=total,
        )
    return {d: float(present[d]) for d in DIMENSIONS}


def _checked_scores(scores: Sequence[Score], prefix: str, *, row: int) -> list[int | None]:
    if len(scores) != ITEM_COUNT:
        raise InvalidInput(
            f"SERVQUAL needs {ITEM_COUNT} {prefix} scores, got {len(scores)} (row {row})",
            field=f"{prefix}1..{prefix}{ITEM_COUNT}",
            row=row,
        )
    checked: list[int | None] = []
    for item, score in enumerate(scores, start=1):
        if score is None or (isinstance(score, float) and math.isnan(score)):
            checked.append(None)
            continue
        if isinstance(score, bool) or not float(score).is_integer():
            raise InvalidInput(
                f"{prefix}{item} must be a whole number (row {row})",
                field=f"{prefix}{item}",
                row=row,
            )
        if not SCALE_LOW <= int(score) <= SCALE_HIGH:
            raise InvalidInput(
                f"{prefix}{item} out of range {SCALE_LOW}-{SCALE_HIGH} (row {row}: {score:g})",
                field=f"{prefix}{item}",
                row=row,
                value=score,
            )
        checked.append(int(score))
    return checked
