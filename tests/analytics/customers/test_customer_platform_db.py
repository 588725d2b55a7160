"""Analyses on the platform's own database: members, purchases, refunds, interactions."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.storage.db import make_engine


def test_rfm_from_the_database_counts_refunds_negative(
    runner: CliRunner, platform_db: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rfm.csv"
    result = runner.invoke(
        app,
        [
            "analytics",
            "rfm",
            "--db",
            platform_db,
            "--as-of",
            "2024-02-29",
            "--json",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customers"] == 2
    import pandas as pd

    scored = pd.read_csv(out).set_index("customer_id")
    assert scored.loc["M-1", "monetary"] == pytest.approx(130.0)  # 100 + 50 - 20
    assert scored.loc["M-1", "frequency"] == 2
    assert scored.loc["M-2", "recency_days"] == 28


def test_ladder_and_index_from_the_database(runner: CliRunner, platform_db: str) -> None:
    result = runner.invoke(app, ["analytics", "ladder", "--db", platform_db, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stages"] == {
        "prospect": 0,
        "expectation": 1,
        "first-time buyer": 1,
        "repeat buyer": 1,
        "advocate": 0,
    }
    result = runner.invoke(app, ["analytics", "loyalty-index", "--db", platform_db, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["missing_components"] == ["share_of_category_spend"]
    assert payload["medians"]["price_elasticity"] == pytest.approx(-0.5)  # log 2 / log(1/4)


def test_an_empty_database_is_refused(runner: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from patronage.storage.tables import metadata

    url = f"sqlite:///{tmp_path}/empty.db"
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    result = runner.invoke(app, ["analytics", "pareto", "--db", url])
    assert result.exit_code == 2
    assert "no purchase or refund events" in result.stderr
