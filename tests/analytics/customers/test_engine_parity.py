"""The same Ibis expressions give identical results on DuckDB and on Spark."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from patronage.analytics import clv
from patronage.analytics.engines import connect
from patronage.analytics.retention import cohort_counts_expr
from patronage.analytics.sources import TransactionFile, read_transactions
from patronage.analytics.summary import customer_summary

pytestmark = pytest.mark.spark
AS_OF = date(1997, 9, 30)


def summaries(con: BaseBackend, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    transactions = read_transactions(con, TransactionFile(path))
    counts = cohort_counts_expr(transactions, AS_OF).to_pyarrow().to_pandas()
    counts = counts.astype("int64").sort_values(["cohort", "offset"], ignore_index=True)
    return customer_summary(transactions, AS_OF), counts


def test_duckdb_and_spark_agree_on_cdnow(spark_backend: BaseBackend, cdnow_csv: Path) -> None:
    duck_summary, duck_cohorts = summaries(connect("duckdb"), cdnow_csv)
    spark_summary, spark_cohorts = summaries(spark_backend, cdnow_csv)
    assert len(duck_summary) == 2357
    pd.testing.assert_frame_equal(duck_summary, spark_summary, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(duck_cohorts, spark_cohorts)
    duck_fit = clv.fit_models(clv.repeat_history(duck_summary, AS_OF), "bgnbd")
    spark_fit = clv.fit_models(clv.repeat_history(spark_summary, AS_OF), "bgnbd")
    for duck, spark in (
        (duck_fit.purchases, spark_fit.purchases),
        (duck_fit.spend, spark_fit.spend),
    ):
        assert duck.params == pytest.approx(spark.params, rel=1e-5)
        assert duck.customers == spark.customers


def test_spark_refuses_bad_dates_like_duckdb(spark_backend: BaseBackend, tmp_path: Path) -> None:
    from patronage.errors import InvalidInput

    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date,amount\na,2024-01-05,10\nb,not-a-date,5\n")
    with pytest.raises(InvalidInput, match="column 'date', a row: cannot parse date: 'not-a-date'"):
        read_transactions(spark_backend, TransactionFile(path))
    with pytest.raises(InvalidInput, match="column 'date', row 2: cannot parse date: 'not-a-date'"):
        read_transactions(connect("duckdb"), TransactionFile(path))
