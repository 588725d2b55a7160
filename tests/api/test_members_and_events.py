"""The HTTP API over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.conftest import Api


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]["code"]  # type: ignore[no-any-return]


def test_enroll_and_look_up(api: Api) -> None:
    alice = api.member("A-1", name="Alice", phone="+86 138 0000 0000", consents={"email": True})
    assert alice["tier"] == "member"
    got = api.request("GET", f"/members/{alice['id']}", "staff").json()
    assert got["name"] == "Alice"
    found = api.request("GET", "/members", "staff", params={"external_id": "A-1"}).json()
    assert [m["id"] for m in found] == [alice["id"]]
    by_phone = api.request("GET", "/members", "staff", params={"phone": "+86 138 0000 0000"}).json()
    assert [m["id"] for m in by_phone] == [alice["id"]]


def test_duplicate_member_is_conflict(api: Api) -> None:
    api.member("A-1")
    response = api.request("POST", "/members", json={"external_id": "A-1"})
    assert response.status_code == 409
    assert error_code(response) == "duplicate_member"


def test_purchase_balance_ledger_explanation(api: Api) -> None:
    alice = api.member()
    response = api.buy(alice["id"], "o-1", "88.80")
    assert response.status_code == 201
    assert response.json()["points_earned"] == 88
    balance = api.request("GET", f"/members/{alice['id']}/balance", "staff").json()
    assert (balance["available"], balance["pending"], balance["debt"], balance["tier"]) == (
        88,
        0,
        0,
        "member",
    )
    ledger = api.request(
        "GET", f"/members/{alice['id']}/ledger", "staff", params={"limit": 1}
    ).json()
    assert ledger["entries"][0]["kind"] == "earn"
    explained = api.request("GET", f"/members/{alice['id']}/balance/explanation", "staff").json()
    assert explained["lots"][0]["source"]["order_id"] == "o-1"


def test_event_by_external_id_and_custom_event(api: Api) -> None:
    api.member("ext-9")
    response = api.request(
        "POST",
        "/events",
        "staff",
        json={
            "type": "app_opened",
            "member_external_id": "ext-9",
            "occurred_at": api.clock().isoformat(),
        },
    )
    assert response.status_code == 201
    assert response.json()["points_earned"] == 0


def test_refund_claws_back(api: Api) -> None:
    alice = api.member()
    api.buy(alice["id"], "o-1", "250.00")
    response = api.request(
        "POST",
        "/events",
        "staff",
        json={
            "type": "refund",
            "member_id": alice["id"],
            "original_order_id": "o-1",
            "amount": "100.00",
            "occurred_at": api.clock().isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["points_reversed"] == 100


def test_idempotency_key_replays_and_conflicts(api: Api) -> None:
    alice = api.member()
    headers = {"Idempotency-Key": "abc"}
    first = api.request(
        "POST",
        "/events",
        headers=headers,
        json={
            "type": "purchase",
            "member_id": alice["id"],
            "order_id": "o-1",
            "amount": "10.00",
            "occurred_at": api.clock().isoformat(),
        },
    )
    again = api.request(
        "POST",
        "/events",
        headers=headers,
        json={
            "type": "purchase",
            "member_id": alice["id"],
            "order_id": "o-1",
            "amount": "10.00",
            "occurred_at": api.clock().isoformat(),
        },
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    other = api.request(
        "POST",
        "/events",
        headers=headers,
        json={
            "type": "purchase",
            "member_id": alice["id"],
            "order_id": "o-2",
            "amount": "10.00",
            "occurred_at": api.clock().isoformat(),
        },
    )
    assert other.status_code == 409 and error_code(other) == "idempotency_key_reused"
    duplicate = api.buy(alice["id"], "o-1", "10.00")
    assert duplicate.status_code == 409 and error_code(duplicate) == "duplicate_order"


def test_redeem_adjust_transfer(api: Api) -> None:
    alice, bob = api.member("a"), api.member("b")
    api.buy(alice["id"], "o-1", "100.00")
    redeemed = api.request(
        "POST", f"/members/{alice['id']}/redemptions", "staff", json={"points": 30}
    )
    assert redeemed.status_code == 201 and redeemed.json()["available"] == 70
    short = api.request("POST", f"/members/{alice['id']}/redemptions", "staff", json={"points": 71})
    assert short.status_code == 422 and error_code(short) == "insufficient_points"
    adjusted = api.request(
        "POST", f"/members/{alice['id']}/adjustments", json={"points": 5, "reason": "goodwill"}
    )
    assert adjusted.status_code == 201 and adjusted.json()["balance"] == 75
    moved = api.request(
        "POST",
        "/transfers",
        "staff",
        json={"from_member_id": alice["id"], "to_member_id": bob["id"], "points": 25},
    )
    assert moved.status_code == 201 and moved.json()["balance"] == 50
    assert api.request("GET", f"/members/{bob['id']}/balance").json()["available"] == 25


def test_bad_input_is_4xx_with_field(api: Api) -> None:
    alice = api.member()
    naive = api.request(
        "POST",
        "/events",
        json={
            "type": "purchase",
            "member_id": alice["id"],
            "order_id": "o",
            "amount": "1.00",
            "occurred_at": "2026-03-10T10:00:00",
        },
    )
    assert naive.status_code == 422 and "occurred_at" in naive.json()["error"]["message"]
    cents = api.buy(alice["id"], "o", "1.001")
    assert cents.status_code == 422 and error_code(cents) == "invalid_input"
    negative = api.buy(alice["id"], "o", "-5")
    assert negative.status_code == 422
    broken = api.request(
        "POST", "/events", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and error_code(broken) == "malformed_json"
    missing = api.request("GET", "/members/999999")
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    unknown = api.request(
        "POST",
        "/events",
        json={
            "type": "refund",
            "member_id": alice["id"],
            "original_order_id": "nope",
            "amount": "1.00",
            "occurred_at": api.clock().isoformat(),
        },
    )
    assert unknown.status_code == 422 and error_code(unknown) == "unknown_order"
    no_reason = api.request(
        "POST", f"/members/{alice['id']}/adjustments", json={"points": 5, "reason": ""}
    )
    assert no_reason.status_code == 422


def test_auth_and_roles(api: Api) -> None:
    alice, bob = api.member("a"), api.member("b")
    assert api.request("GET", f"/members/{alice['id']}", role=None).status_code == 401
    assert api.request("GET", f"/members/{alice['id']}", key="pat_nope_nope").status_code == 401
    assert api.request("POST", "/events", "analyst", json={}).status_code in (403, 422)
    forbidden = api.request("POST", "/members", "analyst", json={"external_id": "x"})
    assert forbidden.status_code == 403 and error_code(forbidden) == "forbidden"
    assert (
        api.request(
            "POST",
            f"/members/{alice['id']}/adjustments",
            "staff",
            json={"points": 5, "reason": "x"},
        ).status_code
        == 403
    )
    own = api.member_key(alice["id"])
    assert api.request("GET", f"/members/{alice['id']}/balance", key=own).status_code == 200
    assert api.request("GET", f"/members/{bob['id']}/balance", key=own).status_code == 403
    assert api.request("GET", "/members", key=own, params={"external_id": "b"}).status_code == 403


def test_revoked_key_is_refused(api: Api) -> None:
    from patronage.services.access import revoke_api_key
    from patronage.storage.uow import UnitOfWork

    key = api.keys["staff"]
    assert api.request("GET", "/members", key=key, params={"phone": "1"}).status_code == 200
    revoke_api_key(UnitOfWork(api.engine, api.clock), key.split("_")[1])
    response = api.request("GET", "/members", key=key, params={"phone": "1"})
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_metrics_and_health(api: Api) -> None:
    import httpx

    alice = api.member()
    api.buy(alice["id"], "o-1", "10.00")
    assert httpx.get(api.base + "/healthz").json() == {"status": "ok"}
    text = httpx.get(api.base + "/metrics").text
    assert 'patronage_ledger_entries{kind="earn"} 1.0' in text
    assert (
        'patronage_http_requests_total{method="POST",route="/api/v1/events",status="201"}' in text
    )
    assert "patronage_http_request_seconds_bucket" in text
