"""`patronage analytics nps|csat|servqual|comments` on real CSV and Parquet files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import patronage.cli.analytics_voice  # noqa: F401  (registers the commands)
from patronage.cli.analytics import app

runner = CliRunner()

# 5 promoters, 2 passives, 3 detractors -> NPS 20, adjusted-Wald 95% CI (-30.326, 61.095)
# (hand computation in tests/unit/test_surveys.py::test_nps_adjusted_wald_interval_by_hand)
SPRING = [10, 9, 9, 8, 7, 6, 5, 10, 3, 9]
# 2 promoters, 2 passives, 6 detractors -> NPS -40; vs spring: z = -1.4359, p = 0.1510
SUMMER = [10, 9, 8, 7, 6, 6, 5, 4, 0, 1]


def run_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_nps_from_csv_with_unanswered_rows(tmp_path: Path) -> None:
    path = tmp_path / "nps.csv"
    pd.DataFrame({"ltr": [*SPRING, None, None]}).to_csv(path, index=False)
    out = run_json("nps", "--responses", str(path), "--score-col", "ltr")
    assert out == {
        "nps": 20.0,
        "n": 10,
        "promoters": 5,
        "passives": 2,
        "detractors": 3,
        "ci95": [-30.326, 61.0952],
        "method": "adjusted-wald",
    }


def test_nps_by_period_from_parquet(tmp_path: Path) -> None:
    path = tmp_path / "nps.parquet"
    frame = pd.DataFrame({"score": SPRING + SUMMER, "period": ["2026-Q1"] * 10 + ["2026-Q2"] * 10})
    frame.to_parquet(path)
    out = run_json("nps", "--responses", str(path), "--score-col", "score", "--group-col", "period")
    assert set(out["groups"]) == {"2026-Q1", "2026-Q2"}
    assert out["groups"]["2026-Q2"]["nps"] == -40.0
    comparison = out["comparison"]
    assert (comparison["first"], comparison["second"]) == ("2026-Q1", "2026-Q2")
    assert comparison["difference"] == -60.0
    assert comparison["z"] == pytest.approx(-1.4359, abs=1e-4)
    assert comparison["p_value"] == pytest.approx(0.1510, abs=1e-4)


def test_three_groups_have_no_comparison(tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    pd.DataFrame({"s": [9, 3, 7], "store": ["A", "B", "C"]}).to_csv(path, index=False)
    out = run_json("nps", "--responses", str(path), "--score-col", "s", "--group-col", "store")
    assert list(out["groups"]) == ["A", "B", "C"]
    assert "comparison" not in out


def test_nps_table_output(tmp_path: Path) -> None:
    path = tmp_path / "nps.csv"
    pd.DataFrame({"ltr": SPRING}).to_csv(path, index=False)
    result = runner.invoke(app, ["nps", "--responses", str(path), "--score-col", "ltr"])
    assert result.exit_code == 0
    assert "20.0" in result.stdout
    assert "-30.3 .. 61.1" in result.stdout


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([9, 11, 7], "ltr out of range 0-10 (row 2: 11)"),
        ([9, "great", 7], "ltr must be a number (row 2)"),
        ([None, None], "no answered ltr scores"),
    ],
)
def test_bad_nps_input_is_one_line_and_exit_2(
    tmp_path: Path, scores: list[object], message: str
) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"ltr": scores}).to_csv(path, index=False)
    result = runner.invoke(app, ["nps", "--responses", str(path), "--score-col", "ltr"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nps.csv"
    pd.DataFrame({"ltr": SPRING}).to_csv(path, index=False)
    result = runner.invoke(app, ["nps", "--responses", str(path), "--score-col", "score"])
    assert result.exit_code == 2
    assert "missing column score" in result.stderr
    result = runner.invoke(
        app, ["nps", "--responses", str(tmp_path / "none.csv"), "--score-col", "s"]
    )
    assert result.exit_code == 2
    assert "not found" in result.stderr


def test_csat_from_csv(tmp_path: Path) -> None:
    # 5 of 8 answered are 4-5 -> 62.5%, Wilson (30.5741, 86.3157) (see test_surveys.py)
    path = tmp_path / "csat.csv"
    pd.DataFrame({"csat": [5, 4, 4, 3, 2, 5, 5, 1, None]}).to_csv(path, index=False)
    out = run_json("csat", "--responses", str(path), "--score-col", "csat")
    assert out["csat"] == 62.5
    assert out["n"] == 8
    assert out["ci95"] == pytest.approx([30.5741, 86.3157], abs=1e-3)
    assert out["method"] == "wilson"


SIZES = {"tangibles": 4, "reliability": 5, "responsiveness": 4, "assurance": 4, "empathy": 5}


def servqual_row(
    expectation: int, perceptions: list[int], weights: list[float]
) -> dict[str, float]:
    row: dict[str, float] = {f"E{i}": expectation for i in range(1, 23)}
    item = 1
    for size, perception in zip(SIZES.values(), perceptions, strict=True):
        for _ in range(size):
            row[f"P{item}"] = perception
            item += 1
    row.update({f"W_{d}": w for d, w in zip(SIZES, weights, strict=True)})
    return row


def test_servqual_from_csv(tmp_path: Path) -> None:
    # Same respondents as tests/unit/test_servqual.py: R3 gives no weights.
    # Dimension gaps: tangibles 0, reliability -4/3; unweighted -0.6; weighted (R1, R2) -1.0
    rows = [
        servqual_row(6, [5, 4, 6, 7, 5], [10, 40, 20, 20, 10]),
        servqual_row(7, [7, 5, 4, 6, 7], [20, 20, 20, 20, 20]),
        {**servqual_row(5, [6, 5, 5, 4, 5], [0] * 5), **{f"W_{d}": None for d in SIZES}},
    ]
    path = tmp_path / "servqual.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    out = run_json("servqual", "--responses", str(path))
    assert out["respondents"] == 3
    assert out["items"]["5"]["gap"] == pytest.approx(-1.3333)
    assert out["dimensions"]["tangibles"]["gap"] == 0.0
    assert out["dimensions"]["reliability"]["se"] == pytest.approx(0.6667)
    assert out["unweighted_total"]["gap"] == pytest.approx(-0.6)
    assert out["unweighted_total"]["ci95"] == pytest.approx([-2.0905, 0.8905], abs=1e-4)
    assert out["weighted_total"] == {
        "gap": -1.0,
        "n": 2,
        "se": 0.2,
        "ci95": [-3.5412, 1.5412],
    }
    table = runner.invoke(app, ["servqual", "--responses", str(path)])
    assert table.exit_code == 0
    assert "reliability" in table.stdout


def test_servqual_without_weights_and_with_a_missing_item(tmp_path: Path) -> None:
    frame = pd.DataFrame([servqual_row(6, [5, 4, 6, 7, 5], [20] * 5)])
    path = tmp_path / "no_weights.csv"
    frame.drop(columns=[f"W_{d}" for d in SIZES]).to_csv(path, index=False)
    assert run_json("servqual", "--responses", str(path))["weighted_total"] is None
    frame.drop(columns=["P22"]).to_csv(path, index=False)
    result = runner.invoke(app, ["servqual", "--responses", str(path)])
    assert result.exit_code == 2
    assert "missing column P22" in result.stderr


def test_servqual_score_out_of_range_names_cell(tmp_path: Path) -> None:
    rows = [servqual_row(6, [5, 4, 6, 7, 5], [20] * 5) for _ in range(3)]
    rows[2]["E9"] = 9
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    result = runner.invoke(app, ["servqual", "--responses", str(path)])
    assert result.exit_code == 2
    assert "E9 out of range 1-7 (row 3: 9)" in result.stderr


def test_commands_are_registered_on_the_main_app() -> None:
    from patronage.cli.main import app as main_app

    result = runner.invoke(main_app, ["analytics", "--help"])
    assert result.exit_code == 0
    for command in ("nps", "csat", "servqual", "comments"):
        assert command in result.stdout


def test_comments_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    texts = ["The delivery was slow", "Delivery was late!", "Friendly staff.", "积分兑换太慢了", ""]
    pd.DataFrame({"comment": texts}).to_csv(path, index=False)
    out = run_json("comments", "--responses", str(path), "--text-col", "comment", "--top", "3")
    assert out["comments"] == 4
    english = out["languages"]["en"]
    # TF-IDF by hand in tests/unit/test_comments.py::test_tfidf_by_hand
    assert english["keywords"][0] == {
        "term": "delivery",
        "score": 0.4292,
        "comments": 2,
        "mean_sentiment": english["keywords"][0]["mean_sentiment"],
    }
    assert english["sentiment"]["library"] == "vaderSentiment"
    assert out["languages"]["zh"]["sentiment"]["library"] == "snownlp"
    table = runner.invoke(app, ["comments", "--responses", str(path), "--text-col", "comment"])
    assert table.exit_code == 0
    assert "delivery" in table.stdout


def test_comments_without_any_text(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    pd.DataFrame({"comment": [None, None], "x": [1, 2]}).to_csv(path, index=False)
    result = runner.invoke(app, ["comments", "--responses", str(path), "--text-col", "comment"])
    assert result.exit_code == 2
    assert "no answered comment comments" in result.stderr


def test_nps_group_must_be_given_for_a_scored_row(tmp_path: Path) -> None:
    path = tmp_path / "nps.csv"
    pd.DataFrame({"s": [9, 3, None], "store": ["A", None, None]}).to_csv(path, index=False)
    result = runner.invoke(
        app, ["nps", "--responses", str(path), "--score-col", "s", "--group-col", "store"]
    )
    assert result.exit_code == 2
    assert "store is empty (row 2)" in result.stderr
