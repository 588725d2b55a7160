"""Many clients spending one balance at once: never negative, never spent twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from tests.api.conftest import Api

from patronage.storage.invariants import find_violations


def test_concurrent_redemptions_never_overspend(api: Api) -> None:
    alice = api.member()
    assert api.buy(alice["id"], "o-1", "100.00").status_code == 201
    url = f"{api.base}/api/v1/members/{alice['id']}/redemptions"
    headers = {"Authorization": f"Bearer {api.keys['staff']}"}

    def redeem(_: int) -> int:
        with httpx.Client(timeout=60) as client:
            return client.post(url, json={"points": 7}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(redeem, range(32)))
    assert statuses.count(201) == 100 // 7
    assert set(statuses) == {201, 422}
    balance = api.request("GET", f"/members/{alice['id']}/balance").json()
    assert balance["available"] == 100 - 7 * (100 // 7)
    assert find_violations(api.engine) == {}


def test_concurrent_transfers_both_ways_do_not_deadlock(api: Api) -> None:
    alice, bob = api.member("a"), api.member("b")
    api.buy(alice["id"], "o-1", "500.00")
    api.buy(bob["id"], "o-2", "500.00")
    headers = {"Authorization": f"Bearer {api.keys['staff']}"}

    def transfer(i: int) -> int:
        source, target = (alice, bob) if i % 2 else (bob, alice)
        with httpx.Client(timeout=60) as client:
            return client.post(
                f"{api.base}/api/v1/transfers",
                headers=headers,
                json={"from_member_id": source["id"], "to_member_id": target["id"], "points": 10},
            ).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(transfer, range(40)))
    assert statuses == [201] * 40
    total = sum(
        api.request("GET", f"/members/{m['id']}/balance").json()["available"] for m in (alice, bob)
    )
    assert total == 1000
    assert find_violations(api.engine) == {}


def test_concurrent_duplicate_orders_earn_once(api: Api) -> None:
    alice = api.member()
    headers = {"Authorization": f"Bearer {api.keys['staff']}"}
    body = {
        "type": "purchase",
        "member_id": alice["id"],
        "order_id": "same",
        "amount": "50.00",
        "occurred_at": api.clock().isoformat(),
    }

    def post(_: int) -> int:
        with httpx.Client(timeout=60) as client:
            return client.post(f"{api.base}/api/v1/events", json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, range(8)))
    assert statuses.count(201) == 1 and statuses.count(409) == 7
    assert api.request("GET", f"/members/{alice['id']}/balance").json()["available"] == 50
