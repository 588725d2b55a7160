"""The published CDNOW estimates, reproduced from the raw transactions.

Fader, Hardie & Lee (2005): BG/NBD r=0.243, alpha=4.414, a=0.793, b=2.426, LL -9582.4;
Pareto/NBD r=0.553, alpha=10.578, s=0.606, beta=11.669, LL -9595.0 (39-week
calibration to 1997-09-30, weeks). Fader & Hardie (2013): Gamma-Gamma p=6.25,
q=3.74, v=15.44 on the 946 customers with repeat purchases.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from patronage.analytics import clv
from patronage.analytics.engines import connect
from patronage.analytics.sources import TransactionFile, read_transactions
from patronage.analytics.summary import customer_summary
from patronage.cli.main import app

CALIBRATION_END = date(1997, 9, 30)


@pytest.fixture(scope="module")
def history(cdnow_csv: Path) -> pd.DataFrame:
    transactions = read_transactions(connect(), TransactionFile(cdnow_csv))
    return clv.repeat_history(
        customer_summary(transactions, CALIBRATION_END), CALIBRATION_END, "week"
    )


def test_history_follows_the_papers_conventions(history: pd.DataFrame) -> None:
    first = history.set_index("customer_id").loc["1"]  # Hardie's summary: 2, 30.43, 38.86, 22.35
    assert first["frequency"] == 2
    assert first["recency"] == pytest.approx(30.43, abs=0.005)
    assert first["T"] == pytest.approx(38.86, abs=0.005)
    assert first["monetary_value"] == pytest.approx(22.345)
    assert len(history) == 2357
    assert int((history["frequency"] > 0).sum()) == 946


def test_bgnbd_reproduces_fader_hardie_lee_2005(history: pd.DataFrame) -> None:
    fitted = clv.fit_models(history, "bgnbd")
    params = fitted.purchases.params
    assert [round(params[n], 3) for n in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert fitted.purchases.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert fitted.purchases.converged


def test_pareto_nbd_reproduces_fader_hardie_lee_2005(history: pd.DataFrame) -> None:
    fitted = clv.fit_models(history, "pareto-nbd").purchases
    assert [round(fitted.params[n], 3) for n in ("r", "alpha", "s", "beta")] == [
        0.553,
        10.578,
        0.606,
        11.669,
    ]
    assert fitted.log_likelihood == pytest.approx(-9595.0, abs=0.05)


def test_gamma_gamma_reproduces_fader_hardie_2013(history: pd.DataFrame) -> None:
    spend = clv.fit_models(history, "bgnbd").spend
    assert [round(spend.params[n], 2) for n in ("p", "q", "v")] == [6.25, 3.74, 15.44]
    assert spend.customers == 946


def test_predictions_match_the_papers_example_customer(history: pd.DataFrame) -> None:
    """FHL 2005 sec. 5: x=2, t_x=30.43, T=38.86 expects 1.226 purchases in the next 39 weeks."""
    fitted = clv.fit_models(history, "bgnbd")
    predicted = clv.predict(history, fitted, 39).set_index("customer_id").loc["1"]
    assert predicted["expected_purchases"] == pytest.approx(1.226, abs=0.001)
    assert 0 < predicted["p_alive"] < 1
    assert predicted["clv"] == pytest.approx(
        predicted["expected_purchases"] * predicted["expected_avg_value"]
    )


def test_discounting_lowers_clv(history: pd.DataFrame) -> None:
    fitted = clv.fit_models(history, "bgnbd")
    plain = clv.predict(history, fitted, 10)["clv"]
    discounted = clv.predict(history, fitted, 10, discount_rate=0.01)["clv"]
    assert (discounted < plain).all()
    assert (discounted > plain / 1.01**10).all()


def test_cli_prints_the_fit_as_json(runner: CliRunner, cdnow_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "clv.parquet"
    result = runner.invoke(
        app,
        [
            "analytics",
            "clv",
            "--transactions",
            str(cdnow_csv),
            "--customer-col",
            "customer_id",
            "--date-col",
            "date",
            "--amount-col",
            "amount",
            "--calibration-end",
            "1997-09-30",
            "--horizon",
            "39",
            "--json",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["model"] == "bgnbd"
    assert payload["converged"] is True
    assert payload["customers"] == 2357
    assert round(payload["params"]["alpha"], 3) == 4.414
    assert round(payload["spend_model"]["params"]["q"], 2) == 3.74
    assert payload["spend_model"]["customers"] == 946
    columns = pd.read_parquet(out).columns.tolist()
    assert columns == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "p_alive",
        "expected_purchases",
        "expected_avg_value",
        "clv",
    ]


def test_cli_fits_pareto_nbd(runner: CliRunner, cdnow_csv: Path) -> None:
    result = runner.invoke(
        app,
        [
            "analytics",
            "clv",
            "--transactions",
            str(cdnow_csv),
            "--model",
            "pareto-nbd",
            "--calibration-end",
            "1997-09-30",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["params"]) == ["alpha", "beta", "r", "s"]
