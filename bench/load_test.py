"""`make load`: an open-loop load test on loopback, bounded in time.

Requests are sent at a fixed rate (not as fast as possible), mixing balance reads,
purchases and redemptions, against `patronage serve` on a fresh PostgreSQL database;
it reports throughput and p50/p95/p99 latency per kind. Target: p99 under 50 ms for
balance reads at 500 requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import time
from collections import defaultdict
from datetime import UTC, datetime

import httpx
from ledger_bench import (
    BIN,
    drop_pg_database,
    free_port,
    fresh_pg_database,
    patronage,
    seed_members,
    wait_for,
)

MIX = (("balance", 0.80), ("purchase", 0.15), ("redeem", 0.05))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def send(http: httpx.AsyncClient, kind: str, member: int, n: int) -> int:
    if kind == "balance":
        response = await http.get(f"/api/v1/members/{member}/balance")
    elif kind == "purchase":
        response = await http.post(
            "/api/v1/events",
            json={
                "type": "purchase",
                "member_id": member,
                "order_id": f"load-{n}",
                "amount": "25.00",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
        )
    else:
        response = await http.post(f"/api/v1/members/{member}/redemptions", json={"points": 1})
    return response.status_code


async def run(
    base: str, key: str, members: int, rate: float, seconds: float
) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    rng = random.Random(3)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=30
    ) as http:
        start = time.perf_counter()

        async def one(n: int, kind: str) -> None:
            began = time.perf_counter()
            try:
                status = await send(http, kind, rng.randint(1, members), n)
            except httpx.HTTPError:  # a dropped or timed-out connection counts as an error
                status = 599
            latencies[kind].append((time.perf_counter() - began) * 1000)
            if status >= 400 and not (kind == "redeem" and status == 422):
                errors[kind] += 1

        tasks = []
        for n in range(int(rate * seconds)):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
            tasks.append(asyncio.create_task(one(n, kind)))
        await asyncio.gather(*tasks)
        latencies["_elapsed"] = [time.perf_counter() - start]
    latencies["_errors"] = [float(sum(errors.values()))]
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = fresh_pg_database("patronage_load")
    patronage("init", "--db", url)
    seed_members(url, args.members)
    key = patronage("apikey", "create", "--role", "staff", "--db", url).strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "patronage"),
            "serve",
            "--db",
            url,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env={**os.environ, "PATRONAGE_SCHEDULER": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}")
        result = asyncio.run(
            run(f"http://127.0.0.1:{port}", key, args.members, args.rate, args.seconds)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop_pg_database("patronage_load")
    elapsed = result.pop("_elapsed")[0]
    errors = int(result.pop("_errors")[0])
    total = sum(len(v) for v in result.values())
    print(
        f"load: {args.rate:.0f} req/s offered for {args.seconds:.0f}s, {total / elapsed:.0f} req/s "
        f"served, {errors} errors, {args.workers} server workers, PostgreSQL"
    )
    for kind, values in sorted(result.items()):
        print(
            f"  {kind:<9} n={len(values):>6}  p50 {percentile(values, 0.50):7.1f} ms  "
            f"p95 {percentile(values, 0.95):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms"
        )
    p99 = percentile(result.get("balance", []), 0.99)
    print(f"  balance reads p99 {p99:.1f} ms (target < 50 ms): {'met' if p99 < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
