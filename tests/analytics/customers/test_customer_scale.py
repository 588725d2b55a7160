"""What keeps the analyses fast on millions of customers gives the same answers as the
plain formulas: the summary in passes, the refund-free expression, integer ids, the
likelihood sums, predictions per distinct history and quintile cut points."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1
from typer.testing import CliRunner

from patronage.analytics import bgnbd, gamma_gamma
from patronage.analytics.engines import connect
from patronage.analytics.rfm import quintile_scores
from patronage.analytics.sources import TransactionFile, read_transactions
from patronage.analytics.summary import customer_summary, customer_summary_expr
from patronage.cli.main import app
from patronage.config import get_settings

AS_OF = date(2024, 6, 30)


def random_transactions(refunds: bool, customers: int = 40, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = 400
    amount = np.round(rng.gamma(2.0, 20.0, rows), 2)
    if refunds:
        amount[rng.random(rows) < 0.1] *= -1
    days = rng.integers(0, 200, rows)  # some fall after AS_OF, many share a day
    days[:60] = days[60:120]  # same customer, same day below
    ids = rng.integers(1, customers + 1, rows) * 1000  # sparse integer ids
    ids[:60] = ids[60:120]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")).date,
            "amount": amount,
        }
    )


def summary_of(path: Path, refunds: bool, rows_per_pass: int | None) -> pd.DataFrame:
    spec = TransactionFile(path, allow_refunds=refunds)
    return customer_summary(read_transactions(connect(), spec), AS_OF, rows_per_pass)


@pytest.mark.parametrize("refunds", [False, True])
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])  # integer ids, text ids
def test_summary_in_passes_equals_one_pass(tmp_path: Path, refunds: bool, suffix: str) -> None:
    frame = random_transactions(refunds)
    path = tmp_path / f"tx{suffix}"
    if suffix == ".csv":
        frame.assign(customer_id="c" + frame["customer_id"].astype(str)).to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    whole = summary_of(path, refunds, None)
    for rows_per_pass in (7, 50, 150):
        pd.testing.assert_frame_equal(summary_of(path, refunds, rows_per_pass), whole)
    assert whole["customer_id"].is_unique
    assert whole["customer_id"].dtype == pd.Series(["x"]).astype(str).dtype


def test_refund_free_summary_matches_the_plain_definition(tmp_path: Path) -> None:
    frame = random_transactions(refunds=False)
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path, index=False)
    summary = summary_of(path, False, 11).set_index("customer_id")
    window = frame[frame["date"] <= AS_OF].assign(
        day=lambda f: (pd.to_datetime(f["date"]) - pd.Timestamp("1970-01-01")).dt.days
    )
    daily = window.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    first_days = window[window["day"] == window.groupby("customer_id")["day"].transform("min")]
    assert first_days["customer_id"].duplicated().any()  # several purchases on a first day
    for customer, days in daily.groupby("customer_id"):
        row = summary.loc[str(customer)]
        assert row["first_day"] == days["day"].min()
        assert row["last_day"] == days["day"].max()
        assert row["purchase_days"] == len(days)
        assert row["gross"] == pytest.approx(days["amount"].sum())
        assert row["revenue"] == pytest.approx(days["amount"].sum())
        assert row["first_day_amount"] == pytest.approx(days.sort_values("day")["amount"].iloc[0])
    assert len(summary) == daily["customer_id"].nunique()
    numeric_order = sorted(int(c) for c in summary.index)
    assert [int(c) for c in summary.index] == numeric_order


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_day_bitmaps_equal_grouping_by_customer_and_day(tmp_path: Path, suffix: str) -> None:
    frame = random_transactions(refunds=False, seed=9)
    path = tmp_path / f"tx{suffix}"
    frame.to_parquet(path, index=False) if suffix == ".parquet" else frame.to_csv(path, index=False)
    transactions = read_transactions(connect(), TransactionFile(path))
    plain = customer_summary_expr(transactions, AS_OF).to_pyarrow().to_pandas()
    plain = plain.astype({"customer_id": str}).sort_values("customer_id", ignore_index=True)
    fast = customer_summary(transactions, AS_OF)
    pd.testing.assert_frame_equal(
        fast.sort_values("customer_id", ignore_index=True), plain, check_dtype=False
    )


def test_integer_ids_in_a_file_meet_text_ids_in_side_files(tmp_path: Path) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": [date(2024, 1, 10), date(2024, 2, 10), date(2024, 3, 1)],
            "amount": [10.0, 10.0, 5.0],
        }
    )
    tx.to_parquet(tmp_path / "tx.parquet", index=False)
    (tmp_path / "i.csv").write_text("customer_id,date\n2,2024-02-20\n3,2024-02-21\n")
    runner = CliRunner()
    common = ["--transactions", str(tmp_path / "tx.parquet"), "--interactions"]
    common += [str(tmp_path / "i.csv"), "--json"]
    ladder = runner.invoke(app, ["analytics", "ladder", *common])
    assert ladder.exit_code == 0, ladder.output
    assert json.loads(ladder.stdout)["stages"]["expectation"] == 1  # customer 3
    index = runner.invoke(
        app, ["analytics", "loyalty-index", *common, "--output"] + [str(tmp_path / "index.csv")]
    )
    assert index.exit_code == 0, index.output
    frame = pd.read_csv(tmp_path / "index.csv").set_index("customer_id")
    assert frame.loc[2, "decision_days"] == 10  # first seen Feb 20, bought Mar 1


def histories(seed: int = 2, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 9, n).astype(np.float64)
    age = rng.integers(1, 80, n) / 7.0
    return x, np.where(x > 0, np.round(age * rng.random(n), 3), 0.0), age


def test_bgnbd_sums_equal_the_per_customer_formulas() -> None:
    x, t_x, age = histories()
    params = np.array([0.7, 4.0, 0.8, 2.5])
    ll, grad = bgnbd.LikelihoodSums.of(x, t_x, age)(params)
    assert ll == pytest.approx(bgnbd.log_likelihood(params, x, t_x, age).sum(), rel=1e-12)
    assert grad == pytest.approx(bgnbd.gradient(params, x, t_x, age).sum(axis=1), rel=1e-10)


def test_gamma_gamma_sums_equal_the_per_customer_formulas() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(1, 9, 3000).astype(np.float64)
    m = np.round(rng.gamma(3.0, 10.0, 3000), 2)
    params = np.array([6.0, 3.7, 15.0])
    ll, grad = gamma_gamma.LikelihoodSums.of(x, m)(params)
    assert ll == pytest.approx(gamma_gamma.log_likelihood(params, x, m).sum(), rel=1e-12)
    assert grad == pytest.approx(gamma_gamma.gradient(params, x, m).sum(axis=1), rel=1e-10)


def test_expected_purchases_per_distinct_history_equal_eq_10() -> None:
    x, t_x, age = histories()
    r, alpha, a, b = params = np.array([0.7, 4.0, 0.8, 2.5])
    t = 13.0
    direct = (
        (a + b + x - 1)
        / (a - 1)
        * (
            1
            - ((alpha + age) / (alpha + age + t)) ** (r + x)
            * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))
        )
        * bgnbd.probability_alive(params, x, t_x, age)
    )
    assert bgnbd.expected_purchases(params, t, x, t_x, age) == pytest.approx(direct, rel=1e-12)


def test_quintile_cut_points_equal_ranks() -> None:
    rng = np.random.default_rng(8)
    for n in (1, 2, 9, 10, 101):
        for values in (rng.integers(0, 4, n).astype(np.float64), rng.random(n)):
            ranks = pd.Series(values).rank(method="min").to_numpy()
            assert quintile_scores(values).tolist() == (1 + (5 * (ranks - 1)) // n).tolist()


def test_duckdb_memory_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATRONAGE_ANALYTICS_MEMORY_MB", "200")
    get_settings.cache_clear()
    try:
        limit = connect().raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    finally:
        get_settings.cache_clear()
    assert limit in {"200.0 MiB", "190.7 MiB"}  # DuckDB prints MiB; 200 MB = 190.7 MiB
