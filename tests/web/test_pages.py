"""The pages over HTTP against a live server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from tests.web.conftest import PASSWORDS, Site

from patronage.services.portal_codes import issue_portal_code
from patronage.storage.tables import LedgerEntryRow


def _post(site: Site, client: object, path: str, form_path: str, **data: str) -> object:
    token = site.csrf(client, form_path)  # type: ignore[arg-type]
    return client.post(path, data={"csrf_token": token, **data})  # type: ignore[attr-defined]


def test_pages_need_a_session(site: Site) -> None:
    client = site.client()
    response = client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert client.get("/").headers["location"] == "/login"


def test_sign_in_sets_a_signed_httponly_session(site: Site) -> None:
    client = site.client()
    token = site.csrf(client, "/login")
    response = client.post(
        "/login", data={"username": "admin", "password": PASSWORDS["admin"], "csrf_token": token}
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "patronage_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert PASSWORDS["admin"] not in cookie
    client.cookies.set("patronage_session", "forged.value")
    assert client.get("/dashboard").status_code == 303


def test_wrong_password_then_lock_out_after_five_failures(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        token = site.csrf(client, "/login")
        page = client.post(
            "/login", data={"username": "staff", "password": "wrong", "csrf_token": token}
        )
        assert page.status_code == 200 and "Wrong username or password" in page.text
    token = site.csrf(client, "/login")
    right = client.post(
        "/login", data={"username": "staff", "password": PASSWORDS["staff"], "csrf_token": token}
    )
    assert right.status_code == 200 and "Too many failed attempts" in right.text
    site.shop.clock.advance(minutes=16)
    site.sign_in("staff")


def test_a_form_without_the_csrf_token_is_refused(site: Site) -> None:
    client = site.client()
    response = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert response.status_code == 403
    assert "form expired" in response.text


def test_dashboard_shows_the_programs_figures(site: Site) -> None:
    shop = site.shop
    ann, bob = shop.member("c-1", phone="13800000001"), shop.member("c-2")
    shop.buy(ann, "120.00", store="shanghai-1", at=shop.clock() - timedelta(days=40))
    shop.buy(ann, "80.00", store="shanghai-1")
    shop.buy(bob, "30.00", store="online")
    client = site.sign_in("analyst")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert re.search(r'id="kpi-active">2<', page.text)
    assert "<svg" in page.text and "shanghai-1" in page.text and "2026-03" in page.text
    one_store = client.get("/dashboard", params={"store": "online"})
    assert re.search(r'id="kpi-active">1<', one_store.text)


def test_dashboard_empty_state(site: Site) -> None:
    page = site.sign_in().get("/dashboard")
    assert page.status_code == 200 and "No members yet" in page.text


def test_member_lookup_and_redemption(site: Site) -> None:
    shop = site.shop
    ann = shop.member("card-77", phone="13800000077", name="Ann")
    shop.buy(ann, "500.00")
    client = site.sign_in("staff")
    found = client.get("/members", params={"q": "13800000077"})
    assert found.status_code == 303 and found.headers["location"] == f"/members/{ann.id}"
    page = client.get(f"/members/{ann.id}")
    assert "Ann" in page.text and 'id="balance-available">500<' in page.text
    assert 'id="offer-title">Next best offer<' in page.text
    done = _post(site, client, f"/members/{ann.id}/redeem", f"/members/{ann.id}", points="200")
    assert done.status_code == 303  # type: ignore[attr-defined]
    after = client.get(done.headers["location"])  # type: ignore[attr-defined]
    assert "Redeemed 200 points" in after.text and 'id="balance-available">300<' in after.text
    missing = client.get("/members", params={"q": "nobody"})
    assert "No member found" in missing.text


def test_insufficient_points_in_chinese(site: Site) -> None:
    ann = site.shop.member("card-1")
    site.shop.buy(ann, "10.00")
    client = site.sign_in("staff", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    page = _post(
        site,
        client,
        "/counter/redeem",
        f"/counter?member={ann.id}",
        points="999",
        member_id=str(ann.id),
    )
    assert page.status_code == 200  # type: ignore[attr-defined]
    assert "积分不足：需要 999，可用 10。" in page.text  # type: ignore[attr-defined]
    assert '<html lang="zh-CN">' in page.text  # type: ignore[attr-defined]


def test_roles_decide_the_actions(site: Site) -> None:
    ann = site.shop.member("card-1")
    analyst = site.sign_in("analyst")
    assert 'action="/members/' not in analyst.get(f"/members/{ann.id}").text.split("redeem")[0]
    refused = _post(site, analyst, f"/members/{ann.id}/redeem", f"/members/{ann.id}", points="1")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    staff = site.sign_in("staff")
    adjust = _post(
        site,
        staff,
        f"/members/{ann.id}/adjust",
        f"/members/{ann.id}",
        points="5",
        reason="goodwill",
    )
    assert adjust.status_code == 403  # type: ignore[attr-defined]
    assert staff.get("/counter").status_code == 200
    assert analyst.get("/counter").status_code == 403


def test_admin_adjusts_with_a_reason(site: Site) -> None:
    ann = site.shop.member("card-1")
    admin = site.sign_in("admin")
    no_reason = _post(site, admin, f"/members/{ann.id}/adjust", f"/members/{ann.id}", points="50")
    assert "a value is missing" in no_reason.text  # type: ignore[attr-defined]
    done = _post(
        site,
        admin,
        f"/members/{ann.id}/adjust",
        f"/members/{ann.id}",
        points="50",
        reason="goodwill",
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    with site.shop.uow() as uow:
        entry = uow.session.scalars(select(LedgerEntryRow)).one()
        assert (entry.kind, entry.points, entry.actor) == ("adjust", 50, "web:admin")


def test_counter_records_a_purchase_once(site: Site) -> None:
    ann = site.shop.member("card-1", phone="13800000001")
    client = site.sign_in("staff")
    page = client.get("/counter", params={"q": "card-1"})
    key = re.search(r'name="key" value="([^"]+-p)"', page.text)
    assert key
    form = {"member_id": str(ann.id), "amount": "88.50", "key": key.group(1)}
    first = _post(site, client, "/counter/purchase", "/counter", **form)
    again = _post(site, client, "/counter/purchase", "/counter", **form)
    assert first.status_code == again.status_code == 303  # type: ignore[attr-defined]
    shown = client.get(first.headers["location"])  # type: ignore[attr-defined]
    assert "Purchase recorded: 88 points earned" in shown.text
    assert 'id="balance-available">88<' in shown.text


def test_member_portal_with_a_one_time_code(site: Site) -> None:
    ann = site.shop.member("card-9", phone="13900000009", name="Ann")
    site.shop.buy(ann, "42.00")
    code = issue_portal_code(site.shop.uow(), ann.id)
    client = site.client()
    assert client.get("/portal").headers["location"] == "/portal/login"
    wrong = _post(
        site,
        client,
        "/portal/login",
        "/portal/login",
        identifier="card-9",
        code="000000" if code != "000000" else "111111",
    )
    assert "wrong or has expired" in wrong.text  # type: ignore[attr-defined]
    ok = _post(site, client, "/portal/login", "/portal/login", identifier="13900000009", code=code)
    assert ok.status_code == 303  # type: ignore[attr-defined]
    home = client.get("/portal")
    assert 'id="portal-available">42' in home.text and "Hello, Ann" in home.text
    other = site.client()
    reused = _post(site, other, "/portal/login", "/portal/login", identifier="card-9", code=code)
    assert "wrong or has expired" in reused.text  # type: ignore[attr-defined]
    assert client.get("/dashboard").status_code == 303  # a member is not staff


def test_portal_codes_expire_after_ten_minutes(site: Site) -> None:
    ann = site.shop.member("card-9")
    code = issue_portal_code(site.shop.uow(), ann.id)
    site.shop.clock.advance(minutes=11)
    client = site.client()
    late = _post(site, client, "/portal/login", "/portal/login", identifier="card-9", code=code)
    assert "wrong or has expired" in late.text  # type: ignore[attr-defined]


def test_language_from_browser_then_cookie(site: Site) -> None:
    client = site.client(**{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "员工登录" in client.get("/login").text
    switch = client.get("/lang/en", params={"next": "/login"})
    assert switch.status_code == 303 and switch.headers["location"] == "/login"
    assert "Staff sign-in" in client.get("/login").text
    evil = client.get("/lang/en", params={"next": "//evil.example/"})
    assert evil.headers["location"] == "/"
