"""Rewards, coupons, wallets and gift cards over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from tests.api.conftest import Api

COFFEE = {"type": "free_item", "sku": "COF-1"}


def error(response: Any) -> tuple[int, str, dict[str, Any]]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["details"]


def add_reward(api: Api, code: str = "coffee", **fields: Any) -> dict[str, Any]:
    body = {"code": code, "name": code.title(), "points": 100, "discount": COFFEE, **fields}
    response = api.request("POST", "/rewards", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_catalog_roles_and_member_exclusive_offers(api: Api) -> None:
    alice = api.member("a")
    add_reward(api, "coffee", category="drinks", stock=10)
    add_reward(api, "lounge", visible_tiers=["gold"])
    staff_try = api.request(
        "POST",
        "/rewards",
        "staff",
        json={"code": "x", "name": "X", "points": 1, "discount": COFFEE},
    )
    assert staff_try.status_code == 403
    key = api.member_key(alice["id"])
    mine = api.request("GET", "/rewards", key=key).json()
    assert [r["code"] for r in mine] == ["coffee"]
    everything = api.request("GET", "/rewards", "analyst").json()
    assert [r["code"] for r in everything] == ["coffee", "lounge"]
    drinks = api.request("GET", "/rewards", "staff", params={"category": "drinks"}).json()
    assert len(drinks) == 1 and drinks[0]["stock"] == 10
    lounge_id = everything[1]["id"]
    assert error(api.request("GET", f"/rewards/{lounge_id}", key=key))[1] == "reward_not_visible"


def test_member_redeems_a_reward_and_staff_redeem_its_coupon(api: Api) -> None:
    alice, bob = api.member("a"), api.member("b")
    assert api.buy(alice["id"], "o-1", "250.00").status_code == 201
    reward = add_reward(api, stock=3, tier_prices={"gold": 80})
    key = api.member_key(alice["id"])
    path = f"/members/{alice['id']}/rewards/{reward['id']}/redeem"
    headers = {"Idempotency-Key": "redeem-1"}
    done = api.request("POST", path, key=key, headers=headers)
    assert done.status_code == 201, done.text
    assert (done.json()["points"], done.json()["available"]) == (100, 150)
    replay = api.request("POST", path, key=key, headers=headers)
    assert replay.json() == done.json()
    other = api.request("POST", f"/members/{bob['id']}/rewards/{reward['id']}/redeem", key=key)
    assert other.status_code == 403
    assert api.request("GET", f"/rewards/{reward['id']}").json()["stock"] == 2
    code = done.json()["coupon_code"]
    listed = api.request("GET", f"/members/{alice['id']}/coupons", key=key).json()
    assert [c["code"] for c in listed] == [code]
    check = api.request(
        "GET", f"/coupons/{code}/validate", "staff", params={"member_id": alice["id"]}
    )
    assert check.json()["valid"] is True
    assert api.request("GET", f"/coupons/{code}/validate", key=key).status_code == 403
    used = api.request("POST", f"/coupons/{code}/redeem", "staff", json={"member_id": alice["id"]})
    assert used.status_code == 201 and used.json()["redemptions_left"] == 0
    short = api.request("POST", f"/members/{bob['id']}/rewards/{reward['id']}/redeem", "staff")
    assert error(short)[:2] == (422, "insufficient_points")


def test_generate_page_validate_redeem_reverse(api: Api) -> None:
    made = api.request(
        "POST",
        "/coupon-batches",
        json={
            "name": "spring",
            "discount": {"type": "percent", "value": 15},
            "count": 250,
            "campaign_id": "spring-2026",
        },
    )
    assert made.status_code == 201, made.text
    batch = made.json()
    assert (batch["codes"], batch["campaign_id"]) == (250, "spring-2026")
    first = api.request("GET", f"/coupon-batches/{batch['id']}/codes", params={"limit": 200}).json()
    rest = api.request(
        "GET",
        f"/coupon-batches/{batch['id']}/codes",
        params={"limit": 200, "after_id": first["next_after_id"]},
    ).json()
    codes = [c["code"] for c in first["codes"] + rest["codes"]]
    assert len(set(codes)) == 250 and rest["next_after_id"] is None
    code = codes[0]
    check = api.request("GET", f"/coupons/{code}/validate", "staff", params={"amount_minor": 1999})
    assert check.json()["discount_minor"] == 300
    used = api.request("POST", f"/coupons/{code}/redeem", "staff", json={"order_id": "o-1"})
    assert used.status_code == 201
    again = api.request("POST", f"/coupons/{code}/redeem", "staff")
    assert error(again)[:2] == (422, "coupon_used_up")
    reverse_path = f"/coupons/{code}/redemptions/{used.json()['id']}/reverse"
    reversed_ = api.request("POST", reverse_path, "staff", json={"reason": "order cancelled"})
    assert reversed_.status_code == 201 and reversed_.json()["reversed_at"]
    assert error(api.request("POST", reverse_path, "staff", json={"reason": "x"}))[0] == 409
    more = api.request("POST", f"/coupon-batches/{batch['id']}/codes", json={"count": 50})
    assert more.json()["added"] == 50
    assert api.request("GET", f"/coupon-batches/{batch['id']}").json()["codes"] == 300


def test_import_pool_and_typos(api: Api) -> None:
    batch = api.request(
        "POST",
        "/coupon-batches",
        json={"name": "partner", "discount": {"type": "fixed", "value": 500}},
    ).json()
    path = f"/coupon-batches/{batch['id']}/import"
    imported = api.request("POST", path, json={"codes": ["PARTNER-0001", "partner-0002"]})
    assert imported.json() == {"batch_id": batch["id"], "added": 2, "skipped": 0}
    assert api.request("GET", "/coupons/partner0002/validate", "staff").json()["valid"] is True
    bad = api.request("POST", path, json={"codes": ["ok-code-1", "no spaces!"]})
    assert error(bad)[:2] == (422, "invalid_input") and error(bad)[2]["line"] == 2
    assert api.request("POST", path, "staff", json={"codes": ["X1234"]}).status_code == 403
    assert error(api.request("GET", "/coupons/NOPE-NOPE-NOPE/validate", "staff"))[0] == 404
    generated = api.request(
        "POST", "/coupon-batches", json={"name": "g", "discount": COFFEE, "count": 1}
    ).json()
    code = api.request("GET", f"/coupon-batches/{generated['id']}/codes").json()["codes"][0]["code"]
    typo = code[:2] + ("A" if code[2] != "A" else "B") + code[3:]
    assert error(api.request("GET", f"/coupons/{typo}/validate", "staff"))[:2] == (
        422,
        "mistyped_code",
    )


def test_bad_designs_name_the_field(api: Api) -> None:
    cases = [
        ("/rewards", {"code": "x", "name": "X", "points": 0, "discount": COFFEE}, "points"),
        (
            "/rewards",
            {"code": "x", "name": "X", "points": 5, "discount": COFFEE, "tier_prices": {"vip": 1}},
            "tier_prices.vip",
        ),
        (
            "/coupon-batches",
            {"name": "x", "discount": {"type": "percent", "value": 120}},
            "discount.value",
        ),
        (
            "/coupon-batches",
            {"name": "x", "discount": {"type": "cash", "value": 1}},
            "discount.type",
        ),
        ("/coupon-batches", {"name": "x", "discount": COFFEE, "count": 100_001}, "count"),
        (
            "/coupon-batches",
            {"name": "x", "discount": COFFEE, "expires_at": "2026-04-01T00:00"},
            "expires_at",
        ),
    ]
    for path, body, field in cases:
        response = api.request("POST", path, json=body)
        status, _, details = error(response)
        assert status == 422, (body, response.text)
        named = details.get("field") or details["problems"][0]["field"]
        assert named == field, (body, response.text)


def test_wallet_over_http(api: Api) -> None:
    alice = api.member()
    wallet = f"/members/{alice['id']}/wallet"
    credited = api.request(
        "POST", f"{wallet}/credits", "staff", json={"amount_minor": 1500, "kind": "top_up"}
    )
    assert credited.status_code == 201 and credited.json()["balance_minor"] == 1500
    for amount in (10.5, "100", 0, -1):
        bad = api.request(
            "POST", f"{wallet}/spends", "staff", json={"amount_minor": amount, "order_id": "o-1"}
        )
        assert bad.status_code == 422, amount
    spend = api.request(
        "POST",
        f"{wallet}/spends",
        "staff",
        json={"amount_minor": 1200, "order_id": "o-1"},
        headers={"Idempotency-Key": "s-1"},
    )
    assert spend.json()["balance_minor"] == 300
    replay = api.request(
        "POST",
        f"{wallet}/spends",
        "staff",
        json={"amount_minor": 1200, "order_id": "o-1"},
        headers={"Idempotency-Key": "s-1"},
    )
    assert replay.json() == spend.json()
    short = api.request(
        "POST", f"{wallet}/spends", "staff", json={"amount_minor": 301, "order_id": "o-2"}
    )
    assert error(short)[:2] == (422, "insufficient_funds")
    refund = api.request(
        "POST", f"{wallet}/refunds", "staff", json={"amount_minor": 1300, "order_id": "o-1"}
    )
    assert error(refund)[:2] == (422, "refund_exceeds_spend")
    refund = api.request(
        "POST", f"{wallet}/refunds", "staff", json={"amount_minor": 1200, "order_id": "o-1"}
    )
    assert refund.json()["balance_minor"] == 1500
    key = api.member_key(alice["id"])
    seen = api.request("GET", wallet, key=key).json()
    assert seen["balance_minor"] == 1500 and [e["kind"] for e in seen["entries"]] == [
        "refund",
        "spend",
        "top_up",
    ]
    assert (
        api.request("POST", f"{wallet}/credits", key=key, json={"amount_minor": 5}).status_code
        == 403
    )


def test_gift_cards_over_http(api: Api) -> None:
    issued = api.request(
        "POST",
        "/gift-cards",
        "staff",
        json={"amount_minor": 10000, "expires_at": "2027-03-10T00:00:00+08:00"},
    )
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    spent = api.request(
        "POST",
        f"/gift-cards/{code}/spends",
        "staff",
        json={"amount_minor": 2550, "order_id": "o-1"},
    )
    assert spent.json()["balance_minor"] == 7450
    card = api.request("GET", f"/gift-cards/{code}", "staff").json()
    assert (card["balance_minor"], card["expired"], len(card["entries"])) == (7450, False, 2)
    assert api.request("GET", f"/gift-cards/{code}", "analyst").status_code == 403
    naive = api.request(
        "POST", "/gift-cards", json={"amount_minor": 1, "expires_at": "2027-01-01T00:00"}
    )
    assert naive.status_code == 422


def test_restock_is_added_once_per_key_and_audited(api: Api) -> None:
    reward = add_reward(api, stock=2)
    path = f"/rewards/{reward['id']}"
    headers = {"Idempotency-Key": "restock-1"}
    body = {"add_stock": 5, "reason": "delivery 42"}
    first = api.request("PATCH", path, json=body, headers=headers)
    again = api.request("PATCH", path, json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert api.request("GET", path).json()["stock"] == 7
    off = api.request("PATCH", path, json={"active": False})
    assert off.json()["on_offer"] is False
    assert api.request("PATCH", path, "staff", json={"active": True}).status_code == 403
    unlimited = add_reward(api, "free-wifi")
    refused = api.request("PATCH", f"/rewards/{unlimited['id']}", json={"add_stock": 1})
    assert error(refused)[:2] == (422, "unlimited_stock")


def test_ten_tills_redeem_one_single_use_code(api: Api) -> None:
    batch = api.request(
        "POST", "/coupon-batches", json={"name": "one", "discount": COFFEE, "count": 1}
    ).json()
    code = api.request("GET", f"/coupon-batches/{batch['id']}/codes").json()["codes"][0]["code"]
    url = f"{api.base}/api/v1/coupons/{code}/redeem"
    headers = {"Authorization": f"Bearer {api.keys['staff']}"}

    def redeem(i: int) -> int:
        with httpx.Client(timeout=60) as client:
            return client.post(url, json={"order_id": f"o-{i}"}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(redeem, range(10)))
    assert sorted(statuses) == [201] + [422] * 9
