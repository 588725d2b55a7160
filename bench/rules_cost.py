"""What earning rules add to a purchase, in-process: CPU milliseconds and SQL statements
per purchase event with the default program and with the 20-rule, 5-campaign program
of `make bench BENCH_ARGS=--rules` (bench/ledger_bench.py), and their ratio.

    .venv/bin/python bench/rules_cost.py --db postgresql://postgres@127.0.0.1:5432/postgres

``--db`` names a PostgreSQL server (two fresh databases are made on it, and dropped
after) or an SQLite file (two files are made beside it). Events go through
``record_event`` on a fresh unit of work each, as the API route does; CPU time is this
process's (time.process_time), so the database server's work shows only as statements.
Rounds alternate between the two programs and the best round of each is reported
(the machine is shared). ``--profile`` prints where the rule program's time goes.

This is a benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_bench import program_rules_yaml  # noqa: E402

from patronage.services.events import EventRequest, record_event  # noqa: E402
from patronage.services.imports import import_members  # noqa: E402
from patronage.services.programs import ensure_default_program  # noqa: E402
from patronage.services.rules import import_yaml  # noqa: E402
from patronage.storage.db import make_engine  # noqa: E402
from patronage.storage.migrate import upgrade  # noqa: E402
from patronage.storage.uow import UnitOfWork  # noqa: E402


def fresh_database(server: str, name: str, create: bool = True) -> str:
    """A new, empty database named after ``name`` on the server (or beside the file);
    with ``create`` False, it is only dropped."""
    url = make_url(server)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "rules_cost.db")
        target = path.with_name(f"{path.stem}_{name}.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{target}"
    import psycopg

    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def prepared(url: str, members: int, rules: bool) -> Engine:
    """A migrated database with the default program, ``members`` members and, when
    ``rules``, the benchmark's 20 rules in 5 campaigns."""
    engine = make_engine(url)
    upgrade(engine)
    ensure_default_program(UnitOfWork(engine))
    folder = Path(tempfile.mkdtemp())
    with (folder / "members.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "name"])
        writer.writerows([f"B{i:06d}", f"Member {i}"] for i in range(members))
    import_members(UnitOfWork(engine), folder / "members.csv")
    if rules:
        text = program_rules_yaml(folder / "rules.yaml").read_text()
        import_yaml(UnitOfWork(engine), text, actor="bench")
    return engine


@contextmanager
def counting(engine: Engine) -> Iterator[list[int]]:
    """The statements the engine sends while the block runs (count in ``[0]``)."""
    count = [0]

    def _count(*_args: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def purchases(members: int, seed: int) -> Callable[[int], EventRequest]:
    """The wrk script's purchases (bench/purchase.lua): a random member, its own order."""
    rng = random.Random(seed)

    def make(n: int) -> EventRequest:
        return EventRequest(
            type="purchase",
            occurred_at=datetime.now(UTC),
            member_external_id=f"B{rng.randrange(members):06d}",
            order_id=f"o{seed}-{n}",
            amount=Decimal(f"{rng.randint(1, 499)}.{rng.randint(0, 99):02d}"),
        )

    return make


def run(
    engine: Engine, make: Callable[[int], EventRequest], start: int, n: int
) -> tuple[float, float]:
    """CPU ms and statements per event over ``n`` events."""
    with counting(engine) as count:
        began = time.process_time()
        for i in range(start, start + n):
            record_event(UnitOfWork(engine), make(i))
        spent = time.process_time() - began
    return spent * 1000 / n, count[0] / n


def profile(engine: Engine, make: Callable[[int], EventRequest], start: int, n: int) -> None:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in range(start, start + n):
        record_event(UnitOfWork(engine), make(i))
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    stats.print_callees("awards_for|decide|_rule_trace|_member_of|_event_of")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--db", default="postgresql://postgres@127.0.0.1:5432/postgres", help="server or file"
    )
    parser.add_argument("--events", type=int, default=1000, help="events per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="cProfile the rule program")
    args = parser.parse_args()
    names = {
        "default program": "patronage_rules_cost_default",
        "20 rules": "patronage_rules_cost_rules",
    }
    engines = {
        label: prepared(fresh_database(args.db, name), args.members, label == "20 rules")
        for label, name in names.items()
    }
    makers = {label: purchases(args.members, seed) for seed, label in enumerate(engines)}
    best: dict[str, tuple[float, float]] = {}
    done = 0
    for label, engine in engines.items():  # warm up: caches, compiled statements, CEL
        run(engine, makers[label], done, 200)
    done += 200
    for _ in range(args.rounds):
        for label, engine in engines.items():
            cpu, statements = run(engine, makers[label], done, args.events)
            if label not in best or cpu < best[label][0]:
                best[label] = (cpu, statements)
        done += args.events
    if args.profile:
        profile(engines["20 rules"], makers["20 rules"], done, args.events)
    print(  # noqa: T201
        f"{args.events} purchases x {args.rounds} rounds, {engines['20 rules'].dialect.name}, "
        "best round (CPU time of this process):"
    )
    for label, (cpu, statements) in best.items():
        print(f"  {label:<16} {cpu:7.3f} CPU ms/event  {statements:5.2f} statements/event")  # noqa: T201
    default, rules = best["default program"][0], best["20 rules"][0]
    print(  # noqa: T201
        f"  rules cost {rules - default:.3f} CPU ms/event more; "
        f"{default / rules:.2f} x the default program's events per CPU second (target >= 0.80)"
    )
    for label, engine in engines.items():
        engine.dispose()
        fresh_database(args.db, names[label], create=False)


if __name__ == "__main__":
    main()
