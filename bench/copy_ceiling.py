"""How fast PostgreSQL itself takes the rows an import must write, against the plain
COPY baseline of `make bench` (issue 2's import target is 30% of that baseline).

Prebuilt CSV text (no Python per row) is COPYed into four of the ledger's tables of a
migrated database (events, ledger_entries, lots, orders: with their keys, unique
constraints and foreign keys), one row per input row each. Whatever an importer
computes, it cannot go faster than this.

    .venv/bin/python bench/copy_ceiling.py [--rows 20000]

This is a benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_bench import (  # noqa: E402
    copy_rate,
    drop_pg_database,
    fresh_pg_database,
    patronage,
    seed_members,
    write_transactions,
)

WHEN = "2025-01-01 00:00:00+00"
TABLES = {
    "events": "program_id, member_id, type, source_id, order_id, occurred_at, recorded_at, "
    "amount_minor, currency, attributes",
    "ledger_entries": "program_id, member_id, kind, points, occurred_at, recorded_at, "
    "event_id, order_id, details",
    "lots": "program_id, member_id, entry_id, points, remaining, earned_at, available_at, "
    "expires_at, order_id",
    "orders": "program_id, member_id, order_id, event_id, amount_minor, refunded_minor, "
    "points_earned, points_reversed, lot_id, occurred_at",
}


def rows_for(
    table: str, n: int, members: list[int], written: dict[str, list[int]]
) -> list[tuple[Any, ...]]:
    """``n`` rows for ``table``, referring to the ids of the tables ``written`` before."""
    m = [members[i % len(members)] for i in range(n)]
    if table == "events":
        return [(1, m[i], "purchase", f"s{i}", f"o{i}", WHEN, WHEN, 1000, "CNY", '"{}"')
                for i in range(n)]  # fmt: skip
    if table == "ledger_entries":
        event = written["events"]
        return [(1, m[i], "earn", 10, WHEN, WHEN, event[i], f"o{i}", '"{}"') for i in range(n)]
    if table == "lots":
        entry, later = written["ledger_entries"], "2026-01-01 00:00:00+00"
        return [(1, m[i], entry[i], 10, 10, WHEN, WHEN, later, f"o{i}") for i in range(n)]
    event, lot = written["events"], written["lots"]
    return [(1, m[i], f"o{i}", event[i], 1000, 0, 10, 0, lot[i], WHEN) for i in range(n)]


def copy_into(conn: psycopg.Connection[Any], table: str, rows: list[tuple[Any, ...]]) -> float:
    text = "".join(",".join(map(str, row)) + "\n" for row in rows).encode()
    started = time.perf_counter()
    with conn.cursor().copy(f"COPY {table} ({TABLES[table]}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(text)
    conn.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    file = Path(tempfile.mkdtemp()) / "transactions.csv"
    write_transactions(file, args.rows, max(1, args.rows // 10))
    baseline = copy_rate(file)
    url = fresh_pg_database("patronage_bench_ceiling")
    patronage("init", "--db", url)
    seed_members(url, max(1, args.rows // 10))
    seconds: dict[str, float] = {}
    with psycopg.connect(url) as conn:
        members = [r[0] for r in conn.execute("SELECT id FROM members ORDER BY id")]
        written: dict[str, list[int]] = {}
        for table in TABLES:
            rows = rows_for(table, args.rows, members, written)
            seconds[table] = copy_into(conn, table, rows)
            written[table] = [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id")]
    drop_pg_database("patronage_bench_ceiling")
    print(f"plain COPY of the file (baseline): {baseline:,.0f} rows/s")  # noqa: T201
    for table, spent in seconds.items():
        print(f"  COPY into {table:<15} {args.rows / spent:10,.0f} rows/s")  # noqa: T201
    total = sum(seconds.values())
    print(  # noqa: T201
        f"four tables: {args.rows / total:,.0f} input rows/s = "
        f"{args.rows / total / baseline:.3f} x the baseline (issue 2's target: 0.30)"
    )


if __name__ == "__main__":
    main()
