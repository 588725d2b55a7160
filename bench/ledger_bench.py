"""`make bench`: purchase events per second through the HTTP API (8 concurrent
clients) and bulk import rows per second, on PostgreSQL and SQLite, each against a
baseline measured in the same run on the same machine:

- API: pgbench's built-in TPC-B-like script, 8 clients (the target is at least half
  of its transactions per second). Both loads come from clients written in C: pgbench
  for PostgreSQL, wrk (bench/purchase.lua) for the API, so neither takes much of the
  CPU the server needs;
- import: PostgreSQL's COPY of the same rows into a plain table (target: 30%).

This is a benchmark, not a test: it prints figures and ratios and asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get(
    "PATRONAGE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def fresh_pg_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def patronage(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(BIN / "patronage"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return result.stdout


def pgbench_tps(clients: int, seconds: int) -> float:
    url = fresh_pg_database("patronage_bench_pgbench")
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", url], check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    drop_pg_database("patronage_bench_pgbench")
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def seed_members(url: str, members: int) -> None:
    path = Path(tempfile.mkdtemp()) / "members.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "name"])
        writer.writerows([f"B{i:06d}", f"Member {i}"] for i in range(members))
    patronage("import", "members", str(path), "--db", url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_throughput(
    url: str, members: int, clients: int, seconds: int, workers: int, rules: Path | None = None
) -> dict[str, float]:
    patronage("init", "--db", url)
    seed_members(url, members)
    if rules is not None:
        patronage("rules", "import", str(rules), "--db", url)
    key = patronage("apikey", "create", "--role", "staff", "--db", url).strip().splitlines()[-1]
    port = free_port()
    env = {**os.environ, "PATRONAGE_SCHEDULER": "false"}
    server = subprocess.Popen(
        [
            str(BIN / "patronage"),
            "serve",
            "--db",
            url,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base)
        env = {
            **os.environ,
            "PATRONAGE_BENCH_KEY": key,
            "PATRONAGE_BENCH_MEMBERS": str(members),
        }
        runs = ((f"w{random.randrange(10**9)}", 2), (f"r{random.randrange(10**9)}", seconds))
        for run, duration in runs:
            out = subprocess.run(
                [
                    *("wrk", "-t", "2", "-c", str(clients), "-d", f"{duration}s"),
                    *("-s", str(ROOT / "bench/purchase.lua"), base),
                ],
                env={**env, "PATRONAGE_BENCH_RUN": run},
                check=True,
                capture_output=True,
                text=True,
            ).stdout  # the first, short run warms the server up
    finally:
        server.terminate()
        server.wait(timeout=30)
    check = subprocess.run([str(BIN / "patronage"), "check", "--db", url], capture_output=True)
    done = re.search(r"([0-9]+) requests in ([0-9.]+)(ms|s|m)\b", out)
    failed = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", out)
    if done is None:
        raise RuntimeError(f"wrk printed no count:\n{out}")
    elapsed = float(done.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[done.group(3)]
    errors = int(failed.group(1)) if failed else 0
    return {
        "events_per_s": (int(done.group(1)) - errors) / elapsed,  # recorded purchases only
        "errors": float(errors),
        "check_ok": float(check.returncode == 0),
    }


def program_rules_yaml(path: Path, rules: int = 20, campaigns: int = 5) -> Path:
    """A program with ``rules`` active rules spread over ``campaigns`` campaigns (caps,
    budgets, segments, every action and stacking mode): `make bench BENCH_ARGS=--rules`."""
    actions = [("multiplier", 2), ("bonus", 10), ("per_unit", 0.5), ("per_item", 3)]
    conditions = [
        "event.amount > 50.0",
        'event.channel == "app" || event.amount >= 400.0',
        "event.day_of_week in [0, 6]",
        'member.tier in ["silver", "gold"]',
        "member.days_since_join < 30 && event.amount > 20.0",
        'event.items.exists(i, i.category == "coffee")',
        "event.hour >= 7 && event.hour < 10",
        'event.store == "s1"',
    ]
    stacking = ["stack", "best_of", "best_of", "stack", "exclusive"]
    lines = ["program: default", "campaigns:"]
    for c in range(campaigns):
        lines += [
            f"  - code: bench-c{c}",
            f"    name: Bench campaign {c}",
            "    segment: member.days_since_join >= 0",
            "    budget: 1000000000",
            "    caps: {day: 100000, month: 1000000}",
            f"    priority: {c}",
            f"    stacking: {stacking[c % len(stacking)]}",
        ]
    lines.append("rules:")
    for r in range(rules):
        action, value = actions[r % len(actions)]
        lines += [
            f"  - code: bench-r{r}",
            f"    name: Bench rule {r}",
            f"    campaign: bench-c{r % campaigns}",
            f"    condition: '{conditions[r % len(conditions)]}'",
            f"    action: {action}",
            f"    value: {value}",
        ]
        if action == "per_item":
            lines.append("    item_filter: 'item.quantity > 0.0'")
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for(base: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not start")


def write_transactions(path: Path, rows: int, members: int) -> None:
    rng = random.Random(11)
    start = datetime(2025, 1, 1, tzinfo=UTC)
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
        for i in range(rows):
            when = start + timedelta(seconds=i * 300)
            if i % 20 == 19:  # one row in twenty refunds an earlier order
                j = i - rng.randint(1, 18)
                writer.writerow(
                    [
                        f"C{j % members:06d}",
                        f"R{i}",
                        when.isoformat(),
                        "1.00",
                        "CNY",
                        "refund",
                        f"O{j}",
                    ]
                )
            else:
                writer.writerow(
                    [
                        f"C{i % members:06d}",
                        f"O{i}",
                        when.isoformat(),
                        f"{rng.randint(100, 50000) / 100:.2f}",
                        "CNY",
                        "purchase",
                        "",
                    ]
                )


def copy_rate(path: Path) -> float:
    url = fresh_pg_database("patronage_bench_copy")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE tx (member_external_id text, order_id text, occurred_at timestamptz, "
            "amount numeric(14,2), currency text, type text, original_order_id text)"
        )
        started = time.perf_counter()
        with conn.cursor().copy("COPY tx FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(path.read_bytes())
        elapsed = time.perf_counter() - started
        rows = int(conn.execute("SELECT count(*) FROM tx").fetchone()[0])  # type: ignore[index]
    drop_pg_database("patronage_bench_copy")
    return rows / elapsed


def import_rate(url: str, path: Path, rows: int) -> float:
    patronage("init", "--db", url)
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "patronage"), "import", "transactions", str(path), "--db", url],
        check=True,
        capture_output=True,
    )
    return rows / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--pairs", type=int, default=3, help="with --rules: runs of each program, by turns"
    )
    parser.add_argument(
        "--rules",
        action="store_true",
        help="also run the API on PostgreSQL with 20 active rules in 5 campaigns "
        "(target: at most 20%% slower than the default program)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    results = []

    tps = pgbench_tps(args.clients, args.seconds)
    results.append(("pgbench TPC-B-like, 8 clients (baseline)", f"{tps:,.0f} tps", ""))
    # With --rules, the default program and the rule program run by turns, ``--pairs``
    # times: the machine's speed drifts, and a ratio of two runs made next to each other
    # drifts less. The medians are reported, and every pair.
    pairs: list[tuple[dict[str, float], dict[str, float] | None]] = []
    for _ in range(args.pairs if args.rules else 1):
        pg = fresh_pg_database("patronage_bench_api")
        default = api_throughput(pg, args.members, args.clients, args.seconds, args.workers)
        with_rules = None
        if args.rules:
            with_rules = api_throughput(
                fresh_pg_database("patronage_bench_rules"),
                *(args.members, args.clients, args.seconds, args.workers),
                program_rules_yaml(tmp / "rules.yaml"),
            )
            drop_pg_database("patronage_bench_rules")
        pairs.append((default, with_rules))
    runs = [run for pair in pairs for run in pair if run is not None]
    api = {
        "events_per_s": statistics.median(d["events_per_s"] for d, _ in pairs),
        "errors": sum(run["errors"] for run in runs),
        "check_ok": float(all(run["check_ok"] for run in runs)),
    }
    results.append(
        (
            "API purchases, PostgreSQL",
            f"{api['events_per_s']:,.0f} events/s",
            f"{api['events_per_s'] / tps:.2f} x pgbench (target >= 0.50)",
        )
    )
    if args.rules:
        rated = [(d["events_per_s"], r["events_per_s"]) for d, r in pairs if r is not None]
        ratios = [r / d for d, r in rated]
        results.append(
            (
                "API purchases, PostgreSQL, 20 rules in 5 campaigns",
                f"{statistics.median(r for _, r in rated):,.0f} events/s",
                f"{statistics.median(ratios):.2f} x default program, median of "
                f"{len(rated)} pairs (target >= 0.80)",
            )
        )
        for n, ((d, r), share) in enumerate(zip(rated, ratios, strict=True), start=1):
            figures = f"{d:,.0f}, {r:,.0f}/s"
            results.append((f"  pair {n}: default, rules", figures, f"{share:.2f} x"))
    sqlite = f"sqlite:///{tmp}/api.db"
    api_sqlite = api_throughput(sqlite, args.members, args.clients, args.seconds, args.workers)
    results.append(
        (
            "API purchases, SQLite",
            f"{api_sqlite['events_per_s']:,.0f} events/s",
            f"{api_sqlite['events_per_s'] / tps:.2f} x pgbench",
        )
    )

    file = tmp / "transactions.csv"
    write_transactions(file, args.rows, max(1, args.rows // 10))
    copy = copy_rate(file)
    results.append(("PostgreSQL COPY of the same rows (baseline)", f"{copy:,.0f} rows/s", ""))
    pg_import = import_rate(fresh_pg_database("patronage_bench_import"), file, args.rows)
    results.append(
        (
            "import transactions, PostgreSQL",
            f"{pg_import:,.0f} rows/s",
            f"{pg_import / copy:.3f} x COPY (target >= 0.30)",
        )
    )
    sqlite_import = import_rate(f"sqlite:///{tmp}/import.db", file, args.rows)
    results.append(
        (
            "import transactions, SQLite",
            f"{sqlite_import:,.0f} rows/s",
            f"{sqlite_import / copy:.3f} x COPY",
        )
    )
    for name in ("patronage_bench_api", "patronage_bench_import"):
        drop_pg_database(name)

    width = max(len(r[0]) for r in results)
    print(
        f"\nPatronage ledger benchmark ({args.clients} clients, {args.seconds}s, "  # noqa: T201
        f"{args.workers} server workers, {args.rows:,} import rows)"
    )
    for name, figure, ratio in results:
        print(f"  {name:<{width}}  {figure:>18}  {ratio}")  # noqa: T201
    print(
        f"  invariants after the API runs: PostgreSQL {'ok' if api['check_ok'] else 'FAILED'}, "  # noqa: T201
        f"SQLite {'ok' if api_sqlite['check_ok'] else 'FAILED'}; "
        f"non-201 responses: {int(api['errors'] + api_sqlite['errors'])}"
    )


if __name__ == "__main__":
    main()
