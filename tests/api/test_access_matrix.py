"""Access control for every operation in the OpenAPI schema, table-driven.

- no key, a malformed key, an unknown key and a revoked key: 401 everywhere except the
  public operations (survey links, unsubscribe links);
- a member key on another member's resources: 403 on every member-scoped read;
- roles on the core ledger operations, with valid bodies: the expected status.
"""

from __future__ import annotations

import re

import pytest
from tests.api.conftest import Api

from patronage.http.app import create_app
from patronage.services.access import create_api_key, revoke_api_key
from patronage.storage.db import make_engine
from patronage.storage.uow import UnitOfWork

PUBLIC = {
    ("GET", "/api/v1/survey-responses/{token}"),
    ("POST", "/api/v1/survey-responses/{token}"),
    ("GET", "/api/v1/unsubscribe/{token}"),
}
SCHEMA = create_app(make_engine("sqlite://")).openapi()
OPERATIONS = sorted(
    (method.upper(), path)
    for path, ops in SCHEMA["paths"].items()
    for method in ops
    if path.startswith("/api/v1") and (method.upper(), path) not in PUBLIC
)
MEMBER_READS = [
    (m, p) for m, p in OPERATIONS if m == "GET" and p.startswith("/api/v1/members/{member_id}")
]


def concrete(path: str, member_id: int) -> str:
    path = path.replace("{member_id}", str(member_id))
    return re.sub(r"\{[a-z_]+\}", "1", path)


def test_every_operation_needs_a_valid_key(api: Api) -> None:
    alice = api.member("a")
    revoked = create_api_key(UnitOfWork(api.engine, api.clock), "admin")
    revoke_api_key(UnitOfWork(api.engine, api.clock), revoked.split("_")[1])
    wrong = []
    for method, path in OPERATIONS:
        url = concrete(path, alice["id"])
        for key in (None, "not-a-key", "pat_000000000000_unknown", revoked):
            api.server_app.state.failed_logins.__init__()  # keep the 429 guard out of this table
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            response = api.http.request(
                method,
                url.replace("/api/v1", "", 1),
                headers=headers,
                json={} if method != "GET" else None,
            )
            if response.status_code != 401:
                wrong.append((method, path, key, response.status_code))
    assert wrong == []
    assert len(OPERATIONS) > 50


def test_member_keys_see_only_their_own_member(api: Api) -> None:
    alice, bob = api.member("a"), api.member("b")
    own = api.member_key(alice["id"])
    wrong = []
    for method, path in MEMBER_READS:
        response = api.request(method, concrete(path, bob["id"]).replace("/api/v1", "", 1), key=own)
        if response.status_code != 403:
            wrong.append((path, response.status_code))
    assert wrong == []
    assert api.request("GET", f"/members/{alice['id']}/balance", key=own).status_code == 200


CORE = [
    # (method, path, body, {role: expected status})
    (
        "POST",
        "/members",
        {"external_id": "new"},
        {"admin": 201, "staff": 201, "analyst": 403, "self": 403},
    ),
    (
        "GET",
        "/members?external_id=a",
        None,
        {"admin": 200, "staff": 200, "analyst": 200, "self": 403},
    ),
    (
        "GET",
        "/members/{a}/balance",
        None,
        {"admin": 200, "staff": 200, "analyst": 200, "self": 200},
    ),
    ("POST", "/events", "purchase", {"admin": 201, "staff": 201, "analyst": 403, "self": 403}),
    (
        "POST",
        "/members/{a}/redemptions",
        {"points": 1},
        {"admin": 201, "staff": 201, "analyst": 403, "self": 201},
    ),
    (
        "POST",
        "/members/{a}/adjustments",
        {"points": 1, "reason": "x"},
        {"admin": 201, "staff": 403, "analyst": 403, "self": 403},
    ),
    ("POST", "/transfers", "transfer", {"admin": 201, "staff": 201, "analyst": 403, "self": 201}),
    ("GET", "/members/{a}/export", None, {"admin": 200, "staff": 403, "analyst": 403, "self": 200}),
    (
        "POST",
        "/members/{b}/erasure",
        {"reason": "x"},
        {"admin": 204, "staff": 403, "analyst": 403, "self": 403},
    ),
    ("GET", "/audit", None, {"admin": 200, "staff": 403, "analyst": 403, "self": 403}),
    # Saved segments: admins and analysts save, read and export; only admins delete or
    # export names. Each role saves its own code, so every 201 is a fresh segment.
    (
        "POST",
        "/segments",
        "segment",
        {"admin": 201, "staff": 403, "analyst": 201, "self": 403},
    ),
    ("GET", "/segments", None, {"admin": 200, "staff": 403, "analyst": 200, "self": 403}),
    ("GET", "/segments/{s}", None, {"admin": 200, "staff": 403, "analyst": 200, "self": 403}),
    (
        "GET",
        "/segments/{s}/export",
        None,
        {"admin": 200, "staff": 403, "analyst": 200, "self": 403},
    ),
    (
        "GET",
        "/segments/{s}/export?with_names=true",
        None,
        {"admin": 200, "staff": 403, "analyst": 403, "self": 403},
    ),
    (
        "POST",
        "/segments/{s}/refresh",
        {"csv": "external_id\na\n"},
        {"admin": 200, "staff": 403, "analyst": 200, "self": 403},
    ),
    ("DELETE", "/segments/{s}", None, {"admin": 204, "staff": 403, "analyst": 403, "self": 403}),
]


@pytest.mark.parametrize("role", ["admin", "staff", "analyst", "self"])
def test_core_operations_by_role(api: Api, role: str) -> None:
    alice, bob = api.member("a"), api.member("b")
    api.buy(alice["id"], "seed", "100.00")
    key = api.member_key(alice["id"]) if role == "self" else api.keys[role]
    wrong = []
    for n, (method, path, body, expected) in enumerate(CORE):
        if body == "purchase":
            body = {
                "type": "purchase",
                "member_id": alice["id"],
                "order_id": f"o{n}",
                "amount": "5.00",
                "occurred_at": api.clock().isoformat(),
            }
        elif body == "transfer":
            body = {"from_member_id": alice["id"], "to_member_id": bob["id"], "points": 1}
        elif body == "segment":
            body = {"code": f"by-{role}", "source": "list", "csv": "external_id\na\n"}
        url = path.replace("{a}", str(alice["id"])).replace("{b}", str(bob["id"]))
        url = url.replace("{s}", f"by-{role}" if role in ("admin", "analyst") else "by-admin")
        response = api.request(method, url, key=key, json=body)
        if response.status_code != expected[role]:
            wrong.append((method, path, response.status_code, expected[role]))
    assert wrong == []
