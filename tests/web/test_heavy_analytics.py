"""Heavy analytics in the background, against the live server on SQLite and PostgreSQL:
above the inline threshold the dashboard's RFM, 80/20 and cohort panels, and the
training impact report, answer at once with the progress of a background job; the job
computes them, a reload shows the exact figures from the kept result, and new data
computes them again. Ends with the dashboard in headless Chromium."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select
from tests.training_data import plant_spend_effect
from tests.web.conftest import Site, screenshot, sign_in

from patronage.analytics.pareto import gini, top_share
from patronage.errors import InvalidInput
from patronage.services.dashboard import cohort_table, load_dashboard
from patronage.services.training_evaluation import training_impact
from patronage.storage.background_job_tables import BackgroundJobRow
from patronage.web.i18n import Translator

HEAVY_IDS = ("rfm", "lorenz", "cohorts")
THRESHOLD = 3  # events: the data sets below are above it
START, END = datetime(2025, 4, 1, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC)
AXE = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                "best-practice"]}}  # fmt: skip


@pytest.fixture
def background(
    web_server: tuple[FastAPI, str], request: pytest.FixtureRequest
) -> Iterator[FastAPI]:
    """The live server with a small inline threshold (restored afterwards); at the end,
    every job the test started has finished before its database goes."""
    app, _ = web_server
    site: Site = request.getfixturevalue("live" if "live" in request.fixturenames else "site")
    before = app.state.analytics_inline_events
    app.state.analytics_inline_events = THRESHOLD
    yield app
    app.state.analytics_inline_events = before
    _settle(site)


def _settle(site: Site) -> None:
    deadline = time.monotonic() + 120
    unfinished = BackgroundJobRow.status.in_(("queued", "running"))
    while True:
        with site.shop.uow() as uow:
            left = int(uow.session.scalar(select(func.count()).where(unfinished)) or 0)
        if not left:
            return
        assert time.monotonic() < deadline, f"{left} jobs did not finish"
        time.sleep(0.05)


def _text(page: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', page, re.S)
    assert match, f"no #{element_id}"
    return html.unescape(match.group(1).strip())


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def _waiting_jobs(page: str) -> list[int]:
    return [int(j) for j in re.findall(r'data-status-url="/jobs/(\d+)/status"', page)]


def _wait(client: httpx.Client, job_id: int) -> dict[str, Any]:
    """Poll as the page's script does, until the job has finished (a guard, not a timing)."""
    deadline = time.monotonic() + 120
    while True:
        status: dict[str, Any] = client.get(f"/jobs/{job_id}/status").json()
        if status["finished"]:
            return status
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {status}"
        time.sleep(0.05)


def _jobs(site: Site, kind: str) -> int:
    with site.shop.uow() as uow:
        query = select(func.count()).where(BackgroundJobRow.kind == kind)
        return int(uow.session.scalar(query) or 0)


def _purchases(site: Site) -> None:
    """Net spend 150, 200, 300 and 1,400 over three months and two stores."""
    shop = site.shop
    ann, bob, cat, dan = (shop.member(name) for name in ("ann", "bob", "cat", "dan"))
    shop.buy(ann, "100.00", at=datetime(2026, 1, 5, 3, tzinfo=UTC), store="north")
    shop.buy(ann, "80.00", order_id="a-2", at=datetime(2026, 2, 5, 3, tzinfo=UTC))
    shop.refund(ann, "a-2", "30.00", at=datetime(2026, 2, 6, 3, tzinfo=UTC))
    shop.buy(bob, "200.00", at=datetime(2026, 2, 10, 3, tzinfo=UTC), store="north")
    shop.buy(cat, "300.00", at=datetime(2026, 3, 1, 3, tzinfo=UTC))
    shop.buy(dan, "1400.00", at=datetime(2026, 3, 2, 3, tzinfo=UTC), store="north")


def _computed(client: httpx.Client, site: Site, path: str, **params: str) -> str:
    """The page once every job it waits for has finished: no job is left to wait for."""
    page = client.get(path, params=params).text
    jobs = _waiting_jobs(page)
    for job_id in jobs:
        assert _wait(client, job_id)["status"] == "succeeded"
    again = client.get(path, params=params).text
    assert _waiting_jobs(again) == [], "a reload after the jobs must show the results"
    return again


