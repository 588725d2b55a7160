"""Personalisation over real HTTP: recommendations, next best offer, paid membership."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Api

from patronage.services.recommendations import train
from patronage.storage.uow import UnitOfWork

PLAN = {"code": "prime", "name": "Prime", "period": "annual", "fee_minor": 36500}


def items(*skus: str) -> list[dict[str, str]]:
    return [{"sku": s, "category": "c", "quantity": "1", "price": "10"} for s in skus]


def test_recommendations_own_member_only_and_fallback(api: Api) -> None:
    buyers = [api.member(f"b{n}") for n in range(3)]
    for n, buyer in enumerate(buyers):
        response = api.buy(buyer["id"], f"o{n}", "30", store="s1", items=items("A", "B", "C"))
        assert response.status_code == 201, response.text
    me = api.member("me")
    api.buy(me["id"], "mine", "20", store="s1", items=items("A", "B"))
    assert api.request("GET", f"/members/{me['id']}/recommendations").status_code == 409
    train(UnitOfWork(api.engine, api.clock))
    key = api.member_key(me["id"])
    response = api.request("GET", f"/members/{me['id']}/recommendations?k=2", key=key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] in ("model", "model+popularity")
    assert body["items"][0]["sku"] == "C"
    other = api.request("GET", f"/members/{buyers[0]['id']}/recommendations", key=key)
    assert other.status_code == 403
    new = api.member("new")
    fallback = api.request("GET", f"/members/{new['id']}/recommendations", role="staff").json()
    assert fallback["source"] == "popularity" and fallback["items"]
    assert api.request("GET", "/members/999999/recommendations").status_code == 404
    assert api.request("GET", f"/members/{me['id']}/recommendations?k=0").status_code == 422
    huge = api.request("GET", f"/members/{2**70}/recommendations")
    assert huge.status_code == 422


def test_next_best_offer_shows_a_reason(api: Api) -> None:
    member = api.member("nbo")
    api.buy(member["id"], "n1", "80")
    response = api.request("GET", f"/members/{member['id']}/next-best-offer", role="staff")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reason"] and 0 <= body["churn_risk"] <= 1
    assert api.request("GET", "/members/999999/next-best-offer").status_code == 404


def test_plans_are_admin_only(api: Api) -> None:
    assert api.request("POST", "/membership/plans", role="staff", json=PLAN).status_code == 403
    created = api.request("POST", "/membership/plans", json=PLAN)
    assert created.status_code == 201, created.text
    assert api.request("POST", "/membership/plans", json=PLAN).status_code == 409
    bad = api.request("POST", "/membership/plans", json={**PLAN, "code": "x", "period": "weekly"})
    assert bad.status_code == 422
    plan_id = created.json()["id"]
    changed = api.request("PATCH", f"/membership/plans/{plan_id}", json={"earn_multiplier": "1.5"})
    assert changed.json()["earn_multiplier"] == "1.5"
    assert api.request("GET", "/membership/plans", role="analyst").json()[0]["code"] == "prime"
    retired = api.request("DELETE", f"/membership/plans/{plan_id}")
    assert retired.json()["active"] is False
    assert api.request("DELETE", f"/membership/plans/{2**40}").status_code == 422


def test_sign_up_renew_cancel(api: Api) -> None:
    api.request("POST", "/membership/plans", json={**PLAN, "earn_multiplier": "2"})
    member = api.member("paid")
    path = f"/members/{member['id']}/membership"
    assert api.request("GET", path).status_code == 404
    key = api.member_key(member["id"])
    signed = api.request("POST", path, key=key, json={"plan": "prime"})
    assert signed.status_code == 201, signed.text
    assert api.buy(member["id"], "p1", "100").json()["points_earned"] == 200
    early = api.request("POST", f"{path}/renewals", role="staff", json={"succeeded": True})
    assert early.status_code == 409 and early.json()["error"]["code"] == "renewal_not_due"
    assert api.request("POST", f"{path}/renewals", key=key, json={}).status_code == 403
    api.clock.advance(days=362)
    headers = {"Idempotency-Key": "renew-1"}
    first = api.request("POST", f"{path}/renewals", role="staff", json={}, headers=headers)
    again = api.request("POST", f"{path}/renewals", role="staff", json={}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    end = signed.json()["period_end"]
    assert first.json()["period_start"] == end
    api.clock.advance(days=100)
    cancelled = api.request("POST", f"{path}/cancellation", key=key, json={})
    assert cancelled.status_code == 201, cancelled.text
    assert 0 < cancelled.json()["refund_minor"] < 36500
    assert api.request("GET", path, key=key).json()["status"] == "cancelled"
    assert api.request("POST", f"{path}/cancellation", key=key, json={}).status_code == 422


def test_report_over_http(api: Api) -> None:
    api.request("POST", "/membership/plans", json=PLAN)
    paid, unpaid = api.member("p"), api.member("u")
    start = api.clock()
    for n, member in enumerate((paid, unpaid)):
        api.buy(member["id"], f"before{n}", "50")
    api.request("POST", f"/members/{paid['id']}/membership", json={"plan": "prime"})
    api.clock.advance(days=95)
    assert api.clock() - start > timedelta(days=90)
    response = api.request("GET", "/membership/report", role="analyst")
    assert response.status_code == 200, response.text
    assert response.json()["pairs"] == 1
    assert api.request("GET", "/membership/report", role=None).status_code == 401
