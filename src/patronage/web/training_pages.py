"""Staff training pages: the course catalogue, learner progress per staff member, and
the impact report (training's effect on the customers staff served, with intervals; on
a large data set estimated by a background job while the page shows its progress)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from patronage.errors import InvalidInput
from patronage.services import training, training_progress
from patronage.services.training_evaluation import OUTCOMES, kirkpatrick
from patronage.services.training_impact_jobs import impact_report
from patronage.web.i18n import Translator
from patronage.web.i18n import catalogue as messages
from patronage.web.interval_charts import IntervalRow, interval_chart
from patronage.web.page_errors import explain
from patronage.web.panel_waits import after_retry, start_waiting, waiting_context
from patronage.web.render import WebRoute, page, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ANYONE = ("admin", "staff", "analyst")
REPORT_READERS = ("admin", "analyst")  # as the API's training reports
PERIODS = ("month", "week")
CourseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
StaffId = Annotated[str, Path(min_length=1, max_length=128)]
Filter = Annotated[str, Query(max_length=128)]


@router.get("/training/courses")
def catalogue(request: Request) -> Response:
    user = require_staff(request, *ANYONE)
    courses = training.list_courses(uow_of(request))
    lang = translator(request).lang
    courses.sort(key=lambda c: (c["language"] != lang, c["code"], c["language"]))
    return page(request, "training_courses.html", user=user, courses=courses)


@router.get("/training/courses/{course_id}")
def course(request: Request, course_id: CourseId) -> Response:
    user = require_staff(request, *ANYONE)
    found = training.get_course(uow_of(request), course_id)
    return page(request, "training_course.html", user=user, course=found)


def _course_titles(request: Request) -> dict[int, str]:
    return {c["id"]: c["title"] for c in training.list_courses(uow_of(request))}


def _course_id(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value < 2**31:
        raise InvalidInput("course must be a course id", field="course")
    return value


@router.get("/training/learners")
def learners(request: Request, store: Filter = "", course: Filter = "") -> Response:
    user = require_staff(request, *REPORT_READERS)
    uow = uow_of(request)
    course_id = _course_id(course)
    staff = {s["staff_id"]: s for s in training.list_staff(uow, store.strip() or None)}
    rows = training_progress.learner_report(uow, store.strip() or None, course_id)
    by_staff: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_staff[row["staff_id"]].append(row)
    people = [_learner(s, by_staff.get(sid, [])) for sid, s in sorted(staff.items())]
    if course_id is not None:
        people = [p for p in people if p["enrollments"]]
    stores = sorted({s["store"] for s in training.list_staff(uow) if s["store"]})
    return page(
        request,
        "training_learners.html",
        user=user,
        people=people,
        titles=_course_titles(request),
        stores=stores,
        store=store,
        course=course_id,
    )


def _learner(staff: dict[str, Any], enrollments: list[dict[str, Any]]) -> dict[str, Any]:
    done = sum(1 for e in enrollments if e["completed_at"] is not None)
    mean = sum(e["percent"] for e in enrollments) / len(enrollments) if enrollments else None
    return {
        **staff,
        "enrollments": enrollments,
        "completed": done,
        "overdue": sum(1 for e in enrollments if e["overdue"]),
        "mean_percent": None if mean is None else round(mean, 1),
    }


@router.get("/training/learners/{staff_id}")
def learner(request: Request, staff_id: StaffId) -> Response:
    user = require_staff(request, *REPORT_READERS)
    uow = uow_of(request)
    staff = training.get_staff(uow, staff_id)
    rows = [
        r
        for r in training_progress.learner_report(uow, staff["store"])
        if r["staff_id"] == staff_id
    ]
    progress = [training_progress.get_progress(uow, r["enrollment_id"]) for r in rows]
    modules = {
        c: {m["id"]: m["title"] for m in training.get_course(uow, c)["modules"]}
        for c in {p["course_id"] for p in progress}
    }
    return page(
        request,
        "training_learner.html",
        user=user,
        staff=staff,
        rows=list(zip(rows, progress, strict=True)),
        titles=_course_titles(request),
        modules=modules,
        certificates=training_progress.certificates(uow, staff_id),
    )


# --- impact ------------------------------------------------------------------------------


def _money(text: str, field: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{field} must be a number", field=field) from None
    if not value.is_finite() or value < 0 or value > 10**12:
        raise InvalidInput(f"{field} must be a positive number", field=field)
    return value


def _roi(value_per_unit: str, cost: str) -> tuple[Decimal, Decimal] | None:
    value, spent = _money(value_per_unit, "value_per_unit"), _money(cost, "cost")
    if (value is None) != (spent is None):
        raise InvalidInput("ROI needs both the value per unit and the cost", field="cost")
    if spent is not None and spent == 0:
        raise InvalidInput("cost must be more than zero", field="cost")
    return None if value is None or spent is None else (value, spent)


@router.get("/training/impact")
def impact(
    request: Request,
    outcome: Annotated[str, Query(max_length=64)] = "",
    course: Annotated[str, Query(max_length=64)] = "",
    period: Annotated[str, Query(max_length=8)] = "month",
    value_per_unit: Annotated[str, Query(max_length=20)] = "",
    cost: Annotated[str, Query(max_length=20)] = "",
    retry: Annotated[bool, Query()] = False,
) -> Response:
    user = require_staff(request, *REPORT_READERS)
    uow = uow_of(request)
    t = translator(request)
    form = {"outcome": outcome, "course": course, "period": period,
            "value_per_unit": value_per_unit, "cost": cost}  # fmt: skip
    codes = sorted({c["code"] for c in training.list_courses(uow)})
    context: dict[str, Any] = {"form": form, "outcomes": OUTCOMES, "periods": PERIODS,
                               "codes": codes, "result": None, "levels": None,
                               "waiting": {}}  # fmt: skip
    if not outcome:
        return page(request, "training_impact.html", user=user, **context)
    try:
        roi = _roi(value_per_unit, cost)
        tz = request.app.state.web_timezone
        report = impact_report(uow, outcome, course or None, period, tz, roi,
                               actor=f"web:{user.username}", retry=retry,
                               inline_events=request.app.state.analytics_inline_events)  # fmt: skip
    except InvalidInput as exc:
        return page(request, "training_impact.html", 400, user=user, error=explain(t, exc),
                    **context)  # fmt: skip
    if retry:
        start_waiting(request, [] if report.waiting is None else [report.waiting])
        return after_retry(request)
    context["levels"] = kirkpatrick(uow, course or None)
    if report.waiting is not None:
        waiting = {"impact": report.waiting}
        start_waiting(request, waiting.values())
        context |= waiting_context(request, t, waiting)
        return page(request, "training_impact.html", user=user, **context)
    assert report.result is not None
    known = f"training.outcome_{outcome}" in messages(t.lang)
    context |= {
        "result": report.result,
        "as_of": report.as_of,
        "chart": _event_chart(t, report.result),
        "outcome_label": t(f"training.outcome_{outcome}") if known else outcome,
        "unit": t(f"training.unit_{outcome}") if known else None,
    }
    return page(request, "training_impact.html", user=user, **context)


def _event_chart(t: Translator, result: dict[str, Any]) -> Any:
    rows = []
    for point in result["event_study"]:
        low, high = point["ci95"]
        if point["reference"]:
            label = t("training.reference_period")
        else:
            label = t("training.relative_period", k=f"{point['period']:+d}")
        rows.append(IntervalRow(label, point["effect"], low, high, point["reference"]))
    low, high = result["ci95"]
    rows.append(IntervalRow(t("training.overall_effect"), result["effect"], low, high))

    def fmt(value: float) -> str:
        return t.number(round(value, 2))

    return interval_chart(t("training.event_chart"), rows, fmt)
