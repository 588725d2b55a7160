"""NPS and CSAT statistics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from patronage.domain.surveys import (
    compare_nps,
    customer_satisfaction,
    net_promoter_score,
    nps_from_counts,
    wilson_interval,
)
from patronage.errors import InvalidInput

# Ten answers: promoters 10,9,9,10,9 (5); passives 8,7 (2); detractors 6,5,3 (3).
TEN_SCORES = [10, 9, 9, 8, 7, 6, 5, 10, 3, 9]


def test_nps_counts_and_raw_score() -> None:
    result = net_promoter_score(TEN_SCORES)
    assert (result.n, result.promoters, result.passives, result.detractors) == (10, 5, 2, 3)
    # (5 - 3) / 10 = 0.2 -> 20 on the -100..100 scale
    assert result.nps == pytest.approx(20.0)
    assert result.method == "adjusted-wald"


def test_nps_adjusted_wald_interval_by_hand() -> None:
    # n' = 10 + 3 = 13; p = (5 + .75)/13 = .442308; d = (3 + .75)/13 = .288462
    # adjusted = p - d = 2/13 = .153846
    # var = p + d - adjusted^2 = .730769 - .023669 = .707101
    # se = sqrt(.707101 / 13) = .233222
    # ci = .153846 -/+ 1.959964 * .233222 = (-.303260, .610952) -> (-30.326, 61.095)
    result = net_promoter_score(TEN_SCORES)
    assert result.adjusted_nps == pytest.approx(100 * 2 / 13)
    assert result.standard_error == pytest.approx(23.3222, abs=1e-3)
    assert result.ci95[0] == pytest.approx(-30.326, abs=1e-3)
    assert result.ci95[1] == pytest.approx(61.095, abs=1e-3)


def test_unanswered_scores_are_not_responses() -> None:
    with_blanks = [*TEN_SCORES, None, math.nan, None]
    assert net_promoter_score(with_blanks) == net_promoter_score(TEN_SCORES)


def test_interval_is_clipped_to_the_scale() -> None:
    # 20 promoters: n' = 23, p = 20.75/23 = .902174, d = .75/23 = .032609
    # adjusted = .869565, se = sqrt((.934783 - .756144)/23) = .088130
    # upper = .869565 + 1.959964 * .088130 = 1.042 -> clipped to 1 (100)
    result = nps_from_counts(promoters=20, passives=0, detractors=0)
    assert result.nps == pytest.approx(100.0)
    assert result.ci95[1] == pytest.approx(100.0)
    assert result.ci95[0] == pytest.approx(100 * (0.869565 - 1.959964 * 0.088130), abs=1e-3)


def test_single_detractor_has_a_wide_interval() -> None:
    # n' = 4, p = .75/4 = .1875, d = 1.75/4 = .4375, adjusted = -.25
    # se = sqrt((.625 - .0625)/4) = .375; ci = -.25 -/+ .734987 -> (-98.499, 48.499)
    result = net_promoter_score([2])
    assert result.nps == pytest.approx(-100.0)
    assert result.ci95[0] == pytest.approx(-98.499, abs=1e-3)
    assert result.ci95[1] == pytest.approx(48.499, abs=1e-3)


def test_compare_two_periods_by_hand() -> None:
    # First: 5/2/3 (above). Second: promoters 2, passives 2, detractors 6, NPS -40.
    # Second adjusted: p = 2.75/13, d = 6.75/13, adjusted = -4/13 = -.307692
    # var = .730769 - .094675 = .636095, se = sqrt(.636095/13) = .221202
    # se(diff) = sqrt(.233222^2 + .221202^2) = .321439
    # z = (-.307692 - .153846) / .321439 = -1.43585; p = 2 * (1 - Phi(1.43585)) = .15104
    first = net_promoter_score(TEN_SCORES)
    second = net_promoter_score([10, 9, 8, 7, 6, 6, 5, 4, 0, 1])
    assert second.nps == pytest.approx(-40.0)
    comparison = compare_nps(first, second)
    assert comparison.difference == pytest.approx(-60.0)
    assert comparison.z == pytest.approx(-1.43585, abs=1e-4)
    assert comparison.p_value == pytest.approx(0.15104, abs=1e-4)
    # ci of the adjusted difference: -46.1538 -/+ 1.959964 * 32.1439
    assert comparison.ci95[0] == pytest.approx(-46.1538 - 63.0009, abs=1e-2)


def test_identical_groups_have_no_difference() -> None:
    comparison = compare_nps(net_promoter_score(TEN_SCORES), net_promoter_score(TEN_SCORES))
    assert comparison.difference == 0
    assert comparison.z == 0
    assert comparison.p_value == pytest.approx(1.0)


@pytest.mark.parametrize(("bad", "row"), [([9, 11], 2), ([-1], 1), ([7, 8, 7.5], 3)])
def test_out_of_range_nps_scores_name_the_row(bad: list[float], row: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        net_promoter_score(bad, field="ltr")
    assert caught.value.details["field"] == "ltr"
    assert caught.value.details["row"] == row


def test_no_answers_is_bad_input() -> None:
    with pytest.raises(InvalidInput, match="no answered"):
        net_promoter_score([None, None])


def test_csat_share_and_wilson_interval_by_hand() -> None:
    # 5,4,4,5,5 satisfied (5 of 8) -> 62.5%
    # z^2 = 3.841459; denom = 1 + 3.841459/8 = 1.480182
    # centre = (.625 + 3.841459/16) / 1.480182 = .584449
    # half = 1.959964/1.480182 * sqrt(.625*.375/8 + 3.841459/256) = 1.324137 * .210483 = .278708
    # ci = (.305741, .863157)
    result = customer_satisfaction([5, 4, 4, 3, 2, 5, 5, 1, None])
    assert (result.n, result.satisfied) == (8, 5)
    assert result.csat == pytest.approx(62.5)
    assert result.ci95[0] == pytest.approx(30.5741, abs=1e-3)
    assert result.ci95[1] == pytest.approx(86.3157, abs=1e-3)


def test_wilson_interval_at_zero_successes() -> None:
    # 0 of 10: centre = (z^2/20) / (1 + z^2/10) = .192073/1.384146 = .138767; half = centre
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.277535, abs=1e-5)


def test_csat_rejects_zero_on_a_one_to_five_scale() -> None:
    with pytest.raises(InvalidInput) as caught:
        customer_satisfaction([5, 0], field="csat")
    assert caught.value.details == {"field": "csat", "row": 2, "value": 0}
