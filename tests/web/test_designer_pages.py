"""The program designer's pages over HTTP against the live server, on SQLite and
PostgreSQL: tiers, rules and campaigns (with the CEL check and the simulator), the
reward catalog and coupon batches; CSRF and roles."""

from __future__ import annotations

import csv
import io
import re
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select
from tests.web.conftest import Site

from patronage.domain.coupons import Discount
from patronage.services.background_jobs import recent_jobs
from patronage.services.coupon_batches import NewBatch, create_batch, get_batch, list_batches
from patronage.services.rewards import NewReward, add_reward, get_reward, list_rewards
from patronage.services.rules import get_rule, list_campaigns, list_rules, save_campaign, save_rule
from patronage.services.tier_ladder import program_ladder
from patronage.storage.tables import AuditRow, LedgerEntryRow

BAD_CONDITION = "event.amount >= 100.0 &&"
GOOD_CONDITION = 'event.amount >= 100.0 && member.tier == "gold"'
PAGES = (
    "/designer",
    "/designer/tiers",
    "/designer/rules",
    "/designer/campaigns",
    "/designer/simulate",
    "/designer/rewards",
    "/designer/coupons",
)


def _post(client: httpx.Client, site: Site, path: str, form_path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": site.csrf(client, form_path), **data})


def _rule_form(**changes: str) -> dict[str, str]:
    form = {
        "code": "big-gold",
        "name": "Gold big spenders",
        "event_type": "purchase",
        "condition": GOOD_CONDITION,
        "action": "multiplier",
        "value": "2",
        "priority": "10",
        "status": "active",
    }
    return {**form, **changes}


def _audit_count(site: Site) -> int:
    with site.shop.engine.connect() as conn:
        return int(conn.scalar(select(func.count(AuditRow.id))) or 0)


def _seed(site: Site) -> dict[str, Any]:
    uow = site.shop.uow
    save_campaign(uow(), {"code": "spring", "name": "Spring double", "budget": 5000}, "test")
    rule = {
        "code": "coffee",
        "name": "Coffee bonus",
        "condition": 'event.channel == "app"',
        "action": "bonus",
        "value": 50,
        "campaign": "spring",
    }
    save_rule(uow(), rule, "test")
    reward = add_reward(
        uow(),
        NewReward(
            code="mug",
            name="Travel mug",
            points=1200,
            discount=Discount("free_item", sku="mug"),
            stock=20,
            tier_prices={"gold": 1000},
        ),
        "test",
    )
    batch = create_batch(
        uow(), NewBatch(name="Welcome 10%", discount=Discount("percent", 10)), count=25
    )
    return {"reward": reward, "batch": batch}


def test_every_page_renders_with_content(site: Site) -> None:
    made = _seed(site)
    client = site.sign_in("admin")
    for path in (
        *PAGES,
        "/designer/rules/coffee",
        "/designer/campaigns/spring",
        f"/designer/rewards/{made['reward'].id}",
        f"/designer/coupons/{made['batch'].id}",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'aria-label="Program designer sections"' in page.text, path
        assert '<script src="/static/designer.js" defer>' in page.text, path
    assert ">Coffee bonus</a>" in client.get("/designer/rules").text
    assert "Spring double" in client.get("/designer/campaigns").text
    rewards = client.get("/designer/rewards").text
    assert "Travel mug" in rewards and "1,200" in rewards and "gold: 1,000" in rewards
    batch = client.get(f"/designer/coupons/{made['batch'].id}").text
    assert re.search(r'id="batch-codes">25<', batch) and "10% off" in batch
    tiers = client.get("/designer/tiers").text
    assert "5,000" in tiers and "×1.5" in tiers and 'for="t-gold-threshold"' in tiers
    assert client.get("/static/designer.js").status_code == 200
    assert client.get("/static/designer.css").status_code == 200


def test_pages_speak_chinese_with_local_number_formats(site: Site) -> None:
    _seed(site)
    client = site.sign_in("admin", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    rules = client.get("/designer/rules").text
    assert '<html lang="zh-CN">' in rules and "积分规则" in rules and "新建规则" in rules
    assert "方案设计" in client.get("/dashboard").text  # the link in the main menu
    rewards = client.get("/designer/rewards").text
    assert "奖励目录" in rewards and "1,200" in rewards


def test_empty_states_say_what_to_do(site: Site) -> None:
    client = site.sign_in("admin")
    assert "No rules yet" in client.get("/designer/rules").text
    assert "No campaigns yet" in client.get("/designer/campaigns").text
    assert "The catalog is empty" in client.get("/designer/rewards").text
    assert "No coupon batches yet" in client.get("/designer/coupons").text
    assert client.get("/designer/rules/none-such").status_code == 404


def test_a_bad_expression_is_shown_next_to_the_field_and_nothing_is_saved(site: Site) -> None:
    client = site.sign_in("admin")
    before = _audit_count(site)
    page = _post(
        client, site, "/designer/rules", "/designer/rules", **_rule_form(condition=BAD_CONDITION)
    )
    assert page.status_code == 422
    error = re.search(r'id="f-condition-error"[^>]*>([^<]+)<', page.text)
    assert error and error.group(1).startswith("Line 1, column 25: Syntax error")
    assert 'aria-invalid="true"' in page.text and "Nothing was saved" in page.text
    assert str(escape(BAD_CONDITION)) in page.text  # the admin's text is kept
    assert list_rules(site.shop.uow()) == []
    assert _audit_count(site) == before
    unknown = _post(
        client,
        site,
        "/designer/rules",
        "/designer/rules",
        **_rule_form(item_filter="itm.sku == 'x'"),
    )
    assert unknown.status_code == 422 and "unknown name" in unknown.text
    assert re.search(r'id="f-item_filter-error"[^>]*>Line 1, column 1: unknown name', unknown.text)
    assert list_rules(site.shop.uow()) == []


def test_a_good_rule_is_saved_then_versioned_and_disabled(site: Site) -> None:
    client = site.sign_in("admin")
    made = _post(client, site, "/designer/rules", "/designer/rules", **_rule_form())
    assert (
        made.status_code == 303
        and made.headers["location"] == "/designer/rules/big-gold?done=created"
    )
    rule = get_rule(site.shop.uow(), "big-gold")
    assert rule["condition"] == GOOD_CONDITION and rule["value"] == 2 and rule["version"] == 1
    assert rule["created_by"] == "web:admin"
    again = _post(client, site, "/designer/rules", "/designer/rules", **_rule_form())
    assert again.status_code == 409 and "already exists" in again.text
    changed = _post(
        client,
        site,
        "/designer/rules/big-gold",
        "/designer/rules/big-gold",
        **_rule_form(value="3", limit_count="1", limit_per="day"),
    )
    assert changed.status_code == 303
    rule = get_rule(site.shop.uow(), "big-gold")
    assert (
        rule["version"] == 2 and rule["value"] == 3 and rule["limit"] == {"count": 1, "per": "day"}
    )
    page = client.get("/designer/rules/big-gold").text
    assert "Version 2" in page and "/designer/rules/big-gold?version=1" in page
    bad_edit = _post(
        client,
        site,
        "/designer/rules/big-gold",
        "/designer/rules/big-gold",
        **_rule_form(condition="member.tier"),
    )
    assert bad_edit.status_code == 422 and "must be true or false" in bad_edit.text
    assert get_rule(site.shop.uow(), "big-gold")["version"] == 2
    off = _post(client, site, "/designer/rules/big-gold/disable", "/designer/rules/big-gold")
    assert off.status_code == 303
    assert get_rule(site.shop.uow(), "big-gold")["status"] == "disabled"


def test_a_cashback_rule_keeps_its_cap_and_the_simulator_shows_the_money(site: Site) -> None:
    client = site.sign_in("admin")
    form = _rule_form(
        code="coffee-back", condition="true", action="cashback", value="5", cap_minor="2000"
    )
    made = _post(client, site, "/designer/rules", "/designer/rules", **form)
    assert made.status_code == 303
    rule = get_rule(site.shop.uow(), "coffee-back")
    assert (rule["action"], rule["value"], rule["cap_minor"]) == ("cashback", 5, 2000)
    assert "at most CN¥20.00 per event" in client.get("/designer/rules/coffee-back").text
    renamed = _post(
        client,
        site,
        "/designer/rules/coffee-back",
        "/designer/rules/coffee-back",
        **{**form, "name": "Five percent back"},
    )
    assert renamed.status_code == 303
    assert get_rule(site.shop.uow(), "coffee-back")["cap_minor"] == 2000
    wrong = _post(
        client,
        site,
        "/designer/rules/coffee-back",
        "/designer/rules/coffee-back",
        **{**form, "action": "bonus"},
    )
    assert wrong.status_code == 422 and re.search(r'id="f-cap_minor-error"', wrong.text)
    simulated = _post(
        client,
        site,
        "/designer/simulate",
        "/designer/simulate",
        event_amount="100",
        member_tier="member",
        include_drafts="on",
    )
    assert re.search(r'id="cashback">CN¥5.00<', simulated.text)


def test_the_expression_check_reports_line_and_column(site: Site) -> None:
    client = site.sign_in("admin")
    token = site.csrf(client, "/designer/rules")
    headers = {"X-CSRF-Token": token}
    ok = client.post(
        "/designer/check-expression", json={"expression": GOOD_CONDITION}, headers=headers
    )
    assert ok.status_code == 200 and ok.json() == {
        "valid": True,
        "text": "The expression is valid.",
    }
    bad = client.post(
        "/designer/check-expression",
        json={"expression": "event.amount >\n  && true"},
        headers=headers,
    ).json()
    assert bad["valid"] is False and (bad["line"], bad["column"]) == (2, 3)
    assert bad["text"].startswith("Line 2, column 3: ")
    item = client.post(
        "/designer/check-expression",
        json={"expression": "event.amount > 1.0", "kind": "item_filter"},
        headers=headers,
    ).json()
    assert item["valid"] is False and "unknown name 'event'" in item["message"]
    refused = client.post("/designer/check-expression", json={"expression": "true"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    odd = client.post("/designer/check-expression", json={"expression": 3}, headers=headers)
    assert odd.status_code == 422 and odd.json()["error"]["code"] == "invalid_input"
    anonymous = site.client().post("/designer/check-expression", json={"expression": "true"})
    assert anonymous.status_code == 401
    staff = site.sign_in("staff")
    staff_token = site.csrf(staff, "/counter")
    denied = staff.post(
        "/designer/check-expression",
        json={"expression": "true"},
        headers={"X-CSRF-Token": staff_token},
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"


def test_the_simulator_shows_which_rules_fire_and_why_and_writes_nothing(site: Site) -> None:
    _seed(site)
    save_rule(
        site.shop.uow(),
        {
            "code": "big",
            "name": "Big basket",
            "condition": "event.amount >= 100.0",
            "action": "bonus",
            "value": 30,
        },
        "test",
    )
    client = site.sign_in("analyst")
    form = {
        "event_type": "purchase",
        "event_amount": "120.00",
        "event_channel": "store",
        "event_items": '[{"sku": "latte", "category": "coffee", "quantity": 2, "price": 60}]',
        "member_tier": "member",
        "member_purchase_count": "3",
        "include_drafts": "on",
    }
    page = _post(client, site, "/designer/simulate", "/designer/simulate", **form)
    assert page.status_code == 200
    assert re.search(r'<tr class="fires" data-rule="big">', page.text)
    assert re.search(r'<tr class="quiet" data-rule="coffee">', page.text)
    assert re.search(r'id="base-points">120<', page.text)
    assert re.search(r'id="total-points">150<', page.text)
    assert "Spring double" in page.text  # the campaign and why it gave nothing
    app = _post(
        client, site, "/designer/simulate", "/designer/simulate", **{**form, "event_channel": "app"}
    )
    assert re.search(r'<tr class="fires" data-rule="coffee">', app.text)
    assert re.search(r'id="total-points">200<', app.text)
    with site.shop.engine.connect() as conn:
        assert conn.scalar(select(func.count(LedgerEntryRow.id))) == 0
    bad = _post(
        client, site, "/designer/simulate", "/designer/simulate", **{**form, "event_items": "[{"}
    )
    assert bad.status_code == 422
    assert re.search(r'id="f-event_items-error">This is not valid JSON', bad.text)
    tier = _post(
        client,
        site,
        "/designer/simulate",
        "/designer/simulate",
        **{**form, "member_tier": "platinum"},
    )
    assert tier.status_code == 422 and str(escape("no tier 'platinum'")) in tier.text


def test_tiers_are_changed_with_an_audit_entry_or_refused_whole(site: Site) -> None:
    client = site.sign_in("admin")
    page = _post(
        client,
        site,
        "/designer/tiers/gold",
        "/designer/tiers",
        threshold="6000",
        multiplier="1.75",
        reason="richer gold",
    )
    assert page.status_code == 303 and page.headers["location"] == "/designer/tiers?done=gold"
    gold = program_ladder(site.shop.uow()).tier("gold")
    assert (gold.threshold, gold.multiplier) == (6000, Decimal("1.75"))
    with site.shop.engine.connect() as conn:
        entry = conn.execute(select(AuditRow).where(AuditRow.action == "tier_changed")).one()
    assert entry.actor == "web:admin" and entry.target_id == "default:gold"
    assert entry.before["threshold"] == 5000 and Decimal(entry.before["multiplier"]) == Decimal(
        "1.5"
    )
    assert (
        entry.after == {"threshold": 6000, "multiplier": "1.75"} and entry.reason == "richer gold"
    )
    assert "Tier gold saved." in client.get("/designer/tiers?done=gold").text
    below = _post(
        client,
        site,
        "/designer/tiers/silver",
        "/designer/tiers",
        threshold="7000",
        multiplier="1.25",
        reason="oops",
    )
    assert below.status_code == 422 and "threshold must be above silver" in below.text
    assert re.search(r'id="f-threshold-error"', below.text)
    assert program_ladder(site.shop.uow()).tier("silver").threshold == 1000
    no_reason = _post(
        client,
        site,
        "/designer/tiers/silver",
        "/designer/tiers",
        threshold="900",
        multiplier="1.25",
    )
    assert no_reason.status_code == 422 and re.search(r'id="f-reason-error"', no_reason.text)
    assert client.post("/designer/tiers/silver", data={"threshold": "1"}).status_code == 403


def test_rewards_are_created_repriced_restocked_and_switched(site: Site) -> None:
    client = site.sign_in("admin")
    form = {
        "code": "cinema",
        "name": "Cinema ticket",
        "points": "800",
        "discount_type": "fixed",
        "discount_value": "35.50",
        "stock": "10",
        "price_gold": "600",
        "valid_from": "2026-03-01T09:00",
        "valid_to": "2026-12-31T23:00",
        "key": "k-1",
    }
    bad = _post(
        client, site, "/designer/rewards", "/designer/rewards", **{**form, "points": "many"}
    )
    assert bad.status_code == 422 and re.search(
        r'id="f-points-error">Enter a whole number', bad.text
    )
    assert list_rewards(site.shop.uow()) == []
    made = _post(client, site, "/designer/rewards", "/designer/rewards", **form)
    assert made.status_code == 303
    reward_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    reward = get_reward(site.shop.uow(), reward_id)
    assert reward.discount == {"type": "fixed", "value": 3550, "sku": None}
    assert reward.tier_prices == {"gold": 600} and reward.stock == 10
    assert reward.valid_from is not None and reward.valid_from.hour == 9
    replay = _post(client, site, "/designer/rewards", "/designer/rewards", **form)  # same key
    assert replay.status_code == 303 and len(list_rewards(site.shop.uow())) == 1
    path = f"/designer/rewards/{reward_id}"
    price = _post(
        client,
        site,
        f"{path}/price",
        path,
        points="900",
        price_gold="700",
        price_silver="850",
        valid_from="2026-03-01T09:00",
        valid_to="2027-01-31T23:00",
        reason="new season",
    )
    assert price.status_code == 303
    reward = get_reward(site.shop.uow(), reward_id)
    assert reward.points == 900 and reward.tier_prices == {"gold": 700, "silver": 850}
    assert reward.valid_to is not None and reward.valid_to.year == 2027
    wrong = _post(
        client,
        site,
        f"{path}/price",
        path,
        points="900",
        valid_from="2026-03-01T09:00",
        valid_to="2026-01-01T00:00",
    )
    assert wrong.status_code == 422 and "valid_to must be after valid_from" in wrong.text
    assert get_reward(site.shop.uow(), reward_id).valid_to == reward.valid_to
    stock = _post(client, site, f"{path}/stock", path, add_stock="5", key="s-1")
    assert stock.status_code == 303
    _post(client, site, f"{path}/stock", path, add_stock="5", key="s-1")  # resubmitted
    assert get_reward(site.shop.uow(), reward_id).stock == 15
    off = _post(client, site, f"{path}/active", path, active="off")
    assert off.status_code == 303 and get_reward(site.shop.uow(), reward_id).active is False
    assert "Switched off" in client.get(path).text


def test_coupon_batches_small_at_once_large_in_the_background_and_as_csv(site: Site) -> None:
    client = site.sign_in("admin")
    form = {
        "name": "Spring 5 off",
        "discount_type": "fixed",
        "discount_value": "5",
        "count": "40",
        "key": "b-1",
    }
    made = _post(client, site, "/designer/coupons", "/designer/coupons", **form)
    assert made.status_code == 303 and made.headers["location"].endswith("?done=created")
    small = int(made.headers["location"].split("/")[-1].split("?")[0])
    assert get_batch(site.shop.uow(), small).codes == 40
    rows = list(csv.reader(io.StringIO(client.get(f"/designer/coupons/{small}/codes.csv").text)))
    assert rows[0] == ["code", "redeemed_count"] and len(rows) == 41
    bad = _post(
        client,
        site,
        "/designer/coupons",
        "/designer/coupons",
        **{**form, "key": "b-2", "discount_value": "x"},
    )
    assert bad.status_code == 422 and re.search(r'id="f-discount_value-error"', bad.text)
    big = _post(
        client,
        site,
        "/designer/coupons",
        "/designer/coupons",
        **{**form, "name": "Launch", "count": "25000", "key": "b-3"},
    )
    assert big.status_code == 303
    assert re.fullmatch(r"/designer/coupons/\d+\?job=\d+", big.headers["location"])
    batch_id = int(big.headers["location"].split("/")[-1].split("?")[0])
    job_id = int(big.headers["location"].split("=")[-1])
    progress = _wait_for_job(client, batch_id, job_id)
    assert progress["status"] == "succeeded" and progress["done"] == progress["total"] == 25000
    assert progress["text"] == "25,000 of 25,000 codes generated."
    finished = client.get(big.headers["location"]).text
    assert "The codes are ready." in finished and re.search(r'id="batch-codes">25,000<', finished)
    assert "data-progress-url" not in finished
    other = client.get(f"/designer/coupons/{small}/progress", params={"job": job_id})
    assert other.status_code == 404  # the job is not this batch's
    rows = list(csv.reader(io.StringIO(client.get(f"/designer/coupons/{batch_id}/codes.csv").text)))
    assert len(rows) == 25001 and len({r[0] for r in rows[1:]}) == 25000
    more = _post(
        client,
        site,
        f"/designer/coupons/{batch_id}/codes",
        f"/designer/coupons/{batch_id}",
        count="7",
    )
    assert more.status_code == 303 and get_batch(site.shop.uow(), batch_id).codes == 25007
    analyst = site.sign_in("analyst")
    assert analyst.get(f"/designer/coupons/{batch_id}/codes.csv").status_code == 403


def _wait_for_job(client: httpx.Client, batch_id: int, job_id: int) -> dict[str, Any]:
    """Poll the progress endpoint as the page does, until the background job ends."""
    deadline = time.monotonic() + 120
    while True:
        progress: dict[str, Any] = client.get(
            f"/designer/coupons/{batch_id}/progress", params={"job": job_id}
        ).json()
        if progress["finished"] or time.monotonic() > deadline:
            return progress
        time.sleep(0.2)


def test_a_large_batch_for_a_reward_is_refused_before_any_work(site: Site) -> None:
    _seed(site)
    client = site.sign_in("admin")
    (reward_batch,) = [b.id for b in list_batches(site.shop.uow()) if b.source == "reward"]
    path = f"/designer/coupons/{reward_batch}"
    assert "More codes" not in client.get(path).text
    for count in ("20000", "20"):  # as a background job, and at once
        refused = _post(client, site, f"{path}/codes", path, count=count)
        assert refused.status_code == 422 and "gets its codes when members redeem" in refused.text
    assert get_batch(site.shop.uow(), reward_batch).codes == 0
    assert recent_jobs(site.shop.uow()) == []


def test_campaigns_are_created_with_a_checked_segment(site: Site) -> None:
    client = site.sign_in("admin")
    form = {
        "code": "vip",
        "name": "VIP week",
        "segment": "member.tier = 'gold'",
        "budget": "10,000",
        "cap_day": "200",
        "starts_at": "2026-03-01T00:00",
        "ends_at": "2026-03-08T00:00",
        "stacking": "exclusive",
    }
    bad = _post(client, site, "/designer/campaigns", "/designer/campaigns", **form)
    assert bad.status_code == 422 and re.search(
        r'id="f-segment-error"[^>]*>Line 1, column', bad.text
    )
    assert list_campaigns(site.shop.uow()) == []
    made = _post(
        client,
        site,
        "/designer/campaigns",
        "/designer/campaigns",
        **{**form, "segment": "member.tier == 'gold'"},
    )
    assert made.status_code == 303
    (campaign,) = list_campaigns(site.shop.uow())
    assert campaign["budget"] == 10000 and campaign["caps"] == {"day": 200}
    assert campaign["stacking"] == "exclusive" and campaign["ends_at"].day == 8
    late = _post(
        client,
        site,
        "/designer/campaigns/vip",
        "/designer/campaigns/vip",
        **{**form, "segment": "", "ends_at": "2026-02-01T00:00"},
    )
    assert late.status_code == 422 and re.search(r'id="f-ends_at-error"', late.text)
    off = _post(client, site, "/designer/campaigns/vip/disable", "/designer/campaigns/vip")
    assert off.status_code == 303 and list_campaigns(site.shop.uow())[0]["status"] == "disabled"


@pytest.mark.parametrize(
    ("path", "form_path"),
    [
        ("/designer/rules", "/designer/rules"),
        ("/designer/campaigns", "/designer/campaigns"),
        ("/designer/simulate", "/designer/simulate"),
        ("/designer/rewards", "/designer/rewards"),
        ("/designer/coupons", "/designer/coupons"),
        ("/designer/tiers/gold", "/designer/tiers"),
    ],
)
def test_every_form_needs_its_csrf_token(site: Site, path: str, form_path: str) -> None:
    client = site.sign_in("admin")
    before = _audit_count(site)
    data = {**_rule_form(), "threshold": "1", "multiplier": "1", "reason": "x", "name": "n"}
    response = client.post(path, data={**data, "csrf_token": "forged"})
    assert response.status_code == 403 and "form expired" in response.text
    assert _audit_count(site) == before and list_rules(site.shop.uow()) == []


def test_roles_admin_writes_analyst_reads_staff_is_refused(site: Site) -> None:
    made = _seed(site)
    anonymous = site.client()
    assert anonymous.get("/designer/rules").status_code == 303
    staff = site.sign_in("staff")
    for path in PAGES:
        assert staff.get(path).status_code == 403, path
    assert "/designer" not in staff.get("/counter").text.split("<main")[0]
    analyst = site.sign_in("analyst")
    for path in PAGES:
        page = analyst.get(path)
        assert page.status_code == 200, path
        assert "only an administrator can change it" in page.text
    assert "New rule" not in analyst.get("/designer/rules").text
    assert "Switch off" not in analyst.get(f"/designer/rewards/{made['reward'].id}").text
    token = site.csrf(analyst, "/designer/rules")
    refused = analyst.post("/designer/rules", data={**_rule_form(), "csrf_token": token})
    assert refused.status_code == 403 and "may not do this" in refused.text
    assert [r["code"] for r in list_rules(site.shop.uow())] == ["coffee"]
    refused_tier = analyst.post(
        "/designer/tiers/gold",
        data={"threshold": "1", "multiplier": "1", "reason": "x", "csrf_token": token},
    )
    assert refused_tier.status_code == 403
