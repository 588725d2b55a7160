"""Consents with history, export, erasure that keeps the ledger whole, the audit log."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Api

from patronage.services.privacy import apply_retention
from patronage.storage.invariants import find_violations
from patronage.storage.uow import UnitOfWork


def test_consent_history_and_export(api: Api) -> None:
    alice = api.member("a", name="Alice", email="a@example.com", consents={"email": True})
    api.buy(alice["id"], "o-1", "20.00")
    changed = api.request(
        "PUT",
        f"/members/{alice['id']}/consents",
        "staff",
        json={"consents": {"email": False, "sms": True}},
    )
    assert changed.status_code == 200 and changed.json() == {"email": False, "sms": True}
    bad = api.request("PUT", f"/members/{alice['id']}/consents", json={"consents": {"fax": True}})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "consents.fax"
    own = api.member_key(alice["id"])
    exported = api.request("GET", f"/members/{alice['id']}/export", key=own)
    assert exported.status_code == 200
    data = exported.json()
    assert data["member"]["email"] == "a@example.com"
    assert [(c["channel"], c["granted"]) for c in data["consent_history"]] == [
        ("email", True),
        ("email", False),
        ("sms", True),
    ]
    assert [e["kind"] for e in data["ledger"]] == ["earn"]
    assert api.request("GET", f"/members/{alice['id']}/export", "staff").status_code == 403


def test_erasure_keeps_totals(api: Api) -> None:
    alice = api.member("a", name="Alice", phone="13800000000", email="a@example.com")
    api.buy(alice["id"], "o-1", "120.00")
    assert (
        api.request(
            "POST", f"/members/{alice['id']}/erasure", "staff", json={"reason": "request"}
        ).status_code
        == 403
    )
    response = api.request(
        "POST", f"/members/{alice['id']}/erasure", json={"reason": "member asked"}
    )
    assert response.status_code == 204
    member = api.request("GET", f"/members/{alice['id']}").json()
    assert member["name"] is None and member["email"] is None and member["phone"] is None
    assert member["external_id"].startswith("erased-") and member["erased_at"]
    assert api.request("GET", f"/members/{alice['id']}/balance").json()["available"] == 120
    assert find_violations(api.engine) == {}
    audit = api.request("GET", "/audit", params={"target_type": "member"}).json()
    assert audit[0]["action"] == "member_erased" and audit[0]["reason"] == "member asked"
    assert api.request("GET", "/audit", "analyst").status_code == 403


def test_retention_erases_only_inactive(api: Api) -> None:
    old, fresh = api.member("old", name="Old"), api.member("new", name="New")
    api.buy(fresh["id"], "o-1", "5.00")
    uow = UnitOfWork(api.engine, api.clock)
    assert apply_retention(uow, "default", api.clock() + timedelta(days=10), 0) == 0
    api.clock.advance(days=400)
    api.buy(fresh["id"], "o-2", "5.00")
    assert apply_retention(uow, "default", api.clock(), 365) == 1
    assert api.request("GET", f"/members/{old['id']}").json()["name"] is None
    assert api.request("GET", f"/members/{fresh['id']}").json()["name"] == "New"
