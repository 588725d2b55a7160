"""`make soak`: the mixed concurrent workload on PostgreSQL for minutes, then checks."""

from __future__ import annotations

import argparse
import sys

from ledger_bench import drop_pg_database, fresh_pg_database

from patronage.services.soak import run_soak
from patronage.storage.db import make_engine
from patronage.storage.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    engine = make_engine(fresh_pg_database("patronage_soak"))
    upgrade(engine)
    report = run_soak(engine, args.seconds, threads=args.threads)
    engine.dispose()
    drop_pg_database("patronage_soak")
    print(f"soak: {args.seconds:.0f}s, {args.threads} threads")
    print(f"  operations: {dict(report.operations)} ({sum(report.operations.values())} in all)")
    print(f"  refused as expected: {dict(report.refusals)}")
    print(
        f"  reward stock: {report.stock_start} at start, {report.stock_taken} taken, "
        f"{report.stock_left} left"
    )
    print(
        f"  invariant violations: {report.violations or 'none'}; negative balances: "
        f"{report.negative_balances}; unexpected errors: {len(report.unexpected)}"
    )
    for line in report.unexpected[:20]:
        print(f"    {line}")
    print("  CLEAN" if report.clean else "  NOT CLEAN")
    sys.exit(0 if report.clean else 1)


if __name__ == "__main__":
    main()
