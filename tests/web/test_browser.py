"""End to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against the live server, on a SQLite file. Each test saves a screenshot and checks that
the browser console shows no errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from tests.web.conftest import PASSWORDS, Site, browser_tab, sign_in

from patronage.services.portal_codes import issue_portal_code

pytestmark = pytest.mark.browser


def _demo_shop(site: Site) -> Any:
    shop = site.shop
    ann = shop.member("card-1001", phone="13800001001", name="Ann")
    now = shop.clock()
    for days, amount, store in ((200, "300.00", "shanghai-1"), (70, "120.00", "online")):
        shop.buy(ann, amount, store=store, at=now - timedelta(days=days))
    for i in range(6):
        other = shop.member(f"card-2{i}", phone=f"1390000200{i}")
        shop.buy(other, f"{20 + 15 * i}.00", store="beijing-1", at=now - timedelta(days=30 * i))
    return ann


def test_sign_in_wrong_password_lock_out_and_dashboard(page: Page, live: Site) -> None:
    _demo_shop(live)
    for _ in range(5):
        sign_in(page, "analyst", "not-the-password")
        assert page.locator("#login-error").inner_text() == "Wrong username or password."
    sign_in(page, "analyst", PASSWORDS["analyst"])
    assert "Too many failed attempts" in page.locator("#login-error").inner_text()
    sign_in(page, "admin")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("#kpi-active").inner_text() == "4"  # a purchase in 90 days
    assert page.locator("svg.chart").count() >= 3
    page.get_by_label("Store").select_option("beijing-1")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**store=beijing-1**")
    assert page.locator("#kpi-active").inner_text() == "3"


def test_member_lookup_and_redemption_at_the_counter(page: Page, live: Site) -> None:
    ann = _demo_shop(live)
    sign_in(page, "staff")
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Phone or card number").fill("13800001001")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url(f"**/members/{ann.id}")
    assert page.locator("#balance-available").inner_text() == "420"
    page.get_by_role("link", name="Counter").click()
    page.get_by_label("Phone or card number").fill("card-1001")
    page.get_by_role("button", name="Find").click()
    page.get_by_label("Points to redeem").fill("1000")
    page.get_by_role("button", name="Redeem").click()
    assert (
        "Not enough points: 1,000 requested, 420 available."
        in page.locator("#form-error").inner_text()
    )
    page.get_by_label("Points to redeem").fill("150")
    page.get_by_role("button", name="Redeem").click()
    assert page.locator("#flash").inner_text() == "Redeemed 150 points."
    assert page.locator("#balance-available").inner_text() == "270"


def test_member_portal_on_a_phone(browser: Browser, live: Site) -> None:
    ann = _demo_shop(live)
    code = issue_portal_code(live.shop.uow(), ann.id)
    phone = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}
    with browser_tab(browser, live.base, "test_member_portal_on_a_phone", **phone) as tab:
        tab.goto("/portal")
        tab.get_by_label("卡号或手机号").fill("card-1001")
        tab.get_by_label("一次性验证码").fill(code)
        tab.get_by_role("button", name="登录").click()
        tab.wait_for_url("**/portal")
        assert tab.locator("#portal-available").inner_text().startswith("420")
        assert tab.locator("html").get_attribute("lang") == "zh-CN"
        width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_language_switch(page: Page, live: Site) -> None:
    sign_in(page, "admin")
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/dashboard")
    assert page.locator("h1").inner_text() == "仪表盘"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "还没有会员" in page.locator(".empty").first.inner_text()
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Dashboard"
