"""SERVQUAL gaps against values computed by hand."""

from __future__ import annotations

import pytest

from patronage.domain.servqual import ServqualAnswers, servqual_gaps
from patronage.errors import InvalidInput

DIMENSION_SIZES = {
    "tangibles": 4,
    "reliability": 5,
    "responsiveness": 4,
    "assurance": 4,
    "empathy": 5,
}


def respondent(
    expectation: int, perceptions: dict[str, int], weights: dict[str, float] | None = None
) -> ServqualAnswers:
    """Same expectation on all 22 items; one perception per dimension."""
    p: list[float | int | None] = []
    for name, size in DIMENSION_SIZES.items():
        p += [perceptions[name]] * size
    return ServqualAnswers(expectations=[expectation] * 22, perceptions=p, weights=weights)


# Gaps per dimension (tangibles, reliability, responsiveness, assurance, empathy):
# R1: E=6, P=5,4,6,7,5 -> -1,-2, 0,+1,-1; unweighted -3/5 = -0.6
#     weights 10,40,20,20,10 -> -.1 - .8 + 0 + .2 - .1 = -0.8
# R2: E=7, P=7,5,4,6,7 ->  0,-2,-3,-1, 0; unweighted -6/5 = -1.2; weights 20 each -> -1.2
# R3: E=5, P=6,5,5,4,5 -> +1, 0, 0,-1, 0; unweighted 0; no weights
R1 = respondent(
    6,
    {"tangibles": 5, "reliability": 4, "responsiveness": 6, "assurance": 7, "empathy": 5},
    {"tangibles": 10, "reliability": 40, "responsiveness": 20, "assurance": 20, "empathy": 10},
)
R2 = respondent(
    7,
    {"tangibles": 7, "reliability": 5, "responsiveness": 4, "assurance": 6, "empathy": 7},
    dict.fromkeys(DIMENSION_SIZES, 20.0),
)
R3 = respondent(
    5, {"tangibles": 6, "reliability": 5, "responsiveness": 5, "assurance": 4, "empathy": 5}
)


def test_item_and_dimension_gaps() -> None:
    result = servqual_gaps([R1, R2, R3])
    assert result.respondents == 3
    assert result.items[1].mean == pytest.approx(0.0)  # -1, 0, +1
    assert result.items[5].mean == pytest.approx(-4 / 3)  # -2, -2, 0
    assert result.items[22].mean == pytest.approx(-1 / 3)  # -1, 0, 0
    expected = {
        "tangibles": 0.0,
        "reliability": -4 / 3,
        "responsiveness": -1.0,
        "assurance": -1 / 3,
        "empathy": -1 / 3,
    }
    assert {k: v.mean for k, v in result.dimensions.items()} == pytest.approx(expected)


def test_dimension_t_interval_by_hand() -> None:
    # reliability gaps -2, -2, 0: mean -4/3, sd = sqrt((4/9 + 4/9 + 16/9)/2) = 1.154701
    # se = 1.154701/sqrt(3) = .666667; t(.975, 2) = 4.302653; half = 2.868435
    reliability = servqual_gaps([R1, R2, R3]).dimensions["reliability"]
    assert reliability.standard_error == pytest.approx(2 / 3)
    assert reliability.ci95 == pytest.approx((-4 / 3 - 2.868435, -4 / 3 + 2.868435), abs=1e-5)


def test_unweighted_and_weighted_totals() -> None:
    result = servqual_gaps([R1, R2, R3])
    # unweighted: -0.6, -1.2, 0 -> mean -0.6; sd .6; se .6/sqrt(3) = .346410
    # t(.975, 2) = 4.302653 -> half 1.490482
    assert result.unweighted_total is not None
    assert result.unweighted_total.mean == pytest.approx(-0.6)
    assert result.unweighted_total.ci95 == pytest.approx((-2.090482, 0.890482), abs=1e-5)
    # weighted: only R1 (-0.8) and R2 (-1.2) gave weights -> mean -1.0
    # sd = sqrt(.08) = .282843, se = .2, t(.975, 1) = 12.706205 -> half 2.541241
    assert result.weighted_total is not None
    assert result.weighted_total.n == 2
    assert result.weighted_total.mean == pytest.approx(-1.0)
    assert result.weighted_total.ci95 == pytest.approx((-3.541241, 1.541241), abs=1e-5)


def test_single_respondent_has_no_interval() -> None:
    result = servqual_gaps([R1])
    assert result.dimensions["reliability"].mean == -2
    assert result.dimensions["reliability"].ci95 is None
    assert result.weighted_total is not None
    assert result.weighted_total.mean == pytest.approx(-0.8)


def test_unanswered_items_and_respondents_do_not_count() -> None:
    # R1 without E1 and without P2: tangibles from items 3, 4 only (-1 each)
    partial = ServqualAnswers(
        expectations=[None, *R1.expectations[1:]],
        perceptions=[R1.perceptions[0], None, *R1.perceptions[2:]],
    )
    blank = ServqualAnswers(expectations=[None] * 22, perceptions=[None] * 22)
    result = servqual_gaps([partial, blank])
    assert result.respondents == 1
    assert 1 not in result.items
    assert 2 not in result.items
    assert result.items[3].n == 1
    assert result.dimensions["tangibles"].mean == -1
    assert result.weighted_total is None


def test_out_of_range_score_names_item_and_row() -> None:
    bad = ServqualAnswers(expectations=[4] * 22, perceptions=[4] * 6 + [8] + [4] * 15)
    with pytest.raises(InvalidInput) as caught:
        servqual_gaps([R1, bad])
    assert caught.value.details["field"] == "P7"
    assert caught.value.details["row"] == 2


def test_wrong_number_of_items() -> None:
    with pytest.raises(InvalidInput, match="22 E scores, got 21"):
        servqual_gaps([ServqualAnswers(expectations=[4] * 21, perceptions=[4] * 22)])


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        (
            {
                "tangibles": 50,
                "reliability": 50,
                "responsiveness": 10,
                "assurance": 0,
                "empathy": 0,
            },
            "W_*",
        ),
        ({"tangibles": 100, "reliability": 0}, "W_responsiveness"),
        (
            {
                "tangibles": 120,
                "reliability": -20,
                "responsiveness": 0,
                "assurance": 0,
                "empathy": 0,
            },
            "W_reliability",
        ),
    ],
)
def test_bad_weights(weights: dict[str, float], field: str) -> None:
    answers = ServqualAnswers(R1.expectations, R1.perceptions, weights)
    with pytest.raises(InvalidInput) as caught:
        servqual_gaps([answers])
    assert caught.value.details["field"] == field


def test_no_responses_at_all() -> None:
    with pytest.raises(InvalidInput, match="no answered"):
        servqual_gaps([])
