"""RFM scores and segments, the 80/20 report and retention on hand-made transactions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from patronage.analytics.pareto import gini, lorenz_curve, top_share
from patronage.analytics.rfm import quintile_scores, segment_names
from patronage.cli.main import app

# five customers; as of 2024-03-31
TRANSACTIONS = """customer_id,date,amount
a,2024-03-30,100
a,2024-03-20,50
a,2024-02-01,50
a,2024-02-01,25
b,2024-03-29,10
c,2024-01-15,30
c,2024-02-15,30
d,2023-12-01,5
e,2024-03-01,400
e,2024-03-02,400
"""


def run(runner: CliRunner, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["analytics", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_quintile_scores_share_the_lower_score_on_ties() -> None:
    scores = quintile_scores(np.array([1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]))
    assert scores.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_segment_grid() -> None:
    r = np.array([5, 3, 5, 5, 1, 1, 2, 3])
    fm = np.array([5, 4, 2, 1, 5, 3, 1, 1])
    assert segment_names(r, fm).tolist() == [
        "Champions",
        "Loyal",
        "Potential loyalists",
        "New",
        "Can't lose them",
        "At risk",
        "Lost",
        "About to sleep",
    ]


def test_rfm_per_customer(
    runner: CliRunner, write_csv: Callable[[str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "rfm.csv"
    payload = run(
        runner,
        "rfm",
        "--transactions",
        str(write_csv(TRANSACTIONS)),
        "--as-of",
        "2024-03-31",
        "--output",
        str(out),
    )
    scored = pd.read_csv(out, dtype={"rfm": str}).set_index("customer_id")
    assert scored.loc["a"].tolist() == [1, 3, 225.0, 5, 5, 4, "554", "Champions"]
    assert scored["recency_days"].to_dict() == {"a": 1, "b": 2, "c": 45, "d": 121, "e": 29}
    # F ties: b and d (1 day) score 1, c and e (2 days) score 3
    assert scored["rfm"].to_dict() == {"a": "554", "b": "412", "c": "233", "d": "111", "e": "335"}
    assert scored["segment"].to_dict() == {
        "a": "Champions",
        "b": "Potential loyalists",
        "c": "At risk",
        "d": "Lost",
        "e": "Loyal",
    }
    assert payload["customers"] == 5
    loyal = next(s for s in payload["segments"] if s["segment"] == "Loyal")
    assert loyal["customers"] == 1
    assert loyal["revenue_share"] == pytest.approx(800 / 1100)
    assert loyal["action"]


def test_pareto_numbers() -> None:
    revenue = np.array([1.0, 1.0, 1.0, 1.0, 6.0])
    assert top_share(revenue, 0.2) == pytest.approx(0.6)
    assert top_share(revenue, 0.4) == pytest.approx(0.7)
    assert gini(revenue) == pytest.approx(0.4)
    assert gini(np.ones(4)) == pytest.approx(0.0)
    curve = lorenz_curve(revenue, points=5)
    assert [round(p["revenue_share"], 6) for p in curve] == [0.0, 0.1, 0.2, 0.3, 0.4, 1.0]


def test_pareto_cli(runner: CliRunner, write_csv: Callable[[str], Path]) -> None:
    payload = run(runner, "pareto", "--transactions", str(write_csv(TRANSACTIONS)), "--top", "40")
    assert payload["top_shares"] == [
        {"top": 0.2, "revenue_share": pytest.approx(800 / 1100)},
        {"top": 0.4, "revenue_share": pytest.approx(1025 / 1100)},
    ]
    assert payload["customers"] == 5
    assert payload["lorenz"][0] == {"customer_share": 0.0, "revenue_share": 0.0}


def test_retention_cli(runner: CliRunner, write_csv: Callable[[str], Path]) -> None:
    payload = run(
        runner, "retention", "--transactions", str(write_csv(TRANSACTIONS)), "--as-of", "2024-03-31"
    )
    assert payload["repurchase_rate"] == pytest.approx(3 / 5)
    # gaps: a 58 days over 2 repeats, c 31 over 1, e 1 over 1 -> 90 / 4
    assert payload["days_between_purchases"]["mean"] == pytest.approx(22.5)
    assert payload["days_between_purchases"]["median_of_customer_means"] == pytest.approx(29)
    assert payload["cohorts"] == [
        {"cohort": "2023-12", "customers": 1, "retention": [1.0, 0.0, 0.0, 0.0]},
        {"cohort": "2024-01", "customers": 1, "retention": [1.0, 1.0, 0.0]},
        {"cohort": "2024-02", "customers": 1, "retention": [1.0, 1.0]},
        {"cohort": "2024-03", "customers": 2, "retention": [1.0]},
    ]
