from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from patronage.analytics.training_effect import evaluate_training
from patronage.analytics.training_panel import PeriodUnit, build_panel
from patronage.errors import InvalidInput

MONTH_STARTS = pd.date_range("2025-01-01", periods=12, freq="MS", tz="UTC")


def staggered(
    effect: float,
    *,
    seed: int,
    n_staff: int = 80,
    waves: tuple[int, ...] = (3, 5, 7, 9, -1),
    pre_trend: float = 0.0,
    per_month: int = 8,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff trained in waves (month index, -1 = never) with staff-level noise.

    Outcome = staff level + staff slope + common calendar shock + effect after
    training + customer noise; ``pre_trend`` adds a drift to trained staff only.
    """
    rng = np.random.default_rng(seed)
    staff = np.array([f"s{i:03d}" for i in range(n_staff)])
    wave = rng.choice(waves, size=n_staff)
    level, slope = rng.normal(0, 1.0, n_staff), rng.normal(0, 0.05, n_staff)
    shock = rng.normal(0, 0.5, 12)
    who = np.repeat(np.arange(n_staff), 12 * per_month)
    month = np.tile(np.repeat(np.arange(12), per_month), n_staff)
    seconds = rng.integers(0, 27 * 86400, who.size)
    occurred = MONTH_STARTS[month] + pd.to_timedelta(seconds, unit="s")
    trained = (wave[who] >= 0) & (month >= wave[who])
    drift = pre_trend * month * (wave[who] >= 0)
    outcome = level[who] + slope[who] * month + shock[month] + drift + effect * trained
    interactions = pd.DataFrame(
        {
            "staff_id": staff[who],
            "customer_id": rng.integers(0, 10_000, who.size).astype(str),
            "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "csat": outcome + rng.normal(0, 1.0, who.size),
        }
    )
    ever = wave >= 0
    trainings = pd.DataFrame(
        {
            "staff_id": staff[ever],
            "course_id": "loyalty-starter",
            "completed_at": [MONTH_STARTS[w].isoformat() for w in wave[ever]],
        }
    )
    return interactions, trainings


def test_planted_effect_is_recovered_and_covered() -> None:
    interactions, trainings = staggered(0.5, seed=7)
    result = evaluate_training(interactions, trainings, "csat")
    low, high = result.overall.ci95
    assert low <= 0.5 <= high
    assert low > 0
    assert result.overall.effect == pytest.approx(0.5, abs=0.15)
    post = [p for p in result.event_study if p.period >= 0]
    assert all(p.estimate.ci95[0] <= 0.5 <= p.estimate.ci95[1] for p in post[:5])
    assert result.pre_trend is not None
    assert result.pre_trend.p_value > 0.01


def test_no_effect_interval_covers_zero() -> None:
    interactions, trainings = staggered(0.0, seed=11)
    result = evaluate_training(interactions, trainings, "csat")
    low, high = result.overall.ci95
    assert low <= 0.0 <= high
    assert high - low < 0.6


def test_intervals_cover_the_truth_in_most_replications() -> None:
    covered = 0
    for seed in range(30):
        interactions, trainings = staggered(0.3, seed=100 + seed, n_staff=30, per_month=2)
        low, high = evaluate_training(interactions, trainings, "csat").overall.ci95
        covered += low <= 0.3 <= high
    assert covered >= 25  # nominal 95 %: about 28.5 of 30 expected


def test_pre_trend_is_flagged() -> None:
    interactions, trainings = staggered(0.0, seed=3, pre_trend=0.15)
    result = evaluate_training(interactions, trainings, "csat")
    assert result.pre_trend is not None
    assert result.pre_trend.p_value < 0.01
    leads = [p for p in result.event_study if p.period <= -3]
    assert leads[0].estimate.effect < 0


def test_event_study_has_a_zero_reference_period() -> None:
    interactions, trainings = staggered(0.5, seed=5)
    points = {p.period: p for p in evaluate_training(interactions, trainings, "csat").event_study}
    assert points[-1].estimate.effect == 0.0
    assert min(points) < -1 < 0 < max(points)


def test_counts_of_staff_and_interactions() -> None:
    interactions, trainings = staggered(0.5, seed=7, per_month=2)
    result = evaluate_training(interactions, trainings, "csat")
    never = interactions.loc[~interactions["staff_id"].isin(trainings["staff_id"]), "staff_id"]
    assert result.staff_control == never.nunique()
    assert result.staff_treated == trainings["staff_id"].nunique()
    assert result.interactions == len(interactions)
    completed = pd.to_datetime(trainings.set_index("staff_id")["completed_at"], utc=True)
    after = pd.to_datetime(interactions["occurred_at"], utc=True) >= interactions["staff_id"].map(
        completed
    )
    assert result.affected_interactions == int(after.sum())


def test_hand_computed_group_time_effect() -> None:
    # A trained in March; B and C never. ATT = (7 - 4) - mean(5 - 4, 2 - 2) = 2.5
    rows = [
        ("A", "2025-02-10T10:00:00+00:00", 4.0),
        ("A", "2025-03-10T10:00:00+00:00", 7.0),
        ("B", "2025-02-11T10:00:00+00:00", 4.0),
        ("B", "2025-03-11T10:00:00+00:00", 5.0),
        ("C", "2025-02-12T10:00:00+00:00", 1.0),
        ("C", "2025-02-13T10:00:00+00:00", 3.0),
        ("C", "2025-03-12T10:00:00+00:00", 2.0),
    ]
    interactions = pd.DataFrame(rows, columns=["staff_id", "occurred_at", "csat"])
    interactions["customer_id"] = "c1"
    trainings = pd.DataFrame(
        {"staff_id": ["A"], "course_id": ["x"], "completed_at": ["2025-03-01T08:00:00+00:00"]}
    )
    result = evaluate_training(interactions, trainings, "csat")
    assert result.overall.effect == pytest.approx(2.5)
    assert (result.staff_treated, result.staff_control, result.interactions) == (1, 2, 7)
    assert result.affected_interactions == 1


def test_not_yet_trained_staff_serve_as_controls() -> None:
    interactions, trainings = staggered(0.5, seed=9, waves=(4, 8))
    result = evaluate_training(interactions, trainings, "csat")
    assert result.staff_control == 0
    assert result.staff_not_yet_trained > 0
    assert result.overall.ci95[0] <= 0.5 <= result.overall.ci95[1]


def test_weekly_periods() -> None:
    interactions, trainings = staggered(0.5, seed=13, n_staff=40, per_month=6)
    result = evaluate_training(interactions, trainings, "csat", unit=PeriodUnit.WEEK)
    assert result.overall.ci95[0] <= 0.5 <= result.overall.ci95[1]
    assert max(p.period for p in result.event_study) > 20


def test_months_follow_the_time_zone_and_naive_times_read_in_it() -> None:
    interactions = pd.DataFrame(
        {
            "staff_id": ["A", "A"],
            "customer_id": ["c", "c"],
            "occurred_at": ["2025-01-31T20:00:00+00:00", "2025-02-01 09:00"],
            "csat": [1.0, 2.0],
        }
    )
    trainings = pd.DataFrame(
        {"staff_id": ["B"], "course_id": ["x"], "completed_at": ["2025-02-02"]}
    )
    panel = build_panel(interactions, trainings, "csat", tz="Asia/Shanghai")
    assert [panel.label(int(p)) for p in panel.periods] == ["2025-02"]
    assert panel.outcome[0, 0] == pytest.approx(1.5)


def test_course_filter_and_unknown_course() -> None:
    interactions, trainings = staggered(0.5, seed=7)
    other = trainings.assign(course_id="other")
    both = pd.concat([trainings, other])
    assert evaluate_training(interactions, both, "csat", course="loyalty-starter").staff_treated > 0
    with pytest.raises(InvalidInput) as exc:
        evaluate_training(interactions, trainings, "csat", course="missing")
    assert exc.value.details["field"] == "course"


def test_everyone_trained_at_once_has_no_comparison() -> None:
    interactions, trainings = staggered(0.5, seed=1, waves=(6,))
    with pytest.raises(InvalidInput, match="compare"):
        evaluate_training(interactions, trainings, "csat")


def test_training_before_any_interaction_is_refused() -> None:
    interactions, trainings = staggered(0.5, seed=1, waves=(0, -1))
    with pytest.raises(InvalidInput, match="before training"):
        evaluate_training(interactions, trainings, "csat")


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("occurred_at", "not a date", "occurred_at"),
        ("csat", "great", "outcome"),
    ],
)
def test_bad_values_name_the_field(column: str, value: str, field: str) -> None:
    interactions, trainings = staggered(0.5, seed=1, n_staff=10)
    interactions[column] = interactions[column].astype(object)
    interactions.loc[3, column] = value
    with pytest.raises(InvalidInput) as exc:
        evaluate_training(interactions, trainings, "csat")
    assert exc.value.details["field"] == field


def test_unknown_outcome_column() -> None:
    interactions, trainings = staggered(0.5, seed=1, n_staff=10)
    with pytest.raises(InvalidInput) as exc:
        evaluate_training(interactions, trainings, "nps")
    assert exc.value.details["field"] == "outcome"
