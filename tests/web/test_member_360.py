"""Member 360 over HTTP: coupons, surveys, complaints with SLA clocks, messages, churn
risk and CLV from the analytics models, and filing a complaint; SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import numpy as np
from sqlalchemy import select
from tests.web.conftest import Site, element_text

from patronage.analytics import churn, clv
from patronage.analytics.engines import connect
from patronage.analytics.platform_data import read_platform_engine
from patronage.analytics.summary import customer_summary
from patronage.domain.coupons import Discount
from patronage.services.complaints import NewComplaint, file_complaint
from patronage.services.journeys import run_journeys
from patronage.services.portal_codes import issue_portal_code
from patronage.services.rewards import NewReward, add_reward, redeem_reward
from patronage.services.survey_responses import record_staff_response
from patronage.services.surveys import define_survey
from patronage.storage.tables import ComplaintRow
from patronage.web.i18n import Translator

QUESTIONS = [{"id": "nps", "type": "nps", "text": {"zh-CN": "推荐意愿", "en": "Recommend?"}}]


def _section(page: httpx.Response, title_id: str) -> str:
    start = page.text.index(f'id="{title_id}"')
    return page.text[start : page.text.index("</section>", start)]


def test_member_360_lists_what_the_member_holds_answered_and_received(site: Site) -> None:
    shop = site.shop
    ann = shop.member(
        "card-1", name="Ann", phone="+8613800000001", consents={"sms": True},
        birthday=date(1990, 3, 10),
    )  # fmt: skip
    shop.buy(ann, "250.00", order_id="R-1")
    coffee = NewReward("coffee", "Coffee", 100, Discount("free_item", sku="COF-1"))
    redeem_reward(shop.uow(), ann.id, add_reward(shop.uow(), coffee, "admin").id)
    survey = define_survey(
        shop.uow(), "visit", {"zh-CN": "到店体验", "en": "Store visit"}, QUESTIONS
    )
    record_staff_response(shop.uow(), survey.id, ann.id, {"nps": 9}, "staff")
    complaint = NewComplaint(ann.id, "service", "high", "Cold coffee", "store", order_id="R-1")
    file_complaint(shop.uow(), complaint, "staff")
    run_journeys(shop.uow(), "default", shop.clock())
    page = site.sign_in("analyst").get(f"/members/{ann.id}")
    assert page.status_code == 200
    coupons = _section(page, "coupons-title")
    assert "Free item COF-1" in coupons and "Usable" in coupons and "1 / 1" in coupons
    surveys = _section(page, "surveys-title")
    assert "Store visit" in surveys and "NPS 9" in surveys
    complaints = _section(page, "complaints-title")
    assert "Cold coffee" in complaints and "High" in complaints and ">New<" in complaints
    assert complaints.count("sla-") == 2  # both clocks shown
    messages = _section(page, "messages-title")
    assert "birthday" in messages and "SMS" in messages
    # one buyer is far too few to fit a model: no numbers are made up
    assert element_text(page.text, "outlook-empty").startswith(
        "Not enough data for a model yet: 1 buyers"
    )
    assert 'id="churn-risk"' not in page.text
    assert "File a complaint" not in page.text  # analysts only look


def test_empty_member_360_in_chinese(site: Site) -> None:
    bob = site.shop.member("card-2")
    page = site.sign_in("staff", **{"Accept-Language": "zh-CN"}).get(f"/members/{bob.id}")
    for empty in ("没有优惠券。", "没有回答过问卷。", "没有投诉。", "还没有消息。"):
        assert empty in page.text
    assert (
        element_text(page.text, "outlook-empty") == "尚无购买记录，无法估计流失风险和生命周期价值。"
    )


def test_staff_file_a_complaint_analysts_may_not(site: Site) -> None:
    ann = site.shop.member("card-1")
    staff = site.sign_in("staff")
    token = site.csrf(staff, f"/members/{ann.id}")
    form = {"subject": "Rude cashier", "category": "staff", "severity": "medium", "channel": "app"}
    missing = staff.post(
        f"/members/{ann.id}/complaints", data={**form, "subject": " ", "csrf_token": token}
    )
    assert missing.status_code == 400
    assert "Please check “Subject”" in missing.text and 'value="staff"' in missing.text
    done = staff.post(
        f"/members/{ann.id}/complaints", data={**form, "channel": "phone", "csrf_token": token}
    )
    assert done.status_code == 303
    shown = staff.get(done.headers["location"])
    assert "Complaint filed; its SLA clocks have started." in shown.text
    assert "Rude cashier" in _section(shown, "complaints-title")
    analyst = site.sign_in("analyst")
    refused = analyst.post(
        f"/members/{ann.id}/complaints",
        data={**form, "csrf_token": site.csrf(analyst, f"/members/{ann.id}")},
    )
    assert refused.status_code == 403
    no_token = staff.post(f"/members/{ann.id}/complaints", data=form)
    assert no_token.status_code == 403
    with site.shop.uow() as uow:
        rows = uow.session.scalars(select(ComplaintRow)).all()
        assert [(r.subject, r.channel, r.filed_by) for r in rows] == [
            ("Rude cashier", "phone", "web:staff")
        ]


def test_a_double_submitted_complaint_form_files_once(site: Site) -> None:
    ann = site.shop.member("card-1")
    staff = site.sign_in("staff")
    page = staff.get(f"/members/{ann.id}")
    form = _section(page, "complaints-title")
    key = re.search(r'name="key" value="([0-9a-f]+-c)"', form)
    assert key, "the complaint form carries a one-time key"
    fields = {"subject": "Wrong change", "category": "billing", "severity": "high"}
    token = site.csrf(staff, f"/members/{ann.id}")
    fields |= {"channel": "store", "key": key.group(1), "csrf_token": token}
    first = staff.post(f"/members/{ann.id}/complaints", data=fields)
    second = staff.post(f"/members/{ann.id}/complaints", data=fields)
    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["location"] == first.headers["location"]
    fresh_key = re.search(r'name="key" value="([0-9a-f]+-c)"', staff.get(f"/members/{ann.id}").text)
    assert fresh_key and fresh_key.group(1) != key.group(1)  # a new page, a new complaint
    third = staff.post(f"/members/{ann.id}/complaints", data={**fields, "key": fresh_key.group(1)})
    assert third.status_code == 303
    with site.shop.uow() as uow:
        subjects = uow.session.scalars(select(ComplaintRow.subject)).all()
    assert subjects == ["Wrong change", "Wrong change"]


def _buyers(site: Site) -> list[tuple[str, int, int]]:
    """40 buyers drawn from a buy-till-you-die process (seeded): purchase rates and spend
    vary between customers, and some stop buying. (external id, member id, purchase days)"""
    shop, rng = site.shop, np.random.default_rng(2)
    now = shop.clock()
    made = []
    for i in range(40):
        first, rate, drop = int(rng.integers(120, 360)), rng.gamma(2.0, 1 / 40), rng.beta(2, 5)
        days, day = [first], first
        while rng.random() >= drop:
            day -= max(1, int(rng.exponential(1 / rate)))
            if day < 0:
                break
            days.append(day)
        mean = rng.gamma(3.0, 20.0)
        member = shop.member(f"b-{i:02d}")
        for ago in days:
            amount = int(rng.gamma(4.0, mean / 4.0)) + 1  # whole yuan: sums are exact
            shop.buy(member, f"{amount}.00", at=now - timedelta(days=ago))
        made.append((member.external_id, member.id, len(days)))
    return made


def test_churn_risk_and_clv_come_from_the_analytics_models(site: Site) -> None:
    external_id, member, _ = next(b for b in _buyers(site) if b[2] >= 3)
    as_of = site.shop.clock().date()
    data = read_platform_engine(connect(), site.shop.engine)
    history = clv.repeat_history(customer_summary(data.transactions, as_of), as_of, "week")
    fitted = clv.fit_models(history, "bgnbd")
    own = history[history["customer_id"] == external_id]
    risk = churn.grade(clv.predict(own, fitted, 13.0), 13.0, "week")["churn_risk"].iloc[0]
    value = clv.predict(own, fitted, 52.0)["clv"].iloc[0]
    t = Translator("en")
    page = site.sign_in("analyst").get(f"/members/{member}")
    assert element_text(page.text, "churn-risk") == t.percent(float(risk))
    assert element_text(page.text, "clv") == t.money(round(float(value) * 100), "CNY")
    assert "fitted on 40 buyers" in page.text
    again = site.sign_in("admin").get(f"/members/{member}")  # the cached fit, same answer
    assert element_text(again.text, "clv") == element_text(page.text, "clv")


def test_portal_shows_the_card_qr_and_the_counter_takes_the_scanned_text(site: Site) -> None:
    ann = site.shop.member("card-77", name="Ann")
    code = issue_portal_code(site.shop.uow(), ann.id)
    member = site.client(**{"Accept-Language": "zh-CN"})
    token = site.csrf(member, "/portal/login")
    signed = member.post(
        "/portal/login", data={"identifier": "card-77", "code": code, "csrf_token": token}
    )
    assert signed.status_code == 303
    home = member.get("/portal")
    qr = home.text[home.text.index('id="member-qr"') :]
    assert '<svg role="img" aria-label="我的卡号二维码"' in qr and "<desc>card-77</desc>" in qr
    assert 'class="qrline"' in qr and "<script" not in home.text
    staff = site.sign_in("staff")
    found = staff.get("/counter", params={"q": " card-77 "})  # scanners may add spaces
    assert 'id="balance-available">0<' in found.text and "card-77" in found.text
    assert "or scan the member&#39;s QR code into this field" in found.text
