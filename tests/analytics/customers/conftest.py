"""Fixtures for the customer-analytics tests: CDNOW as CSV, small files, one Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture(scope="session")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW_sample.txt as customer_id,date,amount (ISO dates)."""
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    raw[["customer_id", "date", "amount"]].to_csv(path, index=False)
    return path


@pytest.fixture
def write_csv(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(text: str, name: str = "tx.csv") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[object]:
    pytest.importorskip("pyspark")
    from patronage.analytics.engines import spark_session

    session = spark_session("local[1]")
    from patronage.analytics.engines import connect

    yield connect("spark")
    session.stop()
    spark_session.cache_clear()
