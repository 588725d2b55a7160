"""Long operations from the pages, against a live server on SQLite and PostgreSQL: an
upload is imported in the background while its page polls the progress stored in the
database; a campaign replay likewise. Ends with the progress page and the complaint
queue in headless Chromium."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select
from tests.web.conftest import Site, sign_in

from patronage.services import complaints as care
from patronage.services import rules
from patronage.services.background_jobs import queue_import
from patronage.storage.background_job_tables import BackgroundJobRow
from patronage.storage.tables import EventRow, MemberRow
from patronage.web.i18n import Translator

HEADER = "member_external_id,order_id,occurred_at,amount,currency,type,store\n"
CSV = HEADER + (
    "c-1,o-1,2026-03-01T10:00:00+08:00,120.00,CNY,purchase,north\n"
    "c-2,o-2,2026-03-02T10:00:00+08:00,30.50,CNY,purchase,south\n"
    "c-1,o-3,not-a-time,10,CNY,purchase,north\n"
)


def _text(page: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', page, re.S)
    assert match, f"no #{element_id}"
    return html.unescape(match.group(1).strip())


def _upload(
    site: Site, client: httpx.Client, body: str, name: str = "sales.csv", **form: str
) -> httpx.Response:
    data = {"csrf_token": site.csrf(client, "/jobs"), "what": "transactions", **form}
    return client.post("/jobs/imports", data=data, files={"file": (name, body.encode())})


def _wait(client: httpx.Client, job_id: int) -> dict[str, Any]:
    """Poll as the page's script does, until the job has finished (a guard, not a timing)."""
    deadline = time.monotonic() + 120
    while True:
        status: dict[str, Any] = client.get(f"/jobs/{job_id}/status").json()
        if status["finished"]:
            return status
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {status}"
        time.sleep(0.05)


def _count(site: Site, row: Any) -> int:
    with site.shop.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(row)) or 0)


def _job_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/jobs/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


def test_an_upload_is_imported_in_the_background_and_its_result_shown(site: Site) -> None:
    client = site.sign_in("admin")
    assert "No operations yet." in client.get("/jobs").text
    job_id = _job_id(_upload(site, client, CSV))
    status = _wait(client, job_id)
    assert status["status"] == "succeeded" and status["percent"] == 100.0
    assert (status["done"], status["total"]) == (3, 3)
    assert status["label"] == "3 of 3 rows (100%)"
    page = client.get(f"/jobs/{job_id}").text
    assert _text(page, "job-state") == "Finished"
    imported = [_text(page, f"result-{k}") for k in ("rows", "imported", "already", "rejected")]
    assert imported == ["3", "2", "0", "1"]
    rejected = page[page.index('id="rejected"') :]
    assert re.search(r'<td class="num">4</td><td>occurred_at: .*not-a-time', rejected)
    assert "job_progress.js" not in page  # finished: nothing left to poll
    assert (_count(site, EventRow), _count(site, MemberRow)) == (2, 2)
    again = _wait(client, _job_id(_upload(site, client, CSV)))
    assert again["status"] == "succeeded"
    second = client.get(f"/jobs/{again['id']}").text
    assert (_text(second, "result-imported"), _text(second, "result-already")) == ("0", "2")
    assert _count(site, EventRow) == 2
    listing = client.get("/jobs").text
    assert f'id="job-row-{job_id}"' in listing and "sales.csv" in listing


def test_a_file_that_cannot_be_imported_fails_with_the_reason(site: Site) -> None:
    client = site.sign_in("admin")
    job_id = _job_id(_upload(site, client, "order_id,amount\no-1,10\n"))
    assert _wait(client, job_id)["status"] == "failed"
    page = client.get(f"/jobs/{job_id}").text
    assert "The operation failed: missing column(s): member_external_id" in page
    assert _count(site, EventRow) == 0


def test_progress_is_kept_in_the_database(site: Site, tmp_path: Path) -> None:
    """A job half done, as another server process would have left it: any page load,
    in any session, shows the same progress; a job whose heartbeat stopped is shown
    as interrupted."""
    job = queue_import(site.shop.uow(), "transactions", tmp_path / "x.csv", "x.csv", "test")
    with site.shop.uow() as uow:
        assert uow.background_jobs.claim(job.id, uow.clock())
        uow.background_jobs.set_total(job.id, 10, uow.clock())
        uow.background_jobs.advance(job.id, 3, uow.clock())
        uow.commit()
    for client in (site.sign_in("admin"), site.sign_in("analyst")):
        page = client.get(f"/jobs/{job.id}").text
        assert _text(page, "job-count") == "3 of 10 rows (30%)"
        assert 'value="30.0"' in page and 'data-finished="false"' in page
        assert "/static/job_progress.js" in page
    site.shop.clock.advance(minutes=16)
    status = site.sign_in("admin").get(f"/jobs/{job.id}/status").json()
    assert (status["status"], status["finished"]) == ("interrupted", True)


def test_import_refuses_bad_uploads_roles_and_forged_forms(site: Site) -> None:
    admin = site.sign_in("admin")
    wrong = _upload(site, admin, CSV, name="sales.txt")
    assert wrong.status_code == 400
    assert "must be a .csv or .parquet file" in _text(wrong.text, "import-error")
    empty = _upload(site, admin, "", name="empty.csv")
    assert empty.status_code == 400 and "the file is empty" in empty.text
    kind = _upload(site, admin, CSV, what="coupons")
    assert kind.status_code == 400 and "transactions or members" in kind.text
    forged = admin.post("/jobs/imports", files={"file": ("sales.csv", CSV.encode())})
    assert forged.status_code == 403
    analyst = site.sign_in("analyst")
    assert analyst.get("/jobs").status_code == 200
    assert _upload(site, analyst, CSV).status_code == 403
    assert site.sign_in("staff").get("/jobs").status_code == 403
    assert _count(site, BackgroundJobRow) == 0


