"""The loyalty ladder and the loyalty index on hand-made files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from patronage.cli.main import app

TRANSACTIONS = """customer_id,date,amount
a,2024-01-10,10
a,2024-02-10,10
b,2024-01-05,20
b,2024-03-05,20
c,2024-03-01,5
"""
INTERACTIONS = "customer_id,date\nd,2024-02-01\nc,2024-02-20\nc,2024-02-25\n"
CUSTOMERS = (
    "customer_id,date\na,2024-01-01\nb,2024-01-01\nc,2024-01-01\nd,2024-01-01\ne,2024-01-01\n"
)
NPS = "customer_id,date,score\nb,2024-01-20,6\nb,2024-03-20,10\na,2024-01-15,10\na,2024-03-15,7\n"
REFERRALS = "referrer_id,date\n"


def invoke(runner: CliRunner, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["analytics", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_ladder_stages_and_movement(
    runner: CliRunner, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "ladder.csv"
    payload = invoke(
        runner,
        "ladder",
        "--transactions",
        str(write_csv(TRANSACTIONS)),
        "--interactions",
        str(write_csv(INTERACTIONS, "i.csv")),
        "--customers",
        str(write_csv(CUSTOMERS, "c.csv")),
        "--nps",
        str(write_csv(NPS, "n.csv")),
        "--referrals",
        str(write_csv(REFERRALS, "r.csv")),
        "--from",
        "2024-02-15",
        "--as-of",
        "2024-03-31",
        "--output",
        str(out),
    )
    # a: repeat buyer, last NPS 7 -> repeat; b: repeat + promoter -> advocate; c: first-time;
    # d: interactions only -> expectation; e: known only -> prospect
    assert payload["stages"] == {
        "prospect": 1,
        "expectation": 1,
        "first-time buyer": 1,
        "repeat buyer": 1,
        "advocate": 1,
    }
    # on Feb 15 a was a repeat buyer whose latest NPS answer (10) made them an advocate
    assert payload["stages_from"] == {
        "prospect": 2,
        "expectation": 1,
        "first-time buyer": 1,
        "repeat buyer": 0,
        "advocate": 1,
    }
    per = pd.read_csv(out).set_index("customer_id")
    assert per.loc["a"].tolist() == ["advocate", "repeat buyer"]  # latest answer now 7
    assert per.loc["b"].tolist() == ["first-time buyer", "advocate"]
    assert per.loc["c"].tolist() == ["prospect", "first-time buyer"]
    assert {"from": "prospect", "to": "first-time buyer", "customers": 1} in payload["movement"]


def test_ladder_without_side_data_names_no_advocates(
    runner: CliRunner, write_csv: Callable[..., Path]
) -> None:
    payload = invoke(runner, "ladder", "--transactions", str(write_csv(TRANSACTIONS)))
    assert payload["stages"] == {
        "prospect": 0,
        "expectation": 0,
        "first-time buyer": 1,
        "repeat buyer": 2,
        "advocate": 0,
    }


def test_loyalty_index_marks_missing_components(
    runner: CliRunner, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "index.csv"
    payload = invoke(
        runner,
        "loyalty-index",
        "--transactions",
        str(write_csv(TRANSACTIONS)),
        "--output",
        str(out),
    )
    assert payload["missing_components"] == [
        "share_of_category_spend",
        "attention",
        "decision_days",
        "price_elasticity",
    ]
    frame = pd.read_csv(out).set_index("customer_id")
    assert frame["repeat_purchases"].to_dict() == {"a": 1, "b": 1, "c": 0}
    assert frame["attention"].isna().all()
    assert frame["components_used"].tolist() == [1, 1, 1]


def test_loyalty_index_components(
    runner: CliRunner, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    items = (
        "customer_id,date,sku,quantity,price\n"
        "a,2024-01-10,x,2,10\na,2024-02-10,x,4,5\n"  # price halves, quantity doubles: -1
        "b,2024-01-05,y,1,20\nb,2024-03-05,y,1,20\n"
    )  # one price only: unknown
    wallet = "customer_id,category_spend\na,40\nb,40\n"
    out = tmp_path / "index.csv"
    payload = invoke(
        runner,
        "loyalty-index",
        "--transactions",
        str(write_csv(TRANSACTIONS)),
        "--interactions",
        str(write_csv(INTERACTIONS, "i.csv")),
        "--items",
        str(write_csv(items, "items.csv")),
        "--category-spend",
        str(write_csv(wallet, "w.csv")),
        "--output",
        str(out),
    )
    assert payload["missing_components"] == []
    frame = pd.read_csv(out).set_index("customer_id")
    assert frame.loc["a", "share_of_category_spend"] == pytest.approx(0.5)
    assert frame.loc["b", "share_of_category_spend"] == pytest.approx(1.0)
    assert pd.isna(frame.loc["c", "share_of_category_spend"])
    assert frame["attention"].to_dict() == {"a": 0, "b": 0, "c": 2}
    assert frame.loc["c", "decision_days"] == 10  # first seen Feb 20, bought Mar 1
    assert frame.loc["a", "price_elasticity"] == pytest.approx(-1.0)
    assert pd.isna(frame.loc["b", "price_elasticity"])
