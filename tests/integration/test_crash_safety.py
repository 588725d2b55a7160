"""SIGKILL at a random point, restart: the same totals as an uninterrupted run.

The import and the expiry job run as real `patronage` processes and are killed with
SIGKILL once they have committed some work; running them again must finish with
exactly what a run that was never interrupted produces.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from patronage.storage.db import make_engine

PATRONAGE = str(Path(sys.executable).parent / "patronage")
ROWS = 600


def write_file(path: Path) -> Path:
    rng = random.Random(5)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "member_external_id",
                "order_id",
                "occurred_at",
                "amount",
                "currency",
                "type",
                "original_order_id",
            ]
        )
        for i in range(ROWS):
            when = (start + timedelta(hours=7 * i)).isoformat()
            if i % 10 == 9:
                writer.writerow(
                    [f"c{(i - 3) % 150}", f"r{i}", when, "5.00", "CNY", "refund", f"o{i - 3}"]
                )
            else:
                writer.writerow(
                    [
                        f"c{i % 150}",
                        f"o{i}",
                        when,
                        f"{rng.randint(1000, 90000) / 100:.2f}",
                        "CNY",
                        "purchase",
                        "",
                    ]
                )
    return path


def totals(url: str) -> tuple[int, ...]:
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM ledger_entries), "
                "(SELECT COALESCE(SUM(points), 0) FROM ledger_entries), "
                "(SELECT count(*) FROM ledger_entries WHERE kind = 'expire'), "
                "(SELECT COALESCE(SUM(remaining), 0) FROM lots), "
                "(SELECT COALESCE(SUM(debt), 0) FROM members)"
            )
        ).one()
    engine.dispose()
    return tuple(int(v) for v in row)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PATRONAGE, *args], capture_output=True, text=True, check=False)


def kill_after_progress(args: list[str], url: str, query: str, minimum: int) -> None:
    """Start a command, wait until ``query`` counts at least ``minimum``, then SIGKILL it."""
    process = subprocess.Popen(
        [PATRONAGE, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    engine = make_engine(url, read_only=True)
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(text(query)).scalar_one() >= minimum:
                    break
            time.sleep(0.05)
        time.sleep(random.random() * 0.1)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        engine.dispose()
    assert process.returncode == -signal.SIGKILL, "the command finished before it could be killed"


@pytest.fixture
def reference(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, tuple[int, ...], tuple[int, ...]]:
    folder = tmp_path_factory.mktemp("reference")
    file = write_file(folder / "tx.csv")
    url = f"sqlite:///{folder}/ref.db"
    assert run("init", "--db", url).returncode == 0
    assert run("import", "transactions", str(file), "--db", url).returncode == 0
    imported = totals(url)
    assert run("jobs", "run", "expire", "--as-of", "2026-06-01", "--db", url).returncode == 0
    return file, imported, totals(url)


def test_import_and_expiry_survive_sigkill(empty_db_url: str, reference) -> None:  # type: ignore[no-untyped-def]
    file, imported, expired = reference
    assert run("init", "--db", empty_db_url).returncode == 0
    kill_after_progress(
        ["import", "transactions", str(file), "--db", empty_db_url],
        empty_db_url,
        "SELECT count(*) FROM events",
        200,
    )
    assert 0 < totals(empty_db_url)[0] < ROWS
    result = run("import", "transactions", str(file), "--db", empty_db_url, "--batch-size", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    assert totals(empty_db_url) == imported

    kill_after_progress(
        ["jobs", "run", "expire", "--as-of", "2026-06-01", "--db", empty_db_url],
        empty_db_url,
        "SELECT count(*) FROM ledger_entries WHERE kind = 'expire'",
        1,
    )
    assert (
        run("jobs", "run", "expire", "--as-of", "2026-06-01", "--db", empty_db_url).returncode == 0
    )
    assert totals(empty_db_url) == expired
    assert run("check", "--db", empty_db_url).returncode == 0
