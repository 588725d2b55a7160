"""The CEL editor in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against the live server: an error shown with its position while typing, then the rule
saved. The test saves a screenshot and checks that the console shows no errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from tests.web.conftest import Site, screenshot, sign_in

from patronage.services.rules import get_rule, list_rules

pytestmark = pytest.mark.browser
GOOD = 'event.amount >= 100.0 && member.tier == "gold"'


def test_the_cel_editor_shows_an_error_as_you_type_then_saves_the_rule(
    page: Page, live: Site
) -> None:
    sign_in(page, "admin")
    page.get_by_role("link", name="Program designer").click()
    page.get_by_role("navigation", name="Program designer sections").get_by_role(
        "link", name="Rules"
    ).click()
    page.wait_for_url("**/designer/rules")
    expect(page.get_by_text("No rules yet")).to_be_visible()

    page.get_by_label("Code", exact=True).fill("big-basket")
    page.get_by_label("Name", exact=True).fill("Big basket bonus")
    condition = page.get_by_label("Condition (CEL)")
    condition.press_sequentially("event.amount >= 100.0 &&", delay=10)
    check = page.locator("#f-condition-error")
    expect(check).to_contain_text("Line 1, column 25: Syntax error")
    expect(condition).to_have_attribute("aria-invalid", "true")
    expect(check.locator("pre")).to_have_text("event.amount >= 100.0 &&\n" + " " * 24 + "^")
    assert list_rules(live.shop.uow()) == []  # checking saves nothing
    screenshot(page, "cel_editor_error_while_typing")

    condition.press_sequentially(' member.tier == "gold"', delay=10)
    expect(check).to_have_text("The expression is valid.")
    expect(condition).to_have_attribute("aria-invalid", "false")

    page.get_by_label("Action").select_option("bonus")
    page.get_by_label("Value", exact=True).fill("25")
    page.get_by_role("button", name="Create rule").click()
    page.wait_for_url("**/designer/rules/big-basket?done=created")
    expect(page.locator("#flash")).to_have_text("Created.")
    expect(page.locator("#rule-condition")).to_have_text(GOOD)
    rule = get_rule(live.shop.uow(), "big-basket")
    assert rule["condition"] == GOOD
    assert (rule["action"], rule["value"], rule["created_by"]) == ("bonus", 25, "web:admin")


def test_a_large_coupon_batch_shows_progress_then_the_finished_batch(
    page: Page, live: Site
) -> None:
    sign_in(page, "admin")
    page.goto("/designer/coupons")
    page.get_by_label("Name", exact=True).fill("Grand opening")
    page.get_by_label("Codes to generate").fill("30000")
    page.get_by_label("Kind").select_option("percent")
    page.get_by_label("Value", exact=True).fill("15")
    page.get_by_role("button", name="Create batch").click()
    page.wait_for_url("**/designer/coupons/*?job=*")
    # The page polls the job and loads itself again when the job has ended.
    expect(page.locator("#flash")).to_have_text("The codes are ready.", timeout=60_000)
    expect(page.locator("#batch-codes")).to_have_text("30,000")
    expect(page.locator("[data-progress-url]")).to_have_count(0)
    expect(page.get_by_role("link", name="Download the codes (CSV)")).to_be_visible()
