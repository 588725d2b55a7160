from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from patronage.cli.main import app

runner = CliRunner()


def write_files(
    tmp_path: Path, effect: float = 1.0, waves: tuple[int, ...] = (2, 4, -1)
) -> tuple[Path, Path]:
    """Staggered training (month index, -1 never) with a planted effect on csat."""
    rng = np.random.default_rng(42)
    months = pd.date_range("2025-01-01", periods=8, freq="MS", tz="Asia/Shanghai")
    staff = [f"s{i}" for i in range(30)]
    wave = dict(zip(staff, rng.choice(waves, size=30), strict=True))
    level = dict(zip(staff, rng.normal(0, 1, 30), strict=True))
    rows = []
    for s in staff:
        for m, start in enumerate(months):
            for k in range(4):
                trained = 0 <= wave[s] <= m
                y = level[s] + 0.2 * m + effect * trained + rng.normal(0, 0.5)
                when = start + pd.Timedelta(days=3 + 5 * k, hours=10)
                rows.append((s, f"c{k}", when.isoformat(), round(y, 4)))
    interactions = pd.DataFrame(rows, columns=["staff_id", "customer_id", "occurred_at", "csat"])
    completed = [(s, "loyalty-starter", months[w].isoformat()) for s, w in wave.items() if w >= 0]
    trainings = pd.DataFrame(completed, columns=["staff_id", "course_id", "completed_at"])
    paths = tmp_path / "interactions.csv", tmp_path / "trainings.csv"
    interactions.to_csv(paths[0], index=False)
    trainings.to_csv(paths[1], index=False)
    return paths


def evaluate(interactions: Path, trainings: Path, *extra: str) -> tuple[int, str]:
    args = ["training", "evaluate", "--interactions", str(interactions)]
    args += ["--trainings", str(trainings), "--outcome", "csat", *extra]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def test_evaluate_prints_the_effect_as_json(tmp_path: Path) -> None:
    code, output = evaluate(*write_files(tmp_path), "--json", "--tz", "Asia/Shanghai")
    assert code == 0, output
    payload = json.loads(output)
    low, high = payload["ci95"]
    assert low <= 1.0 <= high
    assert payload["staff_treated"] > 0
    assert payload["staff_control"] > 0
    assert payload["interactions"] == 30 * 8 * 4
    assert "Callaway" in payload["method"]
    periods = [p["period"] for p in payload["event_study"]]
    assert periods == sorted(periods)
    assert -1 in periods
    assert {"period", "effect", "ci95"} <= set(payload["event_study"][0])
    assert payload["pre_trend"]["df"] >= 1
    assert "roi" not in payload


def test_roi_when_value_and_cost_are_given(tmp_path: Path) -> None:
    files = write_files(tmp_path)
    code, output = evaluate(*files, "--json", "--value-per-unit", "2.5", "--cost", "1000")
    assert code == 0, output
    payload = json.loads(output)
    roi = payload["roi"]
    benefit = payload["effect"] * 2.5 * roi["affected_interactions"]
    assert roi["roi"] == pytest.approx((benefit - 1000) / 1000, rel=1e-3)
    assert roi["roi_ci95"][0] < roi["roi"] < roi["roi_ci95"][1]


def test_weekly_periods_and_course_filter(tmp_path: Path) -> None:
    files = write_files(tmp_path)
    extra = ("--json", "--period", "week", "--course", "loyalty-starter")
    code, output = evaluate(*files, *extra)
    assert code == 0, output
    assert len(json.loads(output)["event_study"]) > 10


def test_table_output(tmp_path: Path) -> None:
    code, output = evaluate(*write_files(tmp_path))
    assert code == 0, output
    assert "Event study" in output
    assert "95% CI" in output


def test_no_untrained_staff_is_an_error(tmp_path: Path) -> None:
    code, output = evaluate(*write_files(tmp_path, waves=(3,)), "--json")
    assert code == 2
    assert output.startswith("error (invalid_input)")
    assert "compare" in output


def test_no_interactions_before_training_is_an_error(tmp_path: Path) -> None:
    code, output = evaluate(*write_files(tmp_path, waves=(0, -1)), "--json")
    assert code == 2
    assert "before training" in output


def test_unknown_outcome_column(tmp_path: Path) -> None:
    interactions, trainings = write_files(tmp_path)
    args = ["training", "evaluate", "--interactions", str(interactions)]
    result = runner.invoke(app, [*args, "--trainings", str(trainings), "--outcome", "nps"])
    assert result.exit_code == 2
    assert "outcome" in result.output


def test_unparsable_date(tmp_path: Path) -> None:
    interactions, trainings = write_files(tmp_path)
    frame = pd.read_csv(interactions)
    frame.loc[5, "occurred_at"] = "31/02/2025 soon"
    frame.to_csv(interactions, index=False)
    code, output = evaluate(interactions, trainings)
    assert code == 2
    assert "occurred_at" in output


@pytest.mark.parametrize(
    "extra",
    [("--period", "year"), ("--cost", "100"), ("--tz", "Mars/Olympus")],
)
def test_bad_options(tmp_path: Path, extra: tuple[str, ...]) -> None:
    code, output = evaluate(*write_files(tmp_path), *extra)
    assert code == 2, output


def test_curriculum_lists_modules_in_both_languages() -> None:
    english = runner.invoke(app, ["training", "curriculum", "--json"])
    chinese = runner.invoke(app, ["training", "curriculum", "--lang", "zh-CN", "--json"])
    assert english.exit_code == 0
    assert chinese.exit_code == 0
    en, zh = json.loads(english.output), json.loads(chinese.output)
    assert len(en) >= 8
    assert [m["id"] for m in en] == [m["id"] for m in zh]
    assert zh[2]["title"] == "投诉处理与服务补救"


def test_curriculum_refuses_unknown_language() -> None:
    result = runner.invoke(app, ["training", "curriculum", "--lang", "fr"])
    assert result.exit_code == 2
