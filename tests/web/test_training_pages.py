"""Training pages over HTTP against a live server, on SQLite and PostgreSQL: the course
catalogue, learner progress per staff member and the impact report."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from babel.numbers import format_decimal
from tests.training_data import plant_spend_effect
from tests.web.conftest import Site

from patronage.services import training
from patronage.services.training_evaluation import training_impact
from patronage.services.training_progress import mark_done
from patronage.training.starter import load_starter_course

COURSE = load_starter_course("en")


def _text(page: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', page, re.S)
    assert match, f"no #{element_id}"
    return html.unescape(match.group(1).strip())


def _number(value: float) -> str:
    return str(format_decimal(round(value, 2), locale="en"))


def _row(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</tr>", start)]


def test_catalogue_lists_the_courses_and_their_modules(site: Site) -> None:
    client = site.sign_in("staff")
    empty = client.get("/training/courses")
    assert empty.status_code == 200 and "No courses yet" in _text(empty.text, "catalogue-empty")
    seeded = training.seed_curriculum(site.shop.uow(), ["zh-CN", "en"])
    page = client.get("/training/courses").text
    titles = re.findall(r'<a href="/training/courses/(\d+)" lang="([^"]+)">', page)
    assert [lang for _, lang in titles] == ["en", "zh-CN"]  # the page's language first
    english = next(c["id"] for c in seeded if c["language"] == "en")
    course = client.get(f"/training/courses/{english}").text
    assert course.count('<section class="card" aria-labelledby="module-') == len(COURSE.modules)
    assert html.escape(COURSE.modules[0].title) in course
    assert "Role play" in course and "Case study" in course
    assert client.get("/training/courses/999").status_code == 404


def _learners(site: Site) -> dict[str, int]:
    uow = site.shop.uow
    course_id = training.seed_curriculum(uow(), ["en"])[0]["id"]
    training.add_staff(uow(), "s1", "Zhao Lei", "bj-02", "cashier")
    training.add_staff(uow(), "s2", "Chen Jing", "sh-01", "host")
    training.add_staff(uow(), "s3", "Wang Fang", "bj-02", "cashier")
    now = site.shop.clock()
    first = training.enroll(uow(), "s1", course_id, now + timedelta(days=30))["id"]
    late = training.enroll(uow(), "s2", course_id, now - timedelta(days=1))["id"]
    for activity in ("foundations-lesson", "foundations-case"):
        mark_done(uow(), first, activity, "s1")
    return {"course": course_id, "first": first, "late": late}


def test_learner_progress_per_staff_member(site: Site) -> None:
    ids = _learners(site)
    client = site.sign_in("analyst")
    page = client.get("/training/learners").text
    zhao = _row(page, "learner-s1")
    assert "Zhao Lei" in zhao and "6.1%" in zhao  # 2 of 33 activities
    assert re.search(r'class="num ">0</td>', zhao)  # not overdue
    chen = _row(page, "learner-s2")
    assert re.search(r'class="num neg">1</td>', chen) and "0%" in chen
    assert "Not enrolled in any course" in _row(page, "learner-s3")
    beijing = client.get("/training/learners", params={"store": "bj-02"}).text
    assert re.findall(r'id="learner-(s\d)"', beijing) == ["s1", "s3"]
    enrolled = client.get("/training/learners", params={"course": str(ids["course"])}).text
    assert re.findall(r'id="learner-(s\d)"', enrolled) == ["s1", "s2"]
    detail = client.get("/training/learners/s1").text
    module = html.escape(COURSE.modules[0].title)
    assert re.search(rf"{re.escape(module)}</th><td>.*?50%", detail, re.S)
    assert "Due " in detail and "No certificates yet." in detail
    assert "Overdue since" in client.get("/training/learners/s2").text
    assert client.get("/training/learners/nobody").status_code == 404
    assert client.get("/training/learners", params={"course": "x"}).status_code == 400


def test_learner_pages_empty_state_and_roles(site: Site) -> None:
    client = site.sign_in("admin")
    empty = client.get("/training/learners")
    assert "No staff members match" in _text(empty.text, "learners-empty")
    staff = site.sign_in("staff")
    assert staff.get("/training/learners").status_code == 403
    assert staff.get("/training/impact").status_code == 403
    assert site.client().get("/training/courses").status_code == 303


def test_impact_report_shows_the_effect_with_its_interval(site: Site) -> None:
    client = site.sign_in("analyst")
    start = client.get("/training/impact")
    assert start.status_code == 200 and "Choose a customer measure" in start.text
    empty = client.get("/training/impact", params={"outcome": "spend"})
    assert empty.status_code == 400 and 'id="form-error"' in empty.text
    plant_spend_effect(site.shop.engine, site.shop.clock, 8.0, n_staff=24)
    query = {"outcome": "spend", "value_per_unit": "1", "cost": "500"}
    page = client.get("/training/impact", params=query).text
    expected = training_impact(site.shop.uow(), "spend")
    low, high = expected["ci95"]
    assert low <= 8.0 <= high
    assert _text(page, "effect") == _number(expected["effect"])
    assert _text(page, "effect-ci") == f"{_number(low)} – {_number(high)}"
    assert _text(page, "staff-treated") == str(expected["staff_treated"])
    assert "after training, this measure went up" in page
    study = page[page.index('id="event-study"') :]
    assert study.count("<tr>") == len(expected["event_study"]) + 1  # and the header
    assert "(reference)" in study and 'id="roi"' in page
    bad = client.get("/training/impact", params={"outcome": "spend", "cost": "abc"})
    assert bad.status_code == 400 and "cost must be a number" in bad.text
    unknown = client.get("/training/impact", params={"outcome": "happiness"})
    assert unknown.status_code == 400 and "outcome must be one of" in unknown.text
