"""End to end in headless Chromium: the member shows the QR code from the portal, a
scanner reads it, and the counter finds the member from the scanned text. The QR code
is read back from the rendered page with zxing-cpp, so the test proves the code holds
the card number, not only that an image is there."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import zxingcpp
from playwright.sync_api import Browser
from tests.web.conftest import Site, browser_tab, sign_in

from patronage.services.portal_codes import issue_portal_code

pytestmark = pytest.mark.browser
RASTERISE = """async (box) => {
  const xml = new XMLSerializer().serializeToString(box.querySelector("svg"));
  const img = new Image();
  img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(xml);
  await img.decode();
  const size = 360, canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size, size);
  ctx.drawImage(img, 0, 0, size, size);
  const rgba = ctx.getImageData(0, 0, size, size).data;
  return {size, grey: Array.from({length: size * size}, (_, i) => rgba[4 * i])};
}"""


def test_scanned_portal_qr_finds_the_member_at_the_counter(browser: Browser, live: Site) -> None:
    ann = live.shop.member("card-1001", phone="13800001001", name="Ann")
    live.shop.buy(ann, "420.00", at=live.shop.clock() - timedelta(days=3))
    live.shop.member("card-2002", phone="13800002002", name="Bob")
    phone = {"viewport": {"width": 390, "height": 844}}
    with browser_tab(browser, live.base, "test_portal_qr_on_a_phone", **phone) as portal:
        portal.goto("/portal/login")
        portal.get_by_label("Card number or phone").fill("13800001001")
        portal.get_by_label("One-time code").fill(issue_portal_code(live.shop.uow(), ann.id))
        portal.get_by_role("button", name="Sign in").click()
        portal.wait_for_url("**/portal")
        qr = portal.locator("#member-qr")
        assert qr.locator("svg").get_attribute("aria-label") == "QR code of my card number"
        image = qr.evaluate(RASTERISE)
    grey = np.array(image["grey"], dtype=np.uint8).reshape(image["size"], image["size"])
    scanned = [code.text for code in zxingcpp.read_barcodes(grey)]
    assert scanned == ["card-1001"]

    tablet = {"viewport": {"width": 1024, "height": 768}}
    shot = "test_counter_finds_a_scanned_card"
    with browser_tab(browser, live.base, shot, **tablet) as counter:
        sign_in(counter, "staff")
        counter.get_by_role("link", name="Counter").click()
        counter.wait_for_url("**/counter")
        lookup = counter.get_by_label("Phone or card number")
        assert lookup.evaluate("el => el === document.activeElement")  # ready for the scanner
        counter.keyboard.type(scanned[0])  # a USB scanner types the code, then Enter
        counter.keyboard.press("Enter")
        counter.wait_for_url("**/counter?q=card-1001")
        assert counter.locator("#member-title").inner_text() == "Ann"
        assert counter.locator("#balance-available").inner_text() == "420"
        lookup.fill("13800002002")
        lookup.press("Enter")
        assert counter.locator("#member-title").inner_text() == "Bob"
