"""Fixtures for the customer-analytics tests: CDNOW as CSV, small files, one Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from patronage.storage.db import make_engine
from patronage.storage.tables import EventRow, MemberRow, ProgramRow

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


@pytest.fixture
def platform_db(tmp_path) -> str:  # type: ignore[no-untyped-def]
    from patronage.storage.tables import metadata

    url = f"sqlite:///{tmp_path}/p.db"
    engine = make_engine(url)
    metadata.create_all(engine)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(ProgramRow), [{"id": 1, "code": "main", "name": "Main", "created_at": at}]
        )
        conn.execute(
            insert(MemberRow),
            [
                {"id": i, "program_id": 1, "external_id": ext, "joined_at": at, "created_at": at}
                for i, ext in ((1, "M-1"), (2, "M-2"), (3, "M-3"))
            ],
        )
        events = [
            (
                1,
                "purchase",
                "2024-01-05T23:30:00",
                10000,
                [{"sku": "x", "quantity": 1, "price": 100}],
            ),
            (
                1,
                "purchase",
                "2024-02-05T10:00:00",
                5000,
                [{"sku": "x", "quantity": 2, "price": 25}],
            ),
            (1, "refund", "2024-02-06T10:00:00", 2000, None),
            (2, "purchase", "2024-02-01T08:00:00", 3000, None),
            (2, "app_opened", "2024-01-20T08:00:00", None, None),
            (3, "app_opened", "2024-01-22T08:00:00", None, None),
        ]
        conn.execute(
            insert(EventRow),
            [
                {
                    "program_id": 1,
                    "member_id": m,
                    "type": kind,
                    "source_id": f"s{i}",
                    "occurred_at": datetime.fromisoformat(when).replace(tzinfo=UTC),
                    "recorded_at": at,
                    "amount_minor": amount,
                    "items": items,
                    "attributes": {},
                }
                for i, (m, kind, when, amount, items) in enumerate(events)
            ],
        )
    engine.dispose()
    return url
