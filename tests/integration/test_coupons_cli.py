"""`patronage coupons ...` on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine
from tests.factories import Shop
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.clock import FixedClock
from patronage.domain.coupon_codes import is_well_formed
from patronage.services.coupon_batches import batch_codes
from patronage.services.coupons import validate_coupon

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def new_batch(db_url: str, *options: str) -> int:
    code, output = run("coupons", "new-batch", "--db", db_url, "--name", "spring", *options)
    assert code == 0, output
    return int(output.strip().splitlines()[-1])


def test_new_batch_generate_to_csv(
    db_url: str, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    shop = Shop(engine, clock)
    batch = new_batch(db_url, "--percent", "15", "--expires-at", "2027-01-01T00:00+08:00")
    out = tmp_path / "codes.csv"
    code, output = run(
        "coupons",
        "generate",
        "--db",
        db_url,
        "--batch",
        str(batch),
        "--count",
        "2500",
        "--output",
        str(out),
    )
    assert code == 0, output
    assert "2,500 codes added" in output
    with out.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["code"] and len(rows) == 2501
    codes = [row[0] for row in rows[1:]]
    assert len(set(codes)) == 2500 and all(is_well_formed(c) for c in codes)
    stored = {c for _, c, _ in batch_codes(shop.uow(), batch, limit=10_000)}
    assert stored == set(codes)
    assert validate_coupon(shop.uow(), codes[0], amount_minor=1000).discount_minor == 150


def test_import_a_pool_from_csv(
    db_url: str, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    shop = Shop(engine, clock)
    batch = new_batch(db_url, "--free-sku", "COF-1")
    pool = tmp_path / "pool.csv"
    pool.write_text("partner,code\nacme,ACME-0001\nacme,acme-0002\n\n", encoding="utf-8")
    code, output = run("coupons", "import", str(pool), "--db", db_url, "--batch", str(batch))
    assert code == 0, output
    assert "2 codes imported" in output
    code, output = run("coupons", "import", str(pool), "--db", db_url, "--batch", str(batch))
    assert code == 0 and "2 already there" in output
    assert validate_coupon(shop.uow(), "ACME0002").valid


def test_bad_input_is_one_line_and_exit_2(
    db_url: str, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    Shop(engine, clock)
    code, output = run("coupons", "new-batch", "--db", db_url, "--name", "x")
    assert code == 2 and "discount" in output
    code, output = run(
        "coupons",
        "new-batch",
        "--db",
        db_url,
        "--name",
        "x",
        "--percent",
        "5",
        "--expires-at",
        "2027-01-01",
    )
    assert code == 2 and "expires-at" in output
    code, output = run("coupons", "new-batch", "--db", db_url, "--name", "x", "--percent", "500")
    assert code == 2 and "discount.value" in output
    code, output = run("coupons", "generate", "--db", db_url, "--batch", "999", "--count", "5")
    assert code == 2 and "no coupon batch 999" in output
    batch = new_batch(db_url, "--percent", "5")
    pool = tmp_path / "pool.csv"
    pool.write_text("code\nGOOD-0001\nbad code!\n", encoding="utf-8")
    code, output = run("coupons", "import", str(pool), "--db", db_url, "--batch", str(batch))
    assert code == 2 and "line=3" in output
    code, output = run(
        "coupons", "import", str(tmp_path / "missing.csv"), "--db", db_url, "--batch", str(batch)
    )
    assert code == 2 and "cannot read" in output