def test_dashboard_heavy_panels_run_in_the_background(site: Site, background: FastAPI) -> None:
    _purchases(site)
    client = site.sign_in("analyst")
    first = client.get("/dashboard")
    assert first.status_code == 200
    for panel in HEAVY_IDS:  # the page answered without them: a progress bar each
        waiting = _section(first.text, panel)
        assert f'id="wait-{panel}"' in waiting and "<progress" in waiting
        assert 'href="/dashboard?' in waiting  # a reload link works without JavaScript
    assert "lorenz-summary" not in first.text and "/static/job_progress.js" in first.text
    assert _text(first.text, "kpi-active") == "4"  # the cheap panels are there at once
    jobs = _waiting_jobs(first.text)
    assert len(jobs) == 3 and _jobs(site, "dashboard_panel") == 3
    again = client.get("/dashboard").text  # a reload while they run follows the same jobs
    assert set(_waiting_jobs(again)) <= set(jobs)
    for job_id in jobs:
        assert _wait(client, job_id)["status"] == "succeeded"
    shown = client.get("/dashboard").text
    assert _waiting_jobs(shown) == [] and "/static/job_progress.js" not in shown
    assert _jobs(site, "dashboard_panel") == 3  # kept: nothing computed again

    t = Translator("en")
    spend = np.array([15000, 20000, 30000, 140000], dtype=np.float64)
    summary = f"{t('dashboard.top_fifth', share=t.percent(top_share(spend, 0.2)))} · Gini "
    assert _text(shown, "lorenz-summary") == summary + t.number(round(gini(spend), 2))
    pairs = [(1, "2026-01"), (1, "2026-02"), (2, "2026-02"), (3, "2026-03"), (4, "2026-03")]
    cohorts = re.sub(r'<td style="[^"]*">', "<td>", _section(shown, "cohorts"))
    for row in cohort_table(pairs):
        cells = "".join(f"<td>{t.percent(share)}</td>" for share in row["retention"])
        head = f'<th scope="row">{row["cohort"]}</th><td>{row["customers"]}</td>'
        assert f"{head}\n{cells}</tr>" in cohorts, row
    expected = load_dashboard(site.shop.uow(), START, END, None)  # the analytics inline
    rfm = _section(shown, "rfm")
    for segment in expected.insights.rfm_segments:
        if segment["customers"]:
            name = t(f"rfm.{segment['slug']}")
            assert f'<th scope="row">{name}</th><td class="num">{segment["customers"]}<' in rfm

    background.state.analytics_inline_events = 10**6  # the same page computed inline
    inline = client.get("/dashboard").text
    background.state.analytics_inline_events = THRESHOLD
    for panel in HEAVY_IDS:
        assert _section(shown, panel) == _section(inline, panel), panel

    site.shop.clock.now = datetime(2026, 3, 10, 16, tzinfo=UTC)
    site.shop.buy(site.shop.member("eve"), "5000.00")  # new data: a new version
    changed = client.get("/dashboard").text
    assert len(_waiting_jobs(changed)) == 3 and _jobs(site, "dashboard_panel") == 6
    later = _computed(client, site, "/dashboard")
    spend = np.append(spend, 500000)
    assert _text(later, "lorenz-summary").endswith(t.number(round(gini(spend), 2)))


def test_filters_are_kept_apart_and_staff_can_follow_the_progress(
    site: Site, background: FastAPI
) -> None:
    _purchases(site)
    staff = site.sign_in("staff")  # the dashboard is for every role, so is its progress
    whole = _computed(staff, site, "/dashboard")
    north = _computed(staff, site, "/dashboard", store="north")
    assert _jobs(site, "dashboard_panel") == 6  # one job per panel and filters
    t = Translator("en")
    spend = np.array([10000, 20000, 140000], dtype=np.float64)  # in the north store
    assert _text(north, "lorenz-summary").endswith(t.number(round(gini(spend), 2)))
    assert _text(whole, "lorenz-summary") != _text(north, "lorenz-summary")
    job = _waiting_jobs(staff.get("/dashboard", params={"start": "2026-02-01"}).text)[0]
    assert staff.get(f"/jobs/{job}/status").status_code == 200
    assert staff.get(f"/jobs/{job}").status_code == 403  # the operations pages are not
    analyst = site.sign_in("analyst")
    _wait(analyst, job)
    page = analyst.get(f"/jobs/{job}").text
    assert "Dashboard panel" in page and _text(page, "result-kept").startswith("The result is")
    assert "Dashboard panel" in analyst.get("/jobs").text
    retried = staff.get("/dashboard", params={"store": "north", "retry": "1"})
    assert retried.status_code == 303  # queues failed panels again, then the page without it
    assert retried.headers["location"] == "/dashboard?store=north"
    assert _jobs(site, "dashboard_panel") == 9  # nothing had failed: nothing new


