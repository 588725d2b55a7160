"""Saved segments over HTTP on both databases: roles, CSV export, refresh, and bad
lists refused with the shared error shape and nothing saved."""

from __future__ import annotations

import csv
import io

import pytest
from tests.api.conftest import Api
from tests.factories import Shop
from tests.segment_data import five_customers

from patronage.storage.uow import UnitOfWork

RFM = {
    "code": "champions_mar",
    "source": "rfm",
    "rfm_segments": ["Champions"],
    "as_of": "2026-03-10",
}


@pytest.fixture
def ids(api: Api) -> dict[str, int]:
    return five_customers(Shop(api.engine, api.clock))


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_save_show_export_by_role(api: Api, ids: dict[str, int]) -> None:
    saved = api.request("POST", "/segments", role="analyst", json=RFM)
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert (body["member_count"], body["revenue_minor"], body["created_by"]) == (
        2,
        90_000,
        f"apikey:{_key_id(api, 'analyst')}",
    )
    assert body["revenue_share"] == pytest.approx(900 / 1300)
    shown = api.request("GET", "/segments/champions_mar", role="analyst").json()
    assert shown["definition"] == {"rfm_segments": ["Champions"]}
    assert [s["code"] for s in api.request("GET", "/segments", role="admin").json()] == [
        "champions_mar"
    ]
    export = api.request("GET", "/segments/champions_mar/export", role="analyst")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = _csv(export.text)
    assert [(int(r["member_id"]), r["external_id"], r["frequency"]) for r in rows] == [
        (ids["a"], "a", "5"),
        (ids["b"], "b", "4"),
    ]
    assert "name" not in rows[0]
    named = "/segments/champions_mar/export?with_names=true"
    assert api.request("GET", named, role="analyst").status_code == 403
    assert [r["name"] for r in _csv(api.request("GET", named).text)] == ["Customer A", "Customer B"]


def _key_id(api: Api, role: str) -> int:
    with UnitOfWork(api.engine, api.clock) as uow:
        row = uow.keys.by_prefix(api.keys[role].split("_")[1])
        assert row is not None
        return row.id


def test_list_segments_refresh_and_delete(api: Api, ids: dict[str, int]) -> None:
    made = api.request(
        "POST", "/segments", json={"code": "vip", "source": "list", "csv": "external_id\nc\n"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["revenue_share"] is None
    refreshed = api.request(
        "POST",
        "/segments/vip/refresh",
        role="analyst",
        json={"csv": f"member_id\n{ids['d']}\n{ids['e']}\n"},
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["member_count"] == 2
    export = api.request("GET", "/segments/vip/export")
    assert [r["external_id"] for r in _csv(export.text)] == ["d", "e"]
    assert api.request("DELETE", "/segments/vip", role="analyst").status_code == 403
    assert api.request("DELETE", "/segments/vip").status_code == 204
    assert api.request("GET", "/segments/vip").status_code == 404


def test_staff_and_members_are_refused(api: Api, ids: dict[str, int]) -> None:
    assert api.request("POST", "/segments", json=RFM).status_code == 201
    member_key = api.member_key(ids["a"])
    calls = [
        ("POST", "/segments", {**RFM, "code": "other"}),
        ("GET", "/segments", None),
        ("GET", "/segments/champions_mar", None),
        ("GET", "/segments/champions_mar/export", None),
        ("POST", "/segments/champions_mar/refresh", {}),
        ("DELETE", "/segments/champions_mar", None),
    ]
    for method, path, body in calls:
        assert api.request(method, path, role="staff", json=body).status_code == 403, path
        assert api.request(method, path, key=member_key, json=body).status_code == 403, path


def test_bad_input_is_422_with_the_rows_and_saves_nothing(api: Api, ids: dict[str, int]) -> None:
    bad = api.request(
        "POST",
        "/segments",
        json={"code": "vip", "source": "list", "csv": "external_id\na\nnobody\n\n"},
    )
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "invalid_input"
    assert "row 3: unknown external_id 'nobody'" in error["message"]
    assert error["details"]["row"] == 3
    cases = [
        {"code": "vip", "source": "list"},
        {"code": "vip", "source": "list", "csv": "external_id\na\n", "rfm_segments": ["Lost"]},
        {"code": "vip", "source": "rfm", "rfm_segments": ["Royalty"]},
        {"code": "vip", "source": "rfm", "rfm_segments": ["Lost"], "csv": "external_id\na\n"},
        {"code": "bad code", "source": "rfm", "rfm_segments": ["Lost"]},
    ]
    for body in cases:
        response = api.request("POST", "/segments", json=body)
        assert response.status_code == 422, (body, response.text)
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert api.request("GET", "/segments").json() == []
    assert api.request("GET", "/segments?program=nope").status_code == 404


def test_simulate_accepts_member_segments_inline(api: Api) -> None:
    campaign = {"code": "vip", "name": "VIP", "segment": '"champions_mar" in member.segments'}
    assert api.request("POST", "/campaigns", json=campaign).status_code == 201
    rule = {"code": "vip-bonus", "name": "VIP bonus", "campaign": "vip", "condition": "true"}
    rule |= {"action": "bonus", "value": 250}
    assert api.request("POST", "/rules", json=rule).status_code == 201

    def simulate(member: dict[str, object]) -> dict[str, object]:
        body = {"event": {"type": "purchase", "amount": "10.00"}, "member": member}
        response = api.request("POST", "/rules/simulate", role="analyst", json=body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    inside = simulate({"segments": ["champions_mar"]})
    assert (inside["rule_points"], inside["member"]["segments"]) == (250, ["champions_mar"])
    assert simulate({"segments": ["someone_else"]})["rule_points"] == 0
    too_long = {"segments": ["x" * 65]}
    body = {"event": {"type": "purchase", "amount": "10.00"}, "member": too_long}
    assert api.request("POST", "/rules/simulate", json=body).status_code == 422
