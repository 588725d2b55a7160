"""Voice-of-the-customer pages over HTTP against a live server, on SQLite and PostgreSQL:
survey results with their intervals, and the complaint queue with its SLA clocks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from tests.web.conftest import Site, element_text

from patronage.services import complaints as care
from patronage.services.survey_responses import record_staff_response
from patronage.services.surveys import define_survey
from patronage.storage.tables import ComplaintRow

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "recommend",
        "type": "nps",
        "text": {"zh-CN": "您会推荐我们吗？", "en": "Recommend us?"},
    },
    {"id": "happy", "type": "csat", "text": {"zh-CN": "您满意吗？", "en": "Satisfied?"}},
    {"id": "servqual", "type": "servqual", "text": {"zh-CN": "服务质量", "en": "Service quality"}},
    {"id": "comment", "type": "text", "text": {"zh-CN": "意见", "en": "Anything else?"}},
]
# (store, NPS, CSAT, comment): promoters 3, passives 2, detractors 1; CSAT 4 of 6.
ANSWERS = [
    ("north", 10, 5, "Great coffee"),
    ("north", 9, 4, None),
    ("north", 9, 4, None),
    ("south", 8, 3, None),
    ("south", 7, 2, "Queue too long"),
    ("south", 3, 5, None),
]


def _survey(site: Site) -> int:
    shop = site.shop
    title = {"zh-CN": "门店体验", "en": "Store visit"}
    survey = define_survey(shop.uow(), "visit", title, QUESTIONS)
    for i, (store, nps, csat, comment) in enumerate(ANSWERS):
        member = shop.member(f"v{i}")
        answers: dict[str, Any] = {"recommend": nps, "happy": csat, "comment": comment}
        if i < 2:  # two SERVQUAL respondents: gaps of -1 and 0 on every item
            answers["servqual"] = {"E": [6] * 22, "P": [5 - i * -1] * 22}
        shop.clock.advance(minutes=1)
        record_staff_response(shop.uow(), survey.id, member.id, answers, "test", store=store)
    return survey.id


def test_survey_results_show_scores_with_their_intervals(site: Site) -> None:
    survey_id = _survey(site)
    client = site.sign_in("analyst")
    listing = client.get("/voice/surveys")
    assert listing.status_code == 200
    assert element_text(listing.text, f"survey-{survey_id}-responses") == "6"
    assert "<strong>33.3</strong>" in listing.text
    assert "95% interval -26.7 to 71.2" in listing.text
    page = client.get(f"/voice/surveys/{survey_id}").text
    assert element_text(page, "q-recommend-value") == "33.3"
    assert element_text(page, "q-recommend-ci") == "-26.7 – 71.2"
    assert "3 promoters (9–10), 2 passives (7–8), 1 detractors (0–6)" in page
    assert element_text(page, "q-happy-value") == "66.7%"
    assert element_text(page, "q-happy-ci") == "30 – 90.3"
    assert "<svg" in page and "NPS with 95% intervals" in page
    dims = page[page.index('id="q-servqual-dimensions"') :]
    assert re.search(r"Reliability</th><td[^>]*>-0.5</td><td[^>]*>0.5</td>", dims)
    comments = page[page.index('id="q-comment-comments"') :]
    assert comments.index("Queue too long") < comments.index("Great coffee")  # newest first


def test_survey_results_by_store_compare_the_two(site: Site) -> None:
    survey_id = _survey(site)
    client = site.sign_in("admin")
    page = client.get(f"/voice/surveys/{survey_id}", params={"group_by": "store"}).text
    groups = page[page.index('id="q-recommend-groups"') :]
    assert re.search(r"north</th><td[^>]*>3</td><td[^>]*>100</td><td>-6.6 – 100</td>", groups)
    assert re.search(r"south</th><td[^>]*>3</td><td[^>]*>-33.3</td><td>-66.6 – 33.2</td>", groups)
    comparison = element_text(page, "q-recommend-comparison")
    assert comparison.startswith("south minus north: -133.3 points (95% interval -142.1 to 8.8")
    assert "p = 0.083" in comparison


def test_survey_pages_empty_states_bad_dates_and_roles(site: Site) -> None:
    client = site.sign_in("analyst")
    assert "No surveys yet" in client.get("/voice/surveys").text
    survey_id = _survey(site)
    before = client.get(f"/voice/surveys/{survey_id}", params={"end": "2026-03-01"})
    assert before.status_code == 200 and "No responses in this period" in before.text
    bad = client.get(f"/voice/surveys/{survey_id}", params={"start": "2026-13-01"})
    assert bad.status_code == 400 and "start must be a date" in element_text(bad.text, "form-error")
    backwards = client.get(
        f"/voice/surveys/{survey_id}", params={"start": "2026-03-10", "end": "2026-03-01"}
    )
    assert backwards.status_code == 400
    assert client.get("/voice/surveys/999").status_code == 404
    assert site.sign_in("staff").get("/voice/surveys").status_code == 403
    anonymous = site.client().get("/voice/surveys")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


# --- the complaint queue ----------------------------------------------------------------


def _complaint(site: Site, member_id: int, severity: str, **extra: Any) -> int:
    request = care.NewComplaint(
        member_id=member_id,
        category="service",
        severity=severity,
        subject=f"{severity} complaint",
        channel="store",
        **extra,
    )
    return int(care.file_complaint(site.shop.uow(), request, "test")["id"])


def _queue(site: Site) -> dict[str, int]:
    """The clock (Tue 23:00 in Shanghai, outside the 09:00-18:00 working day) and five
    open complaints whose first answer is due at different times."""
    shop = site.shop
    ann, bob = shop.member("ann"), shop.member("bob")
    shop.buy(bob, "10.00", order_id="o-north", store="north")
    now = shop.clock.now
    shop.clock.now = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # Mon 09:00 in Shanghai
    ids = {"old": _complaint(site, ann.id, "high")}  # 2 h target: 16 h overdue by now
    shop.clock.now = now
    ids["low"] = _complaint(site, ann.id, "low")  # due Wed 17:00
    ids["critical"] = _complaint(site, ann.id, "critical")  # due Wed 10:00
    ids["medium"] = _complaint(site, bob.id, "medium", order_id="o-north")  # due Wed 13:00
    ids["waiting"] = _complaint(site, ann.id, "medium", assignee="li")
    care.respond(shop.uow(), ids["waiting"], "Could you send a photo?", "test", True)
    return ids


def _order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-complaint="(\d+)"', html)]


def test_queue_is_ordered_by_sla_due_time_with_clocks(site: Site) -> None:
    ids = _queue(site)
    page = site.sign_in("analyst").get("/voice/complaints").text
    assert _order(page) == [ids[k] for k in ("old", "critical", "medium", "low", "waiting")]
    assert element_text(page, f"left-{ids['old']}") == "overdue by 16 h (business hours)"
    assert element_text(page, f"left-{ids['critical']}") == "1 h left (business hours)"
    assert element_text(page, f"left-{ids['low']}") == "8 h left (business hours)"
    assert "waiting on the customer" in element_text(page, f"left-{ids['waiting']}")
    assert 'datetime="2026-03-11T02:00:00+00:00"' in page  # critical: Wed 10:00 Shanghai
    assert "/voice/complaints/" not in page  # analysts read, they do not act


def test_queue_filters_and_empty_states(site: Site) -> None:
    client = site.sign_in("staff")
    empty = client.get("/voice/complaints")
    assert "No open complaints. Well done." in element_text(empty.text, "queue-empty")
    ids = _queue(site)
    critical = client.get("/voice/complaints", params={"severity": "critical"}).text
    assert _order(critical) == [ids["critical"]]
    north = client.get("/voice/complaints", params={"store": "north"}).text
    assert _order(north) == [ids["medium"]]
    waiting = client.get("/voice/complaints", params={"status": "waiting_on_customer"}).text
    assert _order(waiting) == [ids["waiting"]]
    none = client.get("/voice/complaints", params={"store": "west"}).text
    assert "No open complaints match these filters." in none
    bad = client.get("/voice/complaints", params={"status": "closed"})
    assert bad.status_code == 400 and "status must be one of" in bad.text


def _post(client: httpx.Client, site: Site, path: str, **data: str) -> httpx.Response:
    token = site.csrf(client, "/voice/complaints")
    return client.post(path, data={"csrf_token": token, **data})


def _status(site: Site, complaint_id: int) -> tuple[str, str | None]:
    with site.shop.uow() as uow:
        row = uow.session.scalars(select(ComplaintRow).where(ComplaintRow.id == complaint_id))
        found = row.one()
        return found.status, found.assignee


def test_assign_answer_and_resolve_from_the_queue(site: Site) -> None:
    ids = _queue(site)
    client = site.sign_in("staff")
    back = "/voice/complaints?severity=critical"
    cid = ids["critical"]
    done = _post(client, site, f"/voice/complaints/{cid}/assign", assignee="wang", back=back)
    assert done.status_code == 303
    assert done.headers["location"].startswith(back + f"&done=assigned&complaint={cid}")
    page = client.get(done.headers["location"]).text
    assert element_text(page, "flash") == f"Complaint #{cid} assigned."
    assert element_text(page, f"assignee-{cid}") == "wang"
    assert _status(site, cid) == ("assigned", "wang")
    early = _post(client, site, f"/voice/complaints/{cid}/resolve", summary="Refunded")
    assert early.status_code == 400
    assert "not possible in the complaint's current status" in element_text(
        early.text, "form-error"
    )
    _post(client, site, f"/voice/complaints/{cid}/respond", message="We are on it")
    assert _status(site, cid)[0] == "in_progress"
    resolved = _post(client, site, f"/voice/complaints/{cid}/resolve", summary="Refunded")
    assert resolved.status_code == 303
    assert _status(site, cid)[0] == "resolved"
    assert cid not in _order(client.get("/voice/complaints").text)


def test_queue_actions_need_a_handler_role_and_the_csrf_token(site: Site) -> None:
    ids = _queue(site)
    cid = ids["low"]
    analyst = site.sign_in("analyst")
    refused = _post(analyst, site, f"/voice/complaints/{cid}/assign", assignee="x")
    assert refused.status_code == 403
    staff = site.sign_in("staff")
    forged = staff.post(f"/voice/complaints/{cid}/assign", data={"assignee": "x"})
    assert forged.status_code == 403 and "form expired" in forged.text
    blank = _post(staff, site, f"/voice/complaints/{cid}/assign", assignee="  ")
    assert blank.status_code == 400 and "assignee is required" in blank.text
    assert _status(site, cid) == ("new", None)
    unknown = _post(staff, site, "/voice/complaints/999999/assign", assignee="x")
    assert unknown.status_code == 400 and "Not found." in unknown.text
