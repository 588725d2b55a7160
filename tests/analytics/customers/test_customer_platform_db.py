"""Analyses on the platform's own database: members, purchases, refunds, interactions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.storage.db import make_engine
from patronage.storage.tables import EventRow, MemberRow, ProgramRow


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
