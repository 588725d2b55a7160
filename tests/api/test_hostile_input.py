"""Hostile input: injection, oversized and deeply nested bodies, huge numbers,
non-UTF-8 bytes, mixed scripts, repeated bad keys. Never a 5xx, nothing written."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from tests.api.conftest import Api

from patronage.http.guards import FailedLogins


def count(api: Api, table: str) -> int:
    with api.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_sql_injection_is_just_text(api: Api) -> None:
    evil = "x'; DROP TABLE members; --"
    created = api.request("POST", "/members", json={"external_id": evil, "name": "Robert'); --"})
    assert created.status_code == 201
    found = api.request("GET", "/members", params={"external_id": evil}).json()
    assert found[0]["name"] == "Robert'); --"
    assert api.request("GET", "/members", params={"external_id": "' OR '1'='1"}).status_code == 404
    assert count(api, "members") == 1


def test_oversized_and_nested_bodies(api: Api) -> None:
    big = api.request(
        "POST", "/members", json={"external_id": "a", "attributes": {"x": "y" * 1_100_000}}
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(30):
            yield b" " * 50_000

    streamed = api.request(
        "POST", "/members", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    deep = api.request(
        "POST",
        "/members",
        content=b'{"external_id": "d", "attributes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= deep.status_code < 500
    assert count(api, "members") == 0


def test_huge_numbers_and_bad_bytes(api: Api) -> None:
    alice = api.member()
    for amount in ("1e400", "99999999999999999999999", "NaN", "Infinity", "-0"):
        response = api.request(
            "POST",
            "/events",
            json={
                "type": "purchase",
                "member_id": alice["id"],
                "order_id": f"o-{amount}",
                "amount": amount,
                "occurred_at": api.clock().isoformat(),
            },
        )
        assert response.status_code == 422, (amount, response.text)
    huge_id = api.request("GET", f"/members/{10**30}/balance")
    assert huge_id.status_code == 422
    points = api.request("POST", f"/members/{alice['id']}/redemptions", json={"points": 10**40})
    assert points.status_code == 422
    raw = api.request(
        "POST",
        "/members",
        content=b'{"external_id": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert raw.status_code in (400, 422)
    assert count(api, "ledger_entries") == 0


def test_mixed_scripts_round_trip(api: Api) -> None:
    name = "李雷 Łukasz Ἀθηνᾶ محمد 🎉"
    member = api.member("混合-1", name=name)
    assert api.request("GET", f"/members/{member['id']}").json()["name"] == name


def test_repeated_bad_keys_are_slowed_down(api: Api, server) -> None:  # type: ignore[no-untyped-def]
    app, _ = server
    app.state.failed_logins = FailedLogins(limit=5, window_seconds=60)
    statuses = [api.request("GET", "/members/1", key="pat_bad_key").status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    blocked = httpx.get(
        api.base + "/api/v1/members/1", headers={"Authorization": f"Bearer {api.keys['admin']}"}
    )
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "60"


def test_keys_never_logged(api: Api, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.DEBUG)
    api.request("GET", "/members", params={"phone": "1"})
    api.request("GET", "/members/1", key="pat_secretprefix_secretvalue")
    assert api.keys["admin"] not in caplog.text and "secretvalue" not in caplog.text


def test_nul_characters_are_refused_everywhere(api: Api) -> None:
    member = api.request("POST", "/members", json={"external_id": "a\u0000b"})
    assert member.status_code == 422 and "NUL" in member.json()["error"]["message"]
    assert api.request("GET", "/members", params={"external_id": "a\x00"}).status_code == 422
    assert api.request("GET", "/campaigns/a%00b").status_code == 422
    assert count(api, "members") == 0