def test_training_impact_runs_in_the_background(site: Site, background: FastAPI) -> None:
    plant_spend_effect(site.shop.engine, site.shop.clock, 8.0, n_staff=24)
    client = site.sign_in("analyst")
    query = {"outcome": "spend", "value_per_unit": "1", "cost": "500"}
    first = client.get("/training/impact", params=query)
    assert first.status_code == 200 and 'id="wait-impact"' in first.text
    assert 'id="effect"' not in first.text and "Reaction (level 1)" in first.text  # inline
    (job,) = _waiting_jobs(first.text)
    assert _wait(client, job)["status"] == "succeeded"
    page = client.get("/training/impact", params=query).text
    expected = training_impact(site.shop.uow(), "spend", roi=(Decimal(1), Decimal(500)))
    low, high = expected["ci95"]
    t = Translator("en")
    assert _text(page, "effect") == t.number(round(expected["effect"], 2))
    assert _text(page, "effect-ci") == f"{t.number(round(low, 2))} – {t.number(round(high, 2))}"
    assert _text(page, "staff-treated") == str(expected["staff_treated"])
    study = page[page.index('id="event-study"') :]
    assert study.count("<tr>") == len(expected["event_study"]) + 1
    assert t.number(expected["roi"]["roi_percent"]) in _text(page, "roi")
    assert "Estimated on" in _text(page, "impact-as-of")
    dearer = client.get("/training/impact", params={**query, "cost": "900"}).text
    other = training_impact(site.shop.uow(), "spend", roi=(Decimal(1), Decimal(900)))
    assert t.number(other["roi"]["roi_percent"]) in _text(dearer, "roi")
    assert _jobs(site, "training_impact") == 1  # the ROI comes from the kept estimate

    site.shop.buy(site.shop.member("new"), "20.00", staff_id="s01")
    changed = client.get("/training/impact", params=query).text
    assert len(_waiting_jobs(changed)) == 1 and _jobs(site, "training_impact") == 2
    _computed(client, site, "/training/impact", **query)


def test_training_impact_the_data_cannot_support_is_kept_as_an_answer(
    site: Site, background: FastAPI
) -> None:
    plant_spend_effect(site.shop.engine, site.shop.clock, 8.0, n_staff=24)
    client = site.sign_in("analyst")
    query = {"outcome": "spend", "course": "no-such-course"}
    (job,) = _waiting_jobs(client.get("/training/impact", params=query).text)
    assert _wait(client, job)["status"] == "succeeded"
    refused = client.get("/training/impact", params=query)
    assert refused.status_code == 400
    with pytest.raises(InvalidInput) as inline:  # what the report says when computed inline
        training_impact(site.shop.uow(), "spend", course="no-such-course")
    assert f"({inline.value.message})" in html.unescape(refused.text)
    assert _jobs(site, "training_impact") == 1
    bad = client.get("/training/impact", params={"outcome": "happiness"})
    assert bad.status_code == 400 and "outcome must be one of" in bad.text
    assert _jobs(site, "training_impact") == 1  # a bad query is refused before any job


@pytest.mark.browser
def test_dashboard_placeholder_turns_into_the_chart(
    page: Page, live: Site, background: FastAPI
) -> None:
    """The page's own progress requests reach the server; until the placeholders have been
    audited (axe, WCAG 2.1 A/AA) the test holds back the news that a job has finished."""
    _purchases(live)
    polls: list[dict[str, Any]] = []
    held = {"back": True}

    def status(route: Route) -> None:
        real = route.fetch()
        job = real.json()
        polls.append(job)
        if held["back"] and job["finished"]:
            job = {**job, "finished": False, "status": "running", "status_label": "Running"}
        route.fulfill(response=real, json=job)

    page.route("**/jobs/*/status", status)
    sign_in(page, "analyst")  # lands on the dashboard, which queues the panels' jobs
    response = page.goto("/dashboard?store=north")
    assert response is not None and response.status == 200
    for panel in HEAVY_IDS:
        expect(page.locator(f"#wait-{panel} progress")).to_be_visible()
    expect(page.locator("#wait-lorenz [data-job-count]")).not_to_be_empty()
    page.wait_for_function("document.querySelectorAll('[data-status-url]').length === 3")
    results = Axe().run(page, options=AXE).response
    assert [v["id"] for v in results["violations"]] == []
    screenshot(page, "test_dashboard_placeholder_waiting")
    assert page.locator("#lorenz-summary").count() == 0
    held["back"] = False  # the next poll tells the truth: the page reloads with the charts
    page.locator("#lorenz-summary").wait_for(timeout=120_000)
    expect(page.locator("#lorenz svg")).to_be_visible()
    assert page.locator(".analytics-wait").count() == 0
    assert page.locator("#rfm svg").count() >= 1 and page.locator("#cohorts table").count() == 1
    assert any(job["finished"] for job in polls), "the page never saw a job finish"
