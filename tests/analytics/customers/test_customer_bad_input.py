"""Bad input gives one line naming the column or row, and exit code 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from patronage.cli.main import app

OK = "customer_id,date,amount\na,2024-01-01,10\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "tx.csv is empty"),
        ("customer_id,date,amount\n", "tx.csv has no transactions"),
        ("customer_id,day,amount\na,2024-01-01,1\n", "column 'date' not found in tx.csv"),
        (
            "customer_id,date,amount\na,2024-01-01,1\nb,2024-02-30,4\n",
            "column 'date', row 2: cannot parse date: '2024-02-30'",
        ),
        (
            "customer_id,date,amount\na,2024-01-01,ten\n",
            "column 'amount', row 1: cannot parse amount",
        ),
        (
            "customer_id,date,amount\na,2024-01-01,1\nb,2024-01-02,-4\nc,2024-01-02,-1\n",
            "column 'amount', row 2: negative amount (not allowed here): '-4' (1 more such rows)",
        ),
        ("customer_id,date,amount\n,2024-01-01,1\n", "column 'customer_id', row 1: no customer"),
    ],
)
def test_bad_files_are_refused(
    runner: CliRunner, write_csv: Callable[[str], Path], text: str, message: str
) -> None:
    result = runner.invoke(app, ["analytics", "rfm", "--transactions", str(write_csv(text))])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) <= 2  # one line (Rich may wrap at 80)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "31/01/2024"], "--as-of: '31/01/2024' is not a date"),
        (["--as-of", "2023-01-01"], "no purchases on or before 2023-01-01"),
        (["--customer-col", "client"], "column 'client' not found"),
        (["--engine", "pandas"], "unknown engine 'pandas'"),
    ],
)
def test_bad_options_are_refused(
    runner: CliRunner, write_csv: Callable[[str], Path], args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["analytics", "pareto", "--transactions", str(write_csv(OK)), *args]
    )
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analytics", "rfm", "--transactions", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_clv_without_repeat_buyers_says_so(
    runner: CliRunner, write_csv: Callable[[str], Path]
) -> None:
    text = "customer_id,date,amount\na,2024-01-01,1\nb,2024-01-02,2\n"
    result = runner.invoke(app, ["analytics", "clv", "--transactions", str(write_csv(text))])
    assert result.exit_code == 2
    assert "no customer made a repeat purchase" in " ".join(result.stderr.split())
