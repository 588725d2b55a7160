"""Closed-loop HTTP load: N clients each post purchases back to back for a fixed time.

Run as a separate process by ledger_bench.py; prints one JSON line with the counts.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime

import httpx


async def client(
    base: str, key: str, members: int, tag: str, stop_at: float, counts: dict[str, int]
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    rng = random.Random(tag)
    n = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.monotonic() < stop_at:
            n += 1
            body = {
                "type": "purchase",
                "member_external_id": f"B{rng.randrange(members):06d}",
                "order_id": f"{tag}-{n}",
                "amount": f"{rng.randint(100, 50000) / 100:.2f}",
                "occurred_at": datetime.now(UTC).isoformat(),
            }
            response = await http.post("/api/v1/events", json=body)
            counts["ok" if response.status_code == 201 else f"status_{response.status_code}"] = (
                counts.get(
                    "ok" if response.status_code == 201 else f"status_{response.status_code}", 0
                )
                + 1
            )


async def main(base: str, key: str, members: int, clients: int, seconds: float, run: str) -> None:
    counts: dict[str, int] = {}
    start = time.monotonic()
    await asyncio.gather(
        *(client(base, key, members, f"{run}-{i}", start + seconds, counts) for i in range(clients))
    )
    elapsed = time.monotonic() - start
    print(json.dumps({"elapsed": elapsed, **counts}))  # noqa: T201


if __name__ == "__main__":
    base, key, members, clients, seconds, run = sys.argv[1:7]
    asyncio.run(main(base, key, int(members), int(clients), float(seconds), run))
