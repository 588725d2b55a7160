"""The dashboard's tier, RFM, NPS, complaint SLA and campaign panels over HTTP, on a small
hand-made data set, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from tests.web.conftest import Site

from patronage.domain.surveys import nps_from_counts
from patronage.services import rules
from patronage.services.complaints import NewComplaint, assign, file_complaint, resolve, respond
from patronage.services.survey_responses import record_staff_response
from patronage.services.surveys import define_survey
from patronage.services.tiers import override_tier
from patronage.web.i18n import Translator

NPS_QUESTION = [
    {"id": "nps", "type": "nps", "text": {"zh-CN": "推荐意愿", "en": "Recommend?"}},
    {"id": "why", "type": "text", "text": {"zh-CN": "原因", "en": "Why?"}},
]


def _text(page: httpx.Response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page.text)
    assert match, f"no #{element_id}"
    return match.group(1)


def _section(page: httpx.Response, section_id: str) -> str:
    start = page.text.index(f'id="{section_id}"')
    return page.text[start : page.text.index("</section>", start)]


def test_tier_moves_and_distribution_at_the_end_of_the_range(site: Site) -> None:
    shop = site.shop
    ann, bob, cat = shop.member("ann"), shop.member("bob"), shop.member("cat")
    shop.buy(ann, "1200.00")  # member -> silver
    shop.buy(bob, "6000.00")  # member -> gold
    shop.buy(cat, "1500.00")  # member -> silver, then back to member by hand
    until = shop.clock() + timedelta(days=30)
    override_tier(shop.uow(), cat.id, "member", until, "test", "admin")
    client = site.sign_in("analyst")
    page = client.get("/dashboard")
    moves = _section(page, "tier-moves")
    assert _text(page, "tier-upgrades") == "Upgrades: 3"
    assert _text(page, "tier-downgrades") == "Downgrades: 1"
    rows = re.findall(
        r"<tr><td>(\w+)</td><td>(\w+)</td><td>(\w+)</td><td class=\"num\">(\d+)<", moves
    )
    assert rows == [
        ("Member", "Silver", "Upgrade", "2"),
        ("Member", "Gold", "Upgrade", "1"),
        ("Silver", "Member", "Downgrade", "1"),
    ]
    tiers = page.text[page.text.index("Members by tier") :]
    assert "Member: 1" in tiers and "Silver: 1" in tiers and "Gold: 1" in tiers
    later = client.get("/dashboard", params={"start": "2026-03-11", "end": "2026-03-31"})
    assert "No member changed tier in this range." in later.text
    assert "Member: 1" in later.text and "Gold: 1" in later.text
    before = client.get("/dashboard", params={"start": "2025-01-01", "end": "2025-12-31"})
    assert "No members yet" in before.text  # nobody had joined by then


def _sla_data(site: Site) -> None:
    """Four complaints against the default policy (Mon-Fri 09:00-18:00 Shanghai =
    01:00-10:00 UTC): February D misses both clocks; in March A meets both, B misses
    its first response but is resolved in time, C is still open within its targets."""
    shop, clock = site.shop, site.shop.clock
    clock.now = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
    ann = shop.member("ann")
    shop.buy(ann, "50.00", order_id="A-1", store="shanghai-1")
    clock.now = datetime(2026, 2, 16, 2, 0, tzinfo=UTC)
    _file(site, ann.id, "critical", "D")
    clock.now = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    a = _file(site, ann.id, "high", "A", order_id="A-1")
    b = _file(site, ann.id, "critical", "B")
    clock.advance(hours=1)
    assign(shop.uow(), a, "sam", "test")
    respond(shop.uow(), a, "sorry", "test")
    resolve(shop.uow(), a, "refunded", "test")
    clock.advance(hours=1)  # two business hours: past B's one-hour first response
    assign(shop.uow(), b, "sam", "test")
    respond(shop.uow(), b, "sorry", "test")
    resolve(shop.uow(), b, "replaced", "test")
    clock.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    _file(site, ann.id, "low", "C")
    clock.now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _file(site: Site, member_id: int, severity: str, subject: str, **extra: str) -> int:
    complaint = NewComplaint(member_id, "service", severity, subject, "store", **extra)
    return int(file_complaint(site.shop.uow(), complaint, "test")["id"])


def test_complaint_sla_attainment_exact_figures_and_filters(site: Site) -> None:
    _sla_data(site)
    client = site.sign_in("analyst")
    page = client.get("/dashboard", params={"start": "2026-01-01"})
    assert _text(page, "sla-first_response") == "33.3%"  # met A; missed B, D; C open
    assert _text(page, "sla-resolution") == "66.7%"  # met A, B; missed D; C open
    sla = _section(page, "sla")
    assert "1 met, 2 missed, 1 still open" in sla and "2 met, 1 missed, 1 still open" in sla
    assert '<th scope="row">2026-02</th><td class="num">1</td>' in sla
    assert "0% (0/1)" in sla and "50% (1/2)" in sla and "100% (2/2)" in sla
    march = client.get("/dashboard", params={"start": "2026-03-01"})
    assert _text(march, "sla-first_response") == "50%"
    assert _text(march, "sla-resolution") == "100%"
    store = client.get("/dashboard", params={"start": "2026-01-01", "store": "shanghai-1"})
    assert _text(store, "sla-first_response") == "100%"  # only A is about that store's order
    chinese = site.sign_in("analyst", **{"Accept-Language": "zh-CN"})
    zh = chinese.get("/dashboard", params={"start": "2026-01-01"})
    assert "达成 1 件，未达成 2 件，仍在处理 1 件" in zh.text
    nothing = client.get("/dashboard", params={"start": "2026-03-11", "end": "2026-03-20"})
    assert "No complaints filed in this range." in nothing.text


def test_nps_trend_with_intervals_and_store_filter(site: Site) -> None:
    shop, clock = site.shop, site.shop.clock
    survey = define_survey(shop.uow(), "visit", {"zh-CN": "到店", "en": "Visit"}, NPS_QUESTION)
    clock.now = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    member = shop.member("ann")
    for score in (10, 9, 3):
        record_staff_response(shop.uow(), survey.id, member.id, {"nps": score}, "t", store="sh-1")
    clock.now = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
    for score in (10, 8, 7, 6):
        record_staff_response(shop.uow(), survey.id, member.id, {"nps": score}, "t", store="bj-1")
    record_staff_response(shop.uow(), survey.id, member.id, {"why": "-"}, "t")  # no NPS score
    clock.now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    t = Translator("en")
    total = nps_from_counts(promoters=3, passives=2, detractors=2)
    low, high = (t.number(round(v, 1)) for v in total.ci95)
    client = site.sign_in("analyst")
    page = client.get("/dashboard")
    expected = f"Whole range: NPS 14.3, 95% interval {low} to {high}, from 7 answers."
    assert _text(page, "nps-total") == expected
    nps = _section(page, "nps")
    assert '<th scope="row">2026-02</th><td class="num">3</td><td class="num">33.3</td>' in nps
    assert '<th scope="row">2026-03</th><td class="num">4</td><td class="num">0</td>' in nps
    assert "<desc>NPS per month" in nps and 'class="band"' in nps
    one_store = client.get("/dashboard", params={"store": "bj-1"})
    assert _text(one_store, "nps-total").startswith("Whole range: NPS 0, ")
    empty = client.get("/dashboard", params={"start": "2026-03-11", "end": "2026-03-31"})
    assert "No NPS answers in this range." in empty.text


def test_rfm_segments_and_top_campaigns(site: Site) -> None:
    shop = site.shop
    rules.save_campaign(shop.uow(), {"code": "spring", "name": "Spring double"}, "test")
    rule = {"name": "Spring bonus", "condition": "true", "action": "bonus", "value": 50}
    rules.save_rule(shop.uow(), {**rule, "code": "spring-bonus", "campaign": "spring"}, "test")
    ann, bob = shop.member("ann"), shop.member("bob")
    shop.buy(ann, "100.00", store="sh-1")
    shop.buy(ann, "20.00", store="sh-1", at=shop.clock() - timedelta(days=40))
    shop.buy(bob, "30.00", store="bj-1")
    client = site.sign_in("analyst")
    page = client.get("/dashboard")
    campaigns = _section(page, "campaigns")
    # three awards of 50 points to two members; a point is worth 0.01 minor units
    assert re.search(
        r'Spring double.*?<td class="num">150</td><td class="num">CN¥0\.02<', campaigns
    )
    assert '<td class="num">2</td><td class="num">3</td>' in campaigns
    one_store = _section(client.get("/dashboard", params={"store": "bj-1"}), "campaigns")
    assert (
        '<td class="num">50</td>' in one_store
        and '<td class="num">1</td><td class="num">1</td>' in one_store
    )
    rfm = _section(page, "rfm")
    assert "<desc>" in rfm and "Segments sized by revenue" in rfm
    buyers = re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', rfm)
    assert sum(int(n) for _, n in buyers) == 2
    empty = client.get("/dashboard", params={"start": "2026-03-11", "end": "2026-03-31"})
    assert "No campaign awarded points in this range." in empty.text


def test_dashboard_needs_a_staff_session_and_rejects_bad_dates(site: Site) -> None:
    assert site.client().get("/dashboard").status_code == 303
    client = site.sign_in("staff")
    bad = client.get("/dashboard", params={"start": "2026-13-40"})
    assert bad.status_code == 400
    backwards = client.get("/dashboard", params={"start": "2026-03-01", "end": "2026-02-01"})
    assert backwards.status_code == 400
