"""The bulk path of `import transactions` (services/bulk_import.py) writes exactly
what recording the same rows one event at a time writes."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from patronage.services.events import EventRequest, apply_event
from patronage.services.imports import ImportReport, import_transactions
from patronage.services.programs import ensure_default_program
from patronage.storage.invariants import find_violations
from patronage.storage.tables import metadata
from patronage.storage.uow import UnitOfWork

HEADER = ["member_external_id", "order_id", "occurred_at", "amount", "currency", "type",
          "original_order_id", "store"]  # fmt: skip
START = datetime(2025, 1, 1, tzinfo=UTC)


def history_file(path: Path, seed: int) -> Path:
    """Purchases over 500 days (tiers up, lots of every age), partial, full, excessive,
    early and unknown refunds, repeated rows, a wrong currency, a bad row, one member
    refunding another's order, and a member that exists before the import."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    purchases: list[tuple[str, str, datetime, int]] = []
    for n in range(300):
        member = f"C{rng.randrange(25):03d}"
        when = START + timedelta(days=rng.randrange(500), minutes=rng.randrange(1440))
        cents = rng.choice([rng.randint(100, 9000), rng.randint(20000, 400000)])
        order = f"O{n}"
        purchases.append((member, order, when, cents))
        rows.append([member, order, when.isoformat(), f"{cents / 100:.2f}", "CNY", "purchase",
                     "", f"s{n % 3}"])  # fmt: skip
    for n, (member, order, when, cents) in enumerate(rng.sample(purchases, 80)):
        part = rng.choice([cents, cents // 3 or 1, cents // 2 or 1, cents + 100])
        later = when + timedelta(days=rng.choice([-2, 1, 5, 40]))
        rows.append([member, f"R{n}", later.isoformat(), f"{part / 100:.2f}", "CNY", "refund",
                     order, ""])  # fmt: skip
    rows += [
        rows[0],  # the same purchase twice
        ["C001", "O-usd", START.isoformat(), "10.00", "USD", "purchase", "", ""],
        ["C002", "", START.isoformat(), "10.00", "CNY", "purchase", "", ""],
        [
            "C003",
            "R-x",
            (START + timedelta(days=9)).isoformat(),
            "1.00",
            "CNY",
            "refund",
            "NO-SUCH",
            "",
        ],  # fmt: skip
        [
            "T1",
            "OT1",
            (START + timedelta(days=3)).isoformat(),
            "500.00",
            "CNY",
            "purchase",
            "",
            "",
        ],  # fmt: skip
        [
            "T2",
            "RT2",
            (START + timedelta(days=4)).isoformat(),
            "5.00",
            "CNY",
            "refund",
            "OT1",
            "",
        ],  # fmt: skip
        [
            "OLD",
            "OLD-2",
            (START + timedelta(days=30)).isoformat(),
            "1200.00",
            "CNY",
            "purchase",
            "",
            "",
        ],  # fmt: skip
    ]
    rng.shuffle(rows)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def prepare(engine: Engine) -> None:
    """An empty database with the default program and one member known before."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    ensure_default_program(UnitOfWork(engine))
    request = EventRequest(
        type="purchase",
        occurred_at=START,
        member_external_id="OLD",
        order_id="OLD-1",
        amount=Decimal("900.00"),
    )
    with UnitOfWork(engine) as uow:
        apply_event(uow, request, create_members=True)
        uow.commit()


SNAPSHOT = {
    "members": """SELECT m.external_id, m.joined_at, t.code, m.tier_since, m.debt
        FROM members m JOIN tiers t ON t.id = m.tier_id""",
    "tier_history": """SELECT m.external_id, t.code, h.valid_from, h.valid_to, h.reason
        FROM tier_history h JOIN members m ON m.id = h.member_id
        JOIN tiers t ON t.id = h.tier_id""",
    "events": """SELECT m.external_id, e.type, e.source_id, e.order_id, e.original_order_id,
        e.occurred_at, e.amount_minor, e.currency, e.store FROM events e
        JOIN members m ON m.id = e.member_id""",
    "entries": """SELECT m.external_id, l.kind, l.points, l.occurred_at, l.order_id, l.details,
        e.source_id FROM ledger_entries l JOIN members m ON m.id = l.member_id
        LEFT JOIN events e ON e.id = l.event_id""",
    "lots": """SELECT m.external_id, l.points, l.remaining, l.earned_at, l.available_at,
        l.expires_at, l.order_id, e.kind FROM lots l JOIN members m ON m.id = l.member_id
        JOIN ledger_entries e ON e.id = l.entry_id""",
    "allocations": """SELECT e.kind, e.order_id, e.occurred_at, l.order_id, a.points
        FROM allocations a JOIN ledger_entries e ON e.id = a.entry_id
        JOIN lots l ON l.id = a.lot_id""",
    "orders": """SELECT o.order_id, m.external_id, o.amount_minor, o.refunded_minor,
        o.points_earned, o.points_reversed, l.points, e.source_id, o.occurred_at
        FROM orders o JOIN members m ON m.id = o.member_id JOIN events e ON e.id = o.event_id
        LEFT JOIN lots l ON l.id = o.lot_id""",
}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            name: sorted((tuple(map(str, row)) for row in conn.execute(text(sql))), key=str)
            for name, sql in SNAPSHOT.items()
        }


def run_import(engine: Engine, file: Path, bulk: bool) -> ImportReport:
    prepare(engine)
    report = import_transactions(UnitOfWork(engine), file, batch_size=7, bulk=bulk)
    assert find_violations(engine) == {}
    return report


@pytest.mark.parametrize("seed", [1, 2])
def test_bulk_and_one_by_one_write_the_same_ledger(
    engine: Engine, tmp_path: Path, seed: int
) -> None:
    file = history_file(tmp_path / "history.csv", seed)
    one_by_one = run_import(engine, file, bulk=False)
    expected = snapshot(engine)
    bulk = run_import(engine, file, bulk=True)
    assert snapshot(engine) == expected
    assert (bulk.imported, bulk.already_imported, bulk.rejected) == (
        one_by_one.imported,
        one_by_one.already_imported,
        one_by_one.rejected,
    )
    assert bulk.rejected and bulk.already_imported  # the file has both kinds
    assert {row[2] for row in expected["members"]} >= {"member", "silver", "gold"}


def test_a_second_run_counts_nothing_twice(engine: Engine, tmp_path: Path) -> None:
    """Run twice, the bulk path ends where the one-by-one path ends; the second run
    records only rows refused the first time for an order not yet known then."""
    file = history_file(tmp_path / "history.csv", 3)
    results = []
    for bulk in (False, True):
        first = run_import(engine, file, bulk=bulk)
        again = import_transactions(UnitOfWork(engine), file, batch_size=7, bulk=bulk)
        assert again.already_imported == first.imported + first.already_imported
        assert again.imported <= len(first.rejected)
        assert find_violations(engine) == {}
        results.append((snapshot(engine), again.imported, again.rejected))
    assert results[0] == results[1]
