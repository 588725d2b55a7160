"""The rules and campaigns API over HTTP: roles, 422 with position, versions, simulate."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from tests.api.conftest import Api

from patronage.storage.tables import metadata

RULE = {
    "code": "double-weekend",
    "name": "Double points weekend",
    "campaign": "coffee-weekend",
    "condition": "event.day_of_week in [0, 6]",
    "action": "multiplier",
    "value": 2,
    "item_filter": 'item.category == "coffee"',
}
CAMPAIGN = {
    "code": "coffee-weekend",
    "name": "Coffee weekends",
    "segment": 'member.tier == "gold"',
    "caps": {"month": 500},
    "budget": 100000,
}


def counts(api: Api) -> dict[str, int]:
    with api.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def test_create_list_update_disable(api: Api) -> None:
    assert api.request("POST", "/campaigns", json=CAMPAIGN).status_code == 201
    created = api.request("POST", "/rules", json=RULE)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    assert api.request("POST", "/rules", json=RULE).status_code == 409
    changed = api.request("PUT", "/rules/double-weekend", json={**RULE, "value": 3})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    listed = api.request("GET", "/rules", role="analyst").json()
    assert [(r["code"], r["version"], r["value"]) for r in listed] == [("double-weekend", 2, 3)]
    first = api.request("GET", "/rules/double-weekend?version=1").json()
    assert first["value"] == 2 and len(first["versions"]) == 2
    disabled = api.request("POST", "/rules/double-weekend/disable").json()
    assert disabled["status"] == "disabled" and disabled["version"] == 3
    campaign = api.request("PUT", "/campaigns/coffee-weekend", json={**CAMPAIGN, "budget": 5})
    assert campaign.json()["budget"] == 5 and campaign.json()["revision"] == 2
    got = api.request("GET", "/campaigns/coffee-weekend", role="analyst").json()
    assert got["rules"] == ["double-weekend"] and got["issued"] == 0
    assert api.request("GET", "/rules/nope").status_code == 404


def test_writes_are_for_admins(api: Api) -> None:
    for role in ("staff", "analyst"):
        assert api.request("POST", "/rules", role=role, json=RULE).status_code == 403
        assert api.request("POST", "/campaigns", role=role, json=CAMPAIGN).status_code == 403
    assert api.request("GET", "/rules", role="staff").status_code == 403
    assert api.request("POST", "/rules", role=None, json=RULE).status_code == 401


def test_bad_expression_is_422_with_field_and_position(api: Api) -> None:
    body = {**RULE, "campaign": None, "condition": 'member.tier == "gold" &&\n  event.amount >'}
    response = api.request("POST", "/rules", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_expression"
    assert error["details"]["field"] == "condition"
    assert (error["details"]["line"], error["details"]["column"]) == (2, 17)
    body = {**RULE, "campaign": None, "item_filter": "item.categry("}
    assert api.request("POST", "/rules", json=body).json()["error"]["details"]["field"] == (
        "item_filter"
    )
    bad_segment = api.request("POST", "/campaigns", json={**CAMPAIGN, "segment": "event.x"})
    assert bad_segment.status_code == 422
    assert bad_segment.json()["error"]["details"]["field"] == "segment"
    unknown_campaign = api.request("POST", "/rules", json={**RULE, "campaign": "nope"})
    assert unknown_campaign.status_code == 422
    nul = api.request("POST", "/rules", json={**RULE, "campaign": None, "name": "a\x00b"})
    assert nul.status_code == 422, nul.text


def test_simulate_shows_why_and_writes_nothing(api: Api) -> None:
    api.request("POST", "/campaigns", json=CAMPAIGN)
    api.request("POST", "/rules", json={**RULE, "status": "draft"})
    member = api.member("m1")
    before = counts(api)
    body = {
        "event": {
            "amount": "100.00",
            "occurred_at": "2026-03-14T10:00:00+08:00",
            "items": [{"sku": "latte", "category": "coffee", "quantity": 1, "price": "100"}],
        },
        "member": {"tier": "gold"},
    }
    response = api.request("POST", "/rules/simulate", role="analyst", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["base_points"], result["rule_points"], result["total_points"]) == (150, 150, 300)
    (rule,) = result["rules"]
    assert rule["condition"] is True and rule["status"] == "draft" and rule["fires"]
    assert result["campaigns"][0]["caps"]["month"]["left"] == 500
    stored = api.request("POST", "/rules/simulate", json={**body, "member_id": member["id"]})
    assert stored.json()["rules"][0]["decision"] == "member not in the campaign's segment"
    drafts_off = api.request("POST", "/rules/simulate", json={**body, "include_drafts": False})
    assert drafts_off.json()["rules"] == []
    assert api.request("POST", "/rules/simulate", role="staff", json=body).status_code == 403
    assert counts(api) == before
    # the draft earns nothing until it is switched on
    assert api.buy(member["id"], "o1", "10.00").json()["points_earned"] == 10


def test_events_earn_through_rules_over_http(api: Api) -> None:
    rule = {"code": "app-bonus", "name": "App bonus", "condition": 'event.channel == "app"',
            "action": "bonus", "value": 5}  # fmt: skip
    assert api.request("POST", "/rules", json=rule).status_code == 201
    member = api.member("m1")
    assert api.buy(member["id"], "o1", "10.00", channel="app").json()["points_earned"] == 15
    assert api.buy(member["id"], "o2", "10.00", channel="pos").json()["points_earned"] == 10
    explained = api.request("GET", f"/members/{member['id']}/balance/explanation").json()
    assert explained["lots"][0]["source"]["rules"] == ["+5: App bonus (v1)"]


def test_cashback_rules_over_http(api: Api) -> None:
    rule = {"code": "back", "name": "Five back", "condition": "true", "action": "cashback",
            "value": 5, "cap_minor": 300}  # fmt: skip
    created = api.request("POST", "/rules", json=rule)
    assert created.status_code == 201, created.text
    assert (created.json()["action"], created.json()["cap_minor"]) == ("cashback", 300)
    member = api.member("m1")
    bought = api.buy(member["id"], "o1", "40.00").json()
    assert (bought["points_earned"], bought["cashback_minor"]) == (40, 200)
    wallet = api.request("GET", f"/members/{member['id']}/wallet").json()
    assert wallet["balance_minor"] == 200 and wallet["entries"][0]["kind"] == "cashback"
    assert api.buy(member["id"], "o2", "100.00").json()["cashback_minor"] == 300  # 5.00 capped
    assert api.request("GET", f"/members/{member['id']}/wallet").json()["balance_minor"] == 500
    refund = {"type": "refund", "member_id": member["id"], "original_order_id": "o1",
              "amount": "10.00", "occurred_at": api.clock().isoformat()}  # fmt: skip
    refunded = api.request("POST", "/events", json=refund)
    assert refunded.status_code == 201, refunded.text
    back = refunded.json()
    assert (back["cashback_minor"], back["cashback_reversed_minor"]) == (0, 50)  # 1/4 of 2.00
    assert api.request("GET", f"/members/{member['id']}/wallet").json()["balance_minor"] == 450
    schema = httpx.get(api.base + "/openapi.json").json()["components"]["schemas"]["EventOut"]
    assert {"cashback_minor", "cashback_reversed_minor"} <= set(schema["properties"])
    before = counts(api)
    for body, field in (
        ({**rule, "code": "b2", "value": 101}, "value"),
        ({**rule, "code": "b3", "action": "bonus"}, "cap_minor"),
        ({**rule, "code": "b4", "event_type": "check_in", "cap_minor": None}, "action"),
    ):
        refused = api.request("POST", "/rules", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"]["field"] == field
    zero_cap = api.request("POST", "/rules", json={**rule, "code": "b5", "cap_minor": 0})
    assert zero_cap.status_code == 422
    assert zero_cap.json()["error"]["details"]["problems"][0]["field"] == "cap_minor"
    assert counts(api) == before
