"""`make load`: a fixed-rate load test on loopback, bounded in time.

Balance reads, purchases and redemptions (80/15/5) are sent at a fixed rate against
`patronage serve` on a fresh PostgreSQL database; it reports the rate served and
p50/p95/p99 latency per kind. Target: p99 under 50 ms for balance reads at 500 requests
per second. The load comes from wrk (C, bench/load.lua), one process per kind, so the
client takes little of the CPU the server needs; a request whose scheduled send time
passed while all connections were busy is counted as late.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
from pathlib import Path

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
SCRIPT = Path(__file__).resolve().parent / "load.lua"


def wrk(
    kind: str, rate: float, seconds: float, base: str, env: dict[str, str]
) -> subprocess.Popen[str]:
    # enough connections that each one sends at most 10 requests a second
    connections = max(4, math.ceil(rate / 10))
    return subprocess.Popen(
        [
            *("wrk", "-t", "1", "-c", str(connections), "-d", f"{math.ceil(seconds)}s"),
            *("--timeout", "10s", "-s", str(SCRIPT), base),
        ],
        env={**env, "PATRONAGE_LOAD_KIND": kind, "PATRONAGE_LOAD_RATE": str(rate)},
        stdout=subprocess.PIPE,
        text=True,
    )


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its children (the server's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for p in [pid, *map(int, children)]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run(base: str, env: dict[str, str], rate: float, seconds: float) -> list[dict[str, float]]:
    processes = [wrk(kind, rate * share, seconds, base, env) for kind, share in MIX]
    results = []
    for process in processes:
        out, _ = process.communicate()
        line = next((x for x in out.splitlines() if x.startswith("{")), None)
        if process.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed:\n{out}")
        results.append(json.loads(line))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--members", type=int, default=2000)
    # three processes on two cores: a worker waits for each database round trip (the
    # counter's requests run on its event loop), and a third fills those waits
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    url = fresh_pg_database("patronage_load")
    patronage("init", "--db", url)
    seed_members(url, args.members)
    key = patronage("apikey", "create", "--role", "staff", "--db", url).strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [
            *(str(BIN / "patronage"), "serve", "--db", url),
            *("--port", str(port), "--workers", str(args.workers)),
        ],
        env={**os.environ, "PATRONAGE_SCHEDULER": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PATRONAGE_LOAD_KEY": key, "PATRONAGE_LOAD_MEMBERS": str(args.members)}
    try:
        wait_for(base)
        run(base, {**env, "PATRONAGE_LOAD_RUN": "warm"}, args.rate / 5, 3)  # warm-up
        cpu = cpu_seconds(server.pid)
        results = run(base, {**env, "PATRONAGE_LOAD_RUN": "load"}, args.rate, args.seconds)
        cpu = cpu_seconds(server.pid) - cpu
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop_pg_database("patronage_load")
    served = sum(r["requests"] / r["seconds"] for r in results)
    failures = sum(r["failures"] + r["socket_errors"] for r in results)
    late = sum(r["late"] for r in results)
    print(
        f"load: {args.rate:.0f} req/s offered for {args.seconds:.0f}s, {served:.0f} req/s served, "
        f"{failures} failures, {late} late sends, {args.workers} server workers, PostgreSQL"
    )
    requests = sum(r["requests"] for r in results)
    print(f"  server CPU {1000 * cpu / requests:.2f} ms per request")
    for r in results:
        print(
            f"  {r['kind']:<9} {r['requests'] / r['seconds']:6.0f}/s  p50 {r['p50']:7.1f} ms  "
            f"p95 {r['p95']:7.1f} ms  p99 {r['p99']:7.1f} ms  max {r['max']:7.1f} ms"
        )
    balance = next(r for r in results if r["kind"] == "balance")
    sustained = served >= 0.95 * args.rate and failures == 0
    met = sustained and balance["p99"] < 50
    print(
        f"  balance reads p99 {balance['p99']:.1f} ms at {served:.0f} req/s "
        f"(target < 50 ms at {args.rate:.0f} req/s): {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
