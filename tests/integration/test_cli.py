"""The `patronage` command on real databases."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.storage.db import make_engine
from patronage.storage.tables import metadata

runner = CliRunner()
HEADER = [
    "member_external_id",
    "order_id",
    "occurred_at",
    "amount",
    "currency",
    "type",
    "original_order_id",
]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_migrations_match_the_schema(empty_db_url: str) -> None:
    code, output = run("init", "--db", empty_db_url)
    assert code == 0, output
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_import_reports_bad_rows_and_is_resumable(empty_db_url: str, tmp_path: Path) -> None:
    run("init", "--db", empty_db_url)
    rows = [
        ["c1", "o1", "2026-01-05T10:00:00+08:00", "120.50", "CNY", "purchase", ""],
        ["c2", "o2", "2026-01-06T10:00:00+08:00", "80.00", "CNY", "purchase", ""],
        ["c1", "r1", "2026-01-07T10:00:00+08:00", "20.50", "CNY", "refund", "o1"],
        ["c3", "o3", "2026-01-08T10:00:00", "10.00", "CNY", "purchase", ""],
        ["c3", "o4", "2026-01-08T10:00:00+00:00", "ten", "CNY", "purchase", ""],
        ["c3", "o5", "2026-01-08T10:00:00+00:00", "10.00", "CNY", "gift", ""],
    ]
    file = write_csv(tmp_path / "tx.csv", rows)
    code, output = run("import", "transactions", str(file), "--db", empty_db_url)
    assert code == 2
    assert "line 5: occurred_at" in output and "no time zone" in output
    assert "line 6: amount" in output and "line 7: type" in output
    code, output = run("import", "transactions", str(file), "--db", empty_db_url)
    assert "│    6 │        0 │                3 │        3 │" in output
    code, output = run("check", "--db", empty_db_url)
    assert code == 0, output
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        from sqlalchemy import text

        total = conn.execute(text("SELECT SUM(points) FROM ledger_entries")).scalar()
    engine.dispose()
    assert total == 120 + 80 - 20


def test_import_parquet_and_missing_column(empty_db_url: str, tmp_path: Path) -> None:
    run("init", "--db", empty_db_url)
    table = pa.table(
        {
            "member_external_id": ["c1"],
            "order_id": ["o1"],
            "occurred_at": ["2026-01-05T10:00:00+00:00"],
            "amount": [12.0],
            "currency": ["CNY"],
            "type": ["purchase"],
        }
    )
    pq.write_table(table, tmp_path / "tx.parquet")
    code, output = run("import", "transactions", str(tmp_path / "tx.parquet"), "--db", empty_db_url)
    assert code == 0, output
    pq.write_table(table.drop_columns(["amount"]), tmp_path / "bad.parquet")
    code, output = run(
        "import", "transactions", str(tmp_path / "bad.parquet"), "--db", empty_db_url
    )
    assert code == 2 and "missing column(s): amount" in output


def test_import_members(empty_db_url: str, tmp_path: Path) -> None:
    run("init", "--db", empty_db_url)
    path = tmp_path / "members.csv"
    path.write_text(
        "external_id,name,email,birthday,consent_email\n"
        "m1,Li Lei,li@example.com,1990-05-01,yes\n"
        "m2,Han Meimei,not-an-email,,\n"
    )
    code, output = run("import", "members", str(path), "--db", empty_db_url)
    assert code == 2 and "line 3: email is not a valid address" in output


def test_apikey_and_jobs(empty_db_url: str) -> None:
    run("init", "--db", empty_db_url)
    code, output = run("apikey", "create", "--role", "staff", "--db", empty_db_url)
    assert code == 0 and output.strip().splitlines()[-1].startswith("pat_")
    code, output = run("apikey", "create", "--role", "wizard", "--db", empty_db_url)
    assert code == 2 and "role must be one of" in output
    code, output = run("jobs", "run", "expire", "--as-of", "2027-01-01", "--db", empty_db_url)
    assert code == 0 and "expired 0 lot(s)" in output
    code, output = run("jobs", "run", "launch", "--db", empty_db_url)
    assert code == 2


def test_demo_is_deterministic_and_checks_clean(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    code, output = run("demo", "--db", url, "--members", "40", "--seed", "3")
    assert code == 0, output
    code, again = run("demo", "--db", url, "--members", "40", "--seed", "3")
    assert code == 0
    assert "│        0 │" in again  # everything was already there: nothing imported twice
    assert run("check", "--db", url)[0] == 0
