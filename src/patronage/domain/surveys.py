"""Survey statistics that do not mislead: NPS and CSAT with honest margins of error.

Pure domain: plain Python and ``scipy.stats`` for normal quantiles, no I/O.

A score of ``None`` (or NaN) is a survey that was shown but not answered. It is
not a response and never counts, in ``n`` or anywhere else.

Net Promoter Score
    Promoters score 9-10, passives 7-8, detractors 0-6 on the 0-10
    "how likely are you to recommend" question. NPS = %promoters - %detractors,
    reported here on the -100..100 scale (the interval too).

    The 95% interval is the adjusted-Wald interval of Rocks (2016): add
    pseudo-observations of 3/4 detractor, 3/2 passive and 3/4 promoter (3 in
    all) to the counts, then build a Wald interval around the adjusted score
    with the trinomial variance ``p + d - (p - d)**2`` over ``n + 3``. Rocks
    found this interval had close to nominal coverage even for small samples,
    where the plain Wald interval is too narrow. The interval is clipped to
    [-100, 100].

    B. Rocks (2016), "Interval Estimation for the 'Net Promoter Score'",
    The American Statistician 70(4), 365-372, doi:10.1080/00031305.2016.1158124.
    J. Sauro and J. R. Lewis (2021), "Evaluating NPS Confidence Intervals with
    Real-World Data", MeasuringU, describe the same method (n + 3, +3/4 to
    promoters and detractors) and confirm it on field data.

    Two periods or two groups are compared with a z test on the difference of
    the adjusted scores, with the standard error ``sqrt(se_a**2 + se_b**2)``
    built from each group's adjusted variance (independent samples).

CSAT
    The share of satisfied answers (4 or 5 on a 1-5 scale), with the Wilson
    score interval: E. B. Wilson (1927), "Probable inference, the law of
    succession, and statistical inference", JASA 22(158), 209-212. Reported as
    a percentage (0..100).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from scipy.stats import norm

from patronage.errors import InvalidInput

NPS_METHOD = "adjusted-wald"
CSAT_METHOD = "wilson"

# Rocks (2016): pseudo-observations added before the Wald interval.
_PSEUDO_DETRACTORS = 0.75
_PSEUDO_PASSIVES = 1.5
_PSEUDO_PROMOTERS = 0.75
_PSEUDO_TOTAL = _PSEUDO_DETRACTORS + _PSEUDO_PASSIVES + _PSEUDO_PROMOTERS


@dataclass(frozen=True)
class NpsResult:
    """NPS of one sample. Scores and intervals on the -100..100 scale."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float
    ci95: tuple[float, float]
    adjusted_nps: float
    standard_error: float
    method: str = NPS_METHOD


@dataclass(frozen=True)
class NpsComparison:
    """Second sample minus first: raw difference, z test on the adjusted scores."""

    difference: float
    ci95: tuple[float, float]
    z: float
    p_value: float


@dataclass(frozen=True)
class CsatResult:
    """Share of 4-5 answers on a 1-5 scale, as a percentage, with a Wilson interval."""

    n: int
    satisfied: int
    csat: float
    ci95: tuple[float, float]
    method: str = CSAT_METHOD


def z_for(confidence: float) -> float:
    """Two-sided normal quantile, e.g. 1.959964 for 0.95."""
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("confidence must be between 0 and 1", field="confidence")
    return float(norm.ppf(0.5 + confidence / 2.0))


def answered_scores(
    scores: Iterable[float | int | None], *, low: int, high: int, field: str
) -> list[int]:
    """The answered scores as integers; unanswered (None/NaN) are dropped.

    A score that is not a whole number in ``low..high`` is bad input; the error
    names the field and the 1-based row.
    """
    answered: list[int] = []
    for row, score in enumerate(scores, start=1):
        if score is None or (isinstance(score, float) and math.isnan(score)):
            continue
        if isinstance(score, bool) or not float(score).is_integer():
            raise InvalidInput(
                f"{field} must be a whole number from {low} to {high} (row {row})",
                field=field,
                row=row,
                value=score,
            )
        value = int(score)
        if not low <= value <= high:
            raise InvalidInput(
                f"{field} out of range {low}-{high} (row {row}: {value})",
                field=field,
                row=row,
                value=value,
            )
        answered.append(value)
    return answered


def net_promoter_score(
    scores: Iterable[float | int | None], *, field: str = "score", confidence: float = 0.95
) -> NpsResult:
    """NPS with an adjusted-Wald interval (Rocks 2016) from 0-10 scores."""
    answered = answered_scores(scores, low=0, high=10, field=field)
    if not answered:
        raise InvalidInput(f"no answered {field} scores", field=field)
    promoters = sum(1 for s in answered if s >= 9)
    detractors = sum(1 for s in answered if s <= 6)
    return nps_from_counts(
        promoters=promoters,
        passives=len(answered) - promoters - detractors,
        detractors=detractors,
        confidence=confidence,
    )


def nps_from_counts(
    *, promoters: int, passives: int, detractors: int, confidence: float = 0.95
) -> NpsResult:
    """NPS and its adjusted-Wald interval from the three counts."""
    if min(promoters, passives, detractors) < 0:
        raise InvalidInput("counts cannot be negative", field="counts")
    n = promoters + passives + detractors
    if n == 0:
        raise InvalidInput("no responses", field="counts")
    n_adj = n + _PSEUDO_TOTAL
    p = (promoters + _PSEUDO_PROMOTERS) / n_adj
    d = (detractors + _PSEUDO_DETRACTORS) / n_adj
    adjusted = p - d
    se = math.sqrt((p + d - adjusted**2) / n_adj)
    half = z_for(confidence) * se
    low, high = max(-1.0, adjusted - half), min(1.0, adjusted + half)
    return NpsResult(
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=100.0 * (promoters - detractors) / n,
        ci95=(100.0 * low, 100.0 * high),
        adjusted_nps=100.0 * adjusted,
        standard_error=100.0 * se,
    )


def compare_nps(first: NpsResult, second: NpsResult, *, confidence: float = 0.95) -> NpsComparison:
    """Is ``second`` (a later period, another group) different from ``first``?

    Two-sided z test on the difference of the adjusted scores, independent samples.
    ``difference`` is the raw NPS difference, second minus first (-200..200).
    """
    se = math.hypot(first.standard_error, second.standard_error)
    adjusted_difference = second.adjusted_nps - first.adjusted_nps
    z = adjusted_difference / se
    half = z_for(confidence) * se
    return NpsComparison(
        difference=second.nps - first.nps,
        ci95=(adjusted_difference - half, adjusted_difference + half),
        z=z,
        p_value=float(2.0 * norm.sf(abs(z))),
    )


def customer_satisfaction(
    scores: Iterable[float | int | None], *, field: str = "score", confidence: float = 0.95
) -> CsatResult:
    """CSAT: share of 4-5 answers on a 1-5 scale, with a Wilson score interval."""
    answered = answered_scores(scores, low=1, high=5, field=field)
    if not answered:
        raise InvalidInput(f"no answered {field} scores", field=field)
    satisfied = sum(1 for s in answered if s >= 4)
    low, high = wilson_interval(satisfied, len(answered), confidence=confidence)
    return CsatResult(
        n=len(answered),
        satisfied=satisfied,
        csat=100.0 * satisfied / len(answered),
        ci95=(100.0 * low, 100.0 * high),
    )


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval for a proportion, as fractions 0..1."""
    if n <= 0 or not 0 <= successes <= n:
        raise InvalidInput("need 0 <= successes <= n and n > 0", field="n")
    z = z_for(confidence)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
