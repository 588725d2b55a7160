"""Staff training over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tests.api.conftest import Api
from tests.training_data import plant_spend_effect, write_course

from patronage.domain.training import Quiz, RolePlay
from patronage.services.training import install_course
from patronage.storage.training_tables import QuizAttemptRow
from patronage.storage.uow import UnitOfWork
from patronage.training.starter import load_starter_course

COURSE = load_starter_course("en")
QUIZ = next(a for a in COURSE.activities if isinstance(a, Quiz))
RIGHT = {q.id: sorted(q.correct) for q in QUIZ.questions}
WRONG: dict[str, list[str]] = {q.id: [] for q in QUIZ.questions}


def ready(api: Api, staff_id: str = "s1") -> int:
    """Seed, add a staff member and enroll them in the English course; the enrollment id."""
    seeded = api.request("POST", "/training/seed", json={"languages": ["en"]})
    assert seeded.status_code == 200, seeded.text
    course_id = seeded.json()[0]["id"]
    staff = {"staff_id": staff_id, "name": "Zhao Lei", "store": "bj-02", "role": "cashier"}
    assert api.request("POST", "/training/staff", json=staff).status_code == 201
    body = {"staff_id": staff_id, "course_id": course_id}
    enrolled = api.request("POST", "/training/enrollments", json=body)
    assert enrolled.status_code == 201, enrolled.text
    return int(enrolled.json()["id"])


def attempt(api: Api, enrollment: int, answers: dict[str, Any], role: str = "staff") -> Any:
    body = {"quiz_id": QUIZ.id, "answers": answers, "staff_id": "s1"}
    return api.request("POST", f"/training/enrollments/{enrollment}/attempts", role, json=body)


def test_staff_crud_and_roles(api: Api) -> None:
    body = {"staff_id": "s9", "name": "Chen Jing", "store": "sh-01", "role": "host"}
    assert api.request("POST", "/training/staff", "analyst", json=body).status_code == 403
    assert api.request("POST", "/training/staff", json=body).status_code == 201
    assert api.request("POST", "/training/staff", json=body).status_code == 409
    changed = api.request("PATCH", "/training/staff/s9", json={"store": "sh-02"})
    assert changed.json()["store"] == "sh-02"
    assert api.request("DELETE", "/training/staff/s9").json()["active"] is False
    listed = api.request("GET", "/training/staff?active=false", "analyst").json()
    assert [s["staff_id"] for s in listed] == ["s9"]
    assert api.request("GET", "/training/staff/nobody", "staff").status_code == 404
    assert api.request("GET", "/training/staff", None).status_code == 401


def test_quiz_scoring_and_attempts_policy(api: Api) -> None:
    enrollment = ready(api)
    first = attempt(api, enrollment, WRONG)
    assert first.status_code == 201, first.text
    assert (first.json()["points"], first.json()["passed"]) == (0, False)
    second = attempt(api, enrollment, RIGHT).json()
    assert second["passed"] is True
    assert second["points"] == second["max_points"] == QUIZ.max_points
    assert second["attempts_left"] == 1
    assert attempt(api, enrollment, WRONG).json()["counted_percent"] == 100.0  # highest counts
    refused = attempt(api, enrollment, RIGHT)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "no_attempts_left"
    progress = api.request("GET", f"/training/enrollments/{enrollment}", "analyst").json()
    quiz = progress["modules"][0]["activities"][1]
    assert (quiz["id"], quiz["attempts"], quiz["complete"]) == (QUIZ.id, 3, True)


def test_staff_must_name_their_own_enrollment(api: Api) -> None:
    enrollment = ready(api)
    api.request("POST", "/training/staff", json={"staff_id": "s2", "name": "Other"})
    path = f"/training/enrollments/{enrollment}/attempts"
    anonymous = {"quiz_id": QUIZ.id, "answers": RIGHT}
    assert api.request("POST", path, "staff", json=anonymous).status_code == 422
    other = {**anonymous, "staff_id": "s2"}
    assert api.request("POST", path, "staff", json=other).status_code == 403
    unknown = {**anonymous, "staff_id": "ghost"}
    assert api.request("POST", path, "staff", json=unknown).status_code == 404
    assert api.request("POST", path, "analyst", json=anonymous).status_code == 403
    bad_choice = {"quiz_id": QUIZ.id, "answers": {"q1": ["zz"]}, "staff_id": "s1"}
    assert api.request("POST", path, "staff", json=bad_choice).status_code == 422
    missing = "/training/enrollments/999999/attempts"
    assert api.request("POST", missing, json=anonymous).status_code == 404
    huge = f"/training/enrollments/{2**70}/attempts"
    assert api.request("POST", huge, json=anonymous).status_code == 422


def test_concurrent_attempts_never_exceed_the_maximum(api: Api) -> None:
    enrollment = ready(api)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: attempt(api, enrollment, WRONG).status_code, range(10)))
    assert sorted(statuses) == [201] * 3 + [422] * 7
    with UnitOfWork(api.engine) as uow:
        recorded = uow.session.scalar(
            select(func.count()).where(QuizAttemptRow.enrollment_id == enrollment)
        )
    assert recorded == 3


def finish(api: Api, enrollment: int) -> None:
    base = f"/training/enrollments/{enrollment}"
    for activity in COURSE.activities:
        if isinstance(activity, Quiz):
            body = {"quiz_id": activity.id, "answers": {q.id: sorted(q.correct)
                    for q in activity.questions}, "staff_id": "s1"}  # fmt: skip
            response = api.request("POST", f"{base}/attempts", "staff", json=body)
        elif isinstance(activity, RolePlay):
            ratings = {c.id: c.top for c in activity.rubric.criteria}
            body = {"role_play_id": activity.id, "ratings": ratings}
            response = api.request("POST", f"{base}/role-plays", "staff", json=body)
        else:
            body = {"activity_id": activity.id, "staff_id": "s1"}
            response = api.request("POST", f"{base}/done", "staff", json=body)
        assert response.status_code in (200, 201), response.text


def test_role_play_completion_certificate_and_reports(api: Api) -> None:
    enrollment = ready(api)
    base = f"/training/enrollments/{enrollment}"
    role_play = next(a for a in COURSE.activities if isinstance(a, RolePlay))
    partial = {"role_play_id": role_play.id, "ratings": {"listen": 1}}
    assert api.request("POST", f"{base}/role-plays", json=partial).status_code == 422
    assert api.request("POST", f"{base}/reaction", json={"rating": 5}).status_code == 422
    finish(api, enrollment)
    [cert] = api.request("GET", "/training/certificates?staff_id=s1", "staff").json()
    assert cert["status"] == "valid"
    reaction = {"rating": 5, "relevance": 4, "staff_id": "s1"}
    assert api.request("POST", f"{base}/reaction", "staff", json=reaction).status_code == 201
    report = api.request("GET", "/training/reports/progress", "analyst").json()
    assert [(r["staff_id"], r["percent"]) for r in report] == [("s1", 100.0)]
    levels = api.request("GET", "/training/reports/kirkpatrick", "analyst").json()
    assert levels["level1_reaction"]["mean_rating"] == 5.0
    due = api.request("GET", "/training/reminders?as_of=2027-02-20T00:00:00Z", "analyst")
    assert [r["status"] for r in due.json()] == ["renewal_due"]
    assert api.request("GET", "/training/reminders", "staff").status_code == 403


def test_plans_enroll_their_audience(api: Api) -> None:
    course_id = api.request("POST", "/training/seed", json={}).json()[1]["id"]
    for staff_id, role in (("a", "cashier"), ("b", "chef")):
        api.request("POST", "/training/staff", json={"staff_id": staff_id, "name": staff_id,
                                                     "role": role})  # fmt: skip
    plan = {
        "name": "春季培训",
        "course_id": course_id,
        "goals": ["first response within 2 hours"],
        "roles": ["cashier"],
        "due_at": "2026-05-01T00:00:00+08:00",
        "sessions": [{"title": "Role-play drill", "starts_at": "2026-04-01T09:00:00+08:00",
                      "ends_at": "2026-04-01T11:00:00+08:00"}],
    }  # fmt: skip
    created = api.request("POST", "/training/plans", json=plan)
    assert created.status_code == 201, created.text
    plan_id, session_id = created.json()["id"], created.json()["sessions"][0]["id"]
    assert api.request("POST", f"/training/plans/{plan_id}/enroll").json()["enrolled"] == ["a"]
    mark = {"staff_id": "a", "present": True}
    assert api.request("POST", f"/training/sessions/{session_id}/attendance", json=mark).is_success
    assert api.request("GET", f"/training/plans/{plan_id}").json()["sessions"][0]["present"] == [
        "a"
    ]
    assert (
        api.request("POST", "/training/plans", json={**plan, "course_id": 999}).status_code == 404
    )
    naive = {**plan, "due_at": "2026-05-01T00:00:00"}
    assert api.request("POST", "/training/plans", json=naive).status_code == 422


def test_attendance_completes_a_course_that_asks_for_it(api: Api, tmp_path: Path) -> None:
    folder = write_course(tmp_path, "{kind: attendance, id: drill, title: Drill}")
    course_id = install_course(UnitOfWork(api.engine, api.clock), folder)["id"]
    api.request("POST", "/training/staff", json={"staff_id": "a", "name": "A"})
    enrolled = api.request(
        "POST", "/training/enrollments", json={"staff_id": "a", "course_id": course_id}
    )
    enrollment = enrolled.json()["id"]
    session = {"title": "Drill", "starts_at": "2026-03-02T09:00:00+08:00",
               "ends_at": "2026-03-02T11:00:00+08:00"}  # fmt: skip
    plan = api.request("POST", "/training/plans", json={"name": "Drills", "course_id": course_id,
                                                        "sessions": [session]})  # fmt: skip
    session_id = plan.json()["sessions"][0]["id"]
    done = api.request("POST", f"/training/enrollments/{enrollment}/done", "staff",
                       json={"activity_id": "intro", "staff_id": "a"})  # fmt: skip
    assert done.status_code == 200, done.text
    mark = api.request(
        "POST", f"/training/sessions/{session_id}/attendance", "staff",
        json={"staff_id": "a", "present": True},
    )  # fmt: skip
    assert (mark.status_code, mark.json()["course_completed"]) == (200, True)
    progress = api.request("GET", f"/training/enrollments/{enrollment}", "analyst").json()
    assert progress["percent"] == 100.0 and progress["completed_at"] is not None
    drill = progress["modules"][0]["activities"][1]
    assert (drill["kind"], drill["sessions_attended"], drill["sessions_required"]) == (
        "attendance", 1, 1,
    )  # fmt: skip


def test_impact_from_the_database(api: Api) -> None:
    path = "/training/impact?outcome=spend"
    empty = api.request("GET", path, "analyst")
    assert empty.status_code == 422
    assert api.request("GET", "/training/impact?outcome=happiness", "analyst").status_code == 422
    assert api.request("GET", path, "staff").status_code == 403
    plant_spend_effect(api.engine, api.clock, 8.0, n_staff=24)
    result = api.request("GET", path + "&value_per_unit=1&cost=500", "analyst")
    assert result.status_code == 200, result.text
    payload = result.json()
    low, high = payload["ci95"]
    assert low <= 8.0 <= high
    assert payload["outcome"] == "spend"
    assert payload["roi"]["affected_interactions"] > 0
    assert api.request("GET", path + "&tz=Mars/Olympus", "analyst").status_code == 422
    assert api.request("GET", path + "&value_per_unit=1", "analyst").status_code == 422
