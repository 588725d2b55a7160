"""Backups restore to a database that passes `patronage check`, on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.storage.db import make_engine

runner = CliRunner()


def totals(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        members = conn.execute(text("SELECT count(*) FROM members")).scalar_one()
        points = conn.execute(
            text("SELECT COALESCE(SUM(points), 0) FROM ledger_entries")
        ).scalar_one()
    engine.dispose()
    return int(members), int(points)


def test_backup_and_restore(empty_db_url: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["demo", "--db", empty_db_url, "--members", "15"]).exit_code == 0
    before = totals(empty_db_url)
    target = tmp_path / "backup.bin"
    result = runner.invoke(app, ["backup", str(target), "--db", empty_db_url])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["backup", str(target), "--db", empty_db_url])
    assert again.exit_code == 2 and "exists" in again.output
    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM idempotency_keys"))
    engine.dispose()
    result = runner.invoke(app, ["restore", str(target), "--db", empty_db_url])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert totals(empty_db_url) == before
    missing = runner.invoke(app, ["restore", str(tmp_path / "nope"), "--db", empty_db_url])
    assert missing.exit_code == 2
