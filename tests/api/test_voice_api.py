"""Surveys and complaints over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from tests.api.conftest import Api

from patronage.storage.tables import (
    ComplaintRow,
    ComplaintStatusRow,
    IdempotencyRow,
    SurveyInvitationRow,
    SurveyResponseRow,
)

SURVEY = {
    "code": "visit",
    "title": {"zh-CN": "到店体验", "en": "Your visit"},
    "questions": [
        {"id": "recommend", "type": "nps", "text": {"zh-CN": "推荐？", "en": "Recommend?"}},
        {"id": "comment", "type": "text", "text": {"zh-CN": "意见", "en": "Comments"}},
    ],
}


def rows(api: Api, table: type) -> int:
    with api.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def error(response: Any) -> dict[str, Any]:
    return response.json()["error"]  # type: ignore[no-any-return]


def invited(api: Api, survey_id: int, name: str, store: str) -> dict[str, Any]:
    member = api.member(name, consents={"email": True})
    bought = api.buy(member["id"], f"o-{name}", "20.00", store=store, staff_id="wang")
    assert bought.status_code == 201, bought.text
    response = api.request(
        "POST",
        f"/surveys/{survey_id}/invitations",
        "staff",
        json={
            "member_id": member["id"],
            "send_channel": "email",
            "event_id": bought.json()["event_id"],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_member_answers_through_the_link_without_a_key(api: Api) -> None:
    survey = api.request("POST", "/surveys", json=SURVEY).json()
    invitation = invited(api, survey["id"], "a", "north")
    link = f"/survey-responses/{invitation['token']}"
    shown = api.request("GET", link, None, params={"language": "en"})
    assert shown.status_code == 200
    assert shown.json()["questions"][0]["text"] == "Recommend?"
    out_of_range = api.request("POST", link, None, json={"answers": {"recommend": 11}})
    assert out_of_range.status_code == 422
    assert error(out_of_range)["details"]["field"] == "answers.recommend"
    assert rows(api, SurveyResponseRow) == 0
    assert api.request("POST", link, None, json={"answers": {"recommend": 9}}).status_code == 201
    again = api.request("POST", link, None, json={"answers": {"recommend": 2}})
    assert (again.status_code, error(again)["code"]) == (409, "already_answered")
    assert rows(api, SurveyResponseRow) == 1
    forged = api.request("POST", link[:-4] + "0000", None, json={"answers": {"recommend": 9}})
    assert forged.status_code == 404


def test_results_by_store_for_analysts_only(api: Api) -> None:
    survey = api.request("POST", "/surveys", json=SURVEY).json()
    for i, (store, score) in enumerate([("north", 10), ("north", 9), ("south", 3), ("south", 8)]):
        token = invited(api, survey["id"], f"m{i}", store)["token"]
        api.request(
            "POST", f"/survey-responses/{token}", None, json={"answers": {"recommend": score}}
        )
    path = f"/surveys/{survey['id']}/results"
    assert api.request("GET", path, "staff").status_code == 403
    response = api.request("GET", path, "analyst", params={"group_by": "store"})
    assert response.status_code == 200, response.text
    nps = response.json()["questions"]["recommend"]
    assert (nps["n"], nps["nps"]) == (4, 25.0)
    assert (nps["groups"]["north"]["nps"], nps["groups"]["south"]["nps"]) == (100.0, -50.0)
    assert set(nps["comparison"]) >= {"difference", "z", "p_value"}
    bad = api.request("GET", path, "admin", params={"group_by": "weather"})
    assert (bad.status_code, error(bad)["details"]["field"]) == (422, "group_by")


def test_complaint_for_an_unknown_member_writes_nothing(api: Api) -> None:
    before = (rows(api, ComplaintRow), rows(api, ComplaintStatusRow))
    response = api.request(
        "POST",
        "/complaints",
        "staff",
        json={
            "member_id": 424242,
            "category": "service",
            "severity": "high",
            "subject": "rude",
            "channel": "store",
        },
    )
    assert response.status_code == 404
    assert error(response)["details"] == {"member_id": 424242}
    assert (rows(api, ComplaintRow), rows(api, ComplaintStatusRow)) == before


def test_complaint_roles(api: Api) -> None:
    alice, bob = api.member("a"), api.member("b")
    body = {"category": "service", "severity": "low", "subject": "slow", "channel": "app"}
    assert (
        api.request(
            "POST", "/complaints", None, json={"member_id": alice["id"], **body}
        ).status_code
        == 401
    )
    assert (
        api.request(
            "POST", "/complaints", "analyst", json={"member_id": alice["id"], **body}
        ).status_code
        == 403
    )
    own = api.member_key(alice["id"])
    mine = api.request("POST", "/complaints", key=own, json={"member_id": alice["id"], **body})
    assert mine.status_code == 201, mine.text
    theirs = api.request("POST", "/complaints", key=own, json={"member_id": bob["id"], **body})
    assert theirs.status_code == 403
    complaint_id = mine.json()["id"]
    assert api.request("GET", f"/complaints/{complaint_id}", key=own).status_code == 403
    recovery = api.request(
        "POST", f"/complaints/{complaint_id}/recovery", "staff", json={"points": 9000}
    )
    assert (recovery.status_code, recovery.json()["status"]) == (201, "pending")
    approve = f"/complaints/recovery/{recovery.json()['id']}/approve"
    assert api.request("POST", approve, "staff").status_code == 403
    approved = api.request("POST", approve, "admin")
    assert (approved.status_code, approved.json()["status"]) == (200, "applied")
    balance = api.request("GET", f"/members/{alice['id']}/balance", "staff").json()
    assert balance["available"] == 9000
    assert (
        api.request(
            "GET",
            "/complaints/report",
            "staff",
            params={"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"},
        ).status_code
        == 403
    )


def test_complaint_lifecycle_and_report(api: Api) -> None:
    api.clock.now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Tuesday
    member = api.member("a", consents={"sms": True})
    assert api.buy(member["id"], "o-1", "50.00").status_code == 201
    filed = api.request(
        "POST",
        "/complaints",
        "staff",
        json={
            "member_id": member["id"],
            "category": "product",
            "severity": "medium",
            "subject": "broken",
            "channel": "phone",
            "order_id": "o-1",
        },
    )
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    base = f"/complaints/{cid}"
    early = api.request("POST", f"{base}/resolve", "staff", json={"summary": "x"})
    assert (early.status_code, error(early)["code"]) == (422, "invalid_transition")
    assert (
        api.request("POST", f"{base}/assign", "staff", json={"assignee": "li"}).status_code == 200
    )
    api.clock.advance(minutes=30)
    responded = api.request("POST", f"{base}/responses", "staff", json={"message": "sorry"})
    assert responded.json()["clocks"]["first_response"]["state"] == "met"
    assert (
        api.request("POST", f"{base}/notes", "staff", json={"body": "check batch"}).status_code
        == 201
    )
    resolved = api.request("POST", f"{base}/resolve", "staff", json={"summary": "replaced"})
    assert resolved.status_code == 200
    assert "path" in resolved.json()["survey_invitation"]
    history = [h["status"] for h in resolved.json()["history"]]
    assert history == ["new", "assigned", "in_progress", "resolved"]
    report = api.request(
        "GET",
        "/complaints/report",
        "analyst",
        params={"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"},
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["complaints"], body["orders"], body["complaints_per_1000_orders"]) == (
        1,
        1,
        1000.0,
    )
    assert body["sla"]["first_response"]["attainment"] == 1.0
    assert body["sla"]["time_to_first_response"]["median_hours"] == 0.5


def test_complaint_filed_twice_with_one_idempotency_key_is_filed_once(api: Api) -> None:
    alice = api.member("a")
    body = {"member_id": alice["id"], "category": "service", "severity": "low"}
    body |= {"subject": "slow", "channel": "app"}
    first = api.request(
        "POST", "/complaints", "staff", json=body, headers={"Idempotency-Key": "c1"}
    )
    assert first.status_code == 201, first.text
    api.clock.now = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # later: the clocks have moved
    again = api.request(
        "POST", "/complaints", "staff", json=body, headers={"Idempotency-Key": "c1"}
    )
    assert (again.status_code, again.json()) == (201, first.json())
    assert (rows(api, ComplaintRow), rows(api, ComplaintStatusRow)) == (1, 1)
    other = {**body, "subject": "very slow"}
    reused = api.request(
        "POST", "/complaints", "staff", json=other, headers={"Idempotency-Key": "c1"}
    )
    assert (reused.status_code, error(reused)["code"]) == (409, "idempotency_key_reused")
    by_someone_else = api.request(
        "POST", "/complaints", "admin", json=body, headers={"Idempotency-Key": "c1"}
    )
    assert by_someone_else.status_code == 409
    unknown = {**body, "member_id": 424242}
    missing = api.request(
        "POST", "/complaints", "staff", json=unknown, headers={"Idempotency-Key": "c2"}
    )
    assert missing.status_code == 404
    assert (rows(api, ComplaintRow), rows(api, IdempotencyRow)) == (1, 1)
    fresh = api.request(
        "POST", "/complaints", "staff", json=body, headers={"Idempotency-Key": "c2"}
    )
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
    assert rows(api, ComplaintRow) == 2


def test_survey_responses_take_an_idempotency_key(api: Api) -> None:
    survey = api.request("POST", "/surveys", json=SURVEY).json()
    invitation = invited(api, survey["id"], "a", "north")
    link = f"/survey-responses/{invitation['token']}"
    key = {"Idempotency-Key": "answer-1"}
    answers = {"answers": {"recommend": 9}}
    first = api.request("POST", link, None, json=answers, headers=key)
    assert first.status_code == 201, first.text
    again = api.request("POST", link, None, json=answers, headers=key)
    assert (again.status_code, again.json()) == (201, first.json())
    changed = api.request("POST", link, None, json={"answers": {"recommend": 3}}, headers=key)
    assert (changed.status_code, error(changed)["code"]) == (409, "idempotency_key_reused")
    no_key = api.request("POST", link, None, json=answers)
    assert (no_key.status_code, error(no_key)["code"]) == (409, "already_answered")
    assert rows(api, SurveyResponseRow) == 1

    member = api.member("b")
    path = f"/surveys/{survey['id']}/responses"
    body = {"member_id": member["id"], "answers": {"recommend": 7}, "store": "south"}
    staff_key = {"Idempotency-Key": "desk-17"}
    taken = api.request("POST", path, "staff", json=body, headers=staff_key)
    assert taken.status_code == 201, taken.text
    retried = api.request("POST", path, "staff", json=body, headers=staff_key)
    assert (retried.status_code, retried.json()) == (201, taken.json())
    other = {**body, "answers": {"recommend": 8}}
    reused = api.request("POST", path, "staff", json=other, headers=staff_key)
    assert reused.status_code == 409
    assert rows(api, SurveyResponseRow) == 2
    assert rows(api, SurveyInvitationRow) == 1