def test_a_campaign_replay_runs_in_the_background(site: Site) -> None:
    shop = site.shop
    for i in range(3):
        shop.buy(shop.member(f"r{i}"), "20.00")
    rules.save_campaign(shop.uow(), {"code": "wk", "name": "Week", "status": "draft"}, "test")
    rule = {"code": "seven", "name": "Seven", "campaign": "wk", "condition": "true",
            "action": "bonus", "value": 7, "status": "draft"}  # fmt: skip
    rules.save_rule(shop.uow(), rule, "test")
    client = site.sign_in("analyst")
    assert '<option value="wk">Week (wk)</option>' in client.get("/jobs").text
    token = site.csrf(client, "/jobs")
    form = {"csrf_token": token, "campaign": "wk", "start": "2026-03-01", "end": "2026-03-10"}
    job_id = _job_id(client.post("/jobs/replays", data=form))
    assert _wait(client, job_id)["status"] == "succeeded"
    page = client.get(f"/jobs/{job_id}").text
    replayed = [_text(page, f"result-{k}") for k in ("events", "earning", "points", "members")]
    assert replayed == ["3", "3", "21", "3"]
    missing = client.post("/jobs/replays", data={**form, "campaign": "nope"})
    assert missing.status_code == 400 and _text(missing.text, "replay-error") == "Not found."
    undated = client.post("/jobs/replays", data={**form, "end": ""})
    assert undated.status_code == 400 and "choose the first and the last day" in undated.text
    assert _count(site, BackgroundJobRow) == 1


# --- in a real browser ------------------------------------------------------------------


@pytest.mark.browser
def test_progress_page_follows_an_import_to_its_result(page: Page, tmp_path: Path) -> None:
    rows = [
        f"m-{i % 150},ord-{i},2026-03-0{1 + i % 9}T10:00:00+08:00,{10 + i % 90}.00,CNY,purchase,s"
        for i in range(1500)
    ]
    upload = tmp_path / "sales.csv"
    upload.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/status") else None)
    sign_in(page, "admin")
    page.get_by_role("link", name="Imports & replays").click()
    page.get_by_label("File", exact=True).set_input_files(str(upload))
    page.get_by_role("button", name="Start the import").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    page.locator("#result-imported").wait_for(timeout=120_000)
    assert page.locator("#result-imported").inner_text() == "1,500"
    assert page.locator("#job-state").inner_text() == "Finished"
    assert page.locator("#job-count").inner_text() == "1,500 of 1,500 rows (100%)"
    assert polls, "the page never asked for the progress"


@pytest.mark.browser
def test_complaint_queue_assign_with_the_keyboard(page: Page, live: Site) -> None:
    member = live.shop.member("card-7", name="Ann")
    request = care.NewComplaint(member.id, "service", "high", "Cold coffee", "store")
    complaint = care.file_complaint(live.shop.uow(), request, "test")["id"]
    sign_in(page, "staff")
    page.get_by_role("link", name="Customer voice").click()
    page.wait_for_url("**/voice/complaints")
    card = page.locator(f"#complaint-{complaint}")
    assert "2 h left (business hours)" in card.inner_text()
    card.get_by_text("Assign", exact=True).first.focus()
    page.keyboard.press("Enter")  # opens the <details>
    card.get_by_label("Assigned to").fill("wang")
    card.get_by_label("Assigned to").press("Enter")
    page.wait_for_url(f"**done=assigned&complaint={complaint}**")
    assert page.locator("#flash").inner_text() == f"Complaint #{complaint} assigned."
    assert page.locator(f"#assignee-{complaint}").inner_text() == "wang"


def test_a_replay_shows_the_cashback_its_rules_would_have_paid(site: Site) -> None:
    shop = site.shop
    for i, amount in enumerate(("20.00", "100.00", "1000.00")):
        shop.buy(shop.member(f"b{i}"), amount)
    rules.save_campaign(shop.uow(), {"code": "back", "name": "Back", "status": "draft"}, "test")
    five = {"code": "five", "name": "Five back", "campaign": "back", "condition": "true",
            "action": "cashback", "value": 5, "cap_minor": 2000, "status": "draft"}  # fmt: skip
    seven = {**five, "code": "seven", "name": "Seven", "action": "bonus", "value": 7}
    del seven["cap_minor"]
    for rule in (five, seven):
        rules.save_rule(shop.uow(), rule, "test")
    form = {"campaign": "back", "start": "2026-03-01", "end": "2026-03-10"}
    for lang in ("en", "zh-CN"):
        client = site.sign_in("analyst", **{"Accept-Language": lang})
        token = site.csrf(client, "/jobs")
        job_id = _job_id(client.post("/jobs/replays", data={**form, "csrf_token": token}))
        assert _wait(client, job_id)["status"] == "succeeded"
        page = client.get(f"/jobs/{job_id}").text
        t = Translator(lang)
        paid = t.money(100 + 500 + 2000, "CNY")  # 5% of each, the last capped at 20.00
        assert _text(page, "result-cashback") == t("jobs.cashback", amount=paid)
        by_rule = page[page.index('id="cashback-by-rule"') :]
        assert re.search(
            rf'<th scope="row">five</th><td class="num">{re.escape(paid)}</td>', by_rule
        )
        assert "seven</th>" not in by_rule[: by_rule.index("</table>")]  # points, not cashback
        assert _text(page, "result-points") == "21"  # the bonus rule's points as before
    assert Translator("en").money(2600, "CNY") == "CN¥26.00"
