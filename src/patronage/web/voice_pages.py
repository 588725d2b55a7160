"""Voice of the customer: survey results (NPS, CSAT and SERVQUAL gaps with their 95%
intervals, and comments) and the complaint queue with its SLA clocks and actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Form, Path, Query, Request, Response

from patronage.domain.complaints import Severity
from patronage.errors import InvalidInput, PatronageError
from patronage.services import complaints as care
from patronage.services.complaint_queue import complaint_queue
from patronage.services.staff_users import StaffUser
from patronage.services.survey_results import GROUPS, survey_comments, survey_results
from patronage.services.surveys import Survey, get_survey, list_surveys
from patronage.storage.complaint_repositories import OPEN_STATUSES
from patronage.web.forms import check_csrf, local_path, parse_day, start_of
from patronage.web.i18n import Translator
from patronage.web.interval_charts import IntervalRow, interval_chart
from patronage.web.page_errors import explain
from patronage.web.render import WebRoute, page, redirect, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RESULT_READERS = ("admin", "analyst")  # as GET /api/v1/surveys/{id}/results
QUEUE_READERS = ("admin", "staff", "analyst")
HANDLERS = ("admin", "staff")
QUEUE = "/voice/complaints"
SurveyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ComplaintId = Annotated[int, Path(ge=1, le=2**62)]
Filter = Annotated[str, Query(max_length=128)]
Text = Annotated[str, Form(max_length=4000)]


def _chosen(value: str) -> str | None:
    return value.strip() or None


def title_of(survey: Survey, lang: str) -> str:
    return survey.title.get(lang) or next(iter(survey.title.values()), survey.code)


# --- surveys ---------------------------------------------------------------------------


@router.get("/voice/surveys")
def surveys(request: Request) -> Response:
    user = require_staff(request, *RESULT_READERS)
    uow = uow_of(request)
    rows = [(s, survey_results(uow, s.id)) for s in list_surveys(uow)]
    return page(request, "voice_surveys.html", user=user, rows=rows, title_of=title_of)


def _period(start: str, end: str) -> tuple[datetime | None, datetime | None]:
    first, last = parse_day(start, "start"), parse_day(end, "end")
    begin = start_of(first) if first else None
    finish = start_of(last + timedelta(days=1)) if last else None
    if begin and finish and finish <= begin:
        raise InvalidInput("the end date is before the start date", field="end")
    return begin, finish


@router.get("/voice/surveys/{survey_id}")
def survey_page(
    request: Request,
    survey_id: SurveyId,
    start: Annotated[str, Query(max_length=10)] = "",
    end: Annotated[str, Query(max_length=10)] = "",
    group_by: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    user = require_staff(request, *RESULT_READERS)
    uow = uow_of(request)
    survey = get_survey(uow, survey_id)
    t = translator(request)
    context: dict[str, Any] = {"start": start, "end": end, "group_by": group_by, "groups": GROUPS}
    try:
        begin, finish = _period(start, end)
        results = survey_results(uow, survey_id, begin, finish, _chosen(group_by))
    except InvalidInput as exc:
        return page(request, "voice_survey.html", 400, user=user, survey=survey,
                    title=title_of(survey, t.lang), results=None, error=explain(t, exc),
                    **context)  # fmt: skip
    return page(
        request,
        "voice_survey.html",
        user=user,
        survey=survey,
        title=title_of(survey, t.lang),
        results=results,
        questions={q.id: q.text.get(t.lang, q.id) for q in survey.questions},
        charts=_survey_charts(t, results),
        comments=survey_comments(uow, survey_id, begin, finish),
        **context,
    )


def _one(found: dict[str, Any], label: str, key: str, overall: bool = False) -> IntervalRow | None:
    if not found.get("n"):
        return None
    low, high = found.get("ci95") or (None, None)
    return IntervalRow(label, found[key], low, high, highlight=overall)


def _survey_charts(t: Translator, results: dict[str, Any]) -> dict[str, Any]:
    charts: dict[str, Any] = {}

    def fmt(value: float) -> str:
        return t.number(round(value, 1))

    for qid, found in results["questions"].items():
        kind = found["type"]
        if kind in ("nps", "csat"):
            found_rows = [_one(found, t("voice.overall"), kind, True)]
            found_rows += [_one(v, g, kind) for g, v in found.get("groups", {}).items()]
            chart_rows = [r for r in found_rows if r is not None]
            reference, limits = (0.0, (-100.0, 100.0)) if kind == "nps" else (None, (0.0, 100.0))
            label = t(f"voice.{kind}_chart")
            charts[qid] = interval_chart(label, chart_rows, fmt, reference, limits)
        elif kind == "servqual" and found.get("n"):
            dims = [
                _gap_row(t(f"voice.dim_{d}"), gap) for d, gap in found["dimensions"].items() if gap
            ]
            dims.append(_gap_row(t("voice.unweighted_total"), found["unweighted_total"]))
            gap_rows = [r for r in dims if r is not None]
            charts[qid] = interval_chart(t("voice.servqual_chart"), gap_rows, fmt)
    return charts


def _gap_row(label: str, gap: dict[str, Any] | None) -> IntervalRow | None:
    if not gap:
        return None
    low, high = gap.get("ci95") or (None, None)
    return IntervalRow(label, gap["gap"], low, high)


# --- the complaint queue ---------------------------------------------------------------


def _queue_page(
    request: Request, user: StaffUser, filters: dict[str, str], status: int = 200, **extra: Any
) -> Response:
    t = translator(request)
    try:
        queue = complaint_queue(
            uow_of(request),
            _chosen(filters.get("status", "")),
            _chosen(filters.get("store", "")),
            _chosen(filters.get("severity", "")),
        )
    except InvalidInput as exc:
        queue, status, extra["error"] = None, 400, explain(t, exc)
    here = f"{QUEUE}?{urlencode(filters)}" if any(filters.values()) else QUEUE
    return page(
        request,
        "voice_complaints.html",
        status,
        user=user,
        queue=queue,
        filters=filters,
        statuses=OPEN_STATUSES,
        severities=[str(s) for s in Severity],
        back=here,
        handler=user.role in HANDLERS,
        **extra,
    )


@router.get(QUEUE)
def queue_page(
    request: Request,
    status: Filter = "",
    store: Filter = "",
    severity: Filter = "",
    done: Annotated[str, Query(max_length=16)] = "",
    complaint: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    user = require_staff(request, *QUEUE_READERS)
    filters = {"status": status, "store": store, "severity": severity}
    flash = {"key": f"voice.done_{done}", "id": complaint} if done in _DONE and complaint else None
    return _queue_page(request, user, filters, flash=flash)


_DONE = ("assigned", "responded", "resolved")


def _after(
    request: Request, user: StaffUser, back: str, action: Any, done: str, cid: int
) -> Response:
    """Run one complaint action; back to the queue (same filters) with a notice, or the
    queue again with the error."""
    target = local_path(back, QUEUE)
    try:
        action()
    except PatronageError as exc:
        filters = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        kept = {k: filters.get(k, "") for k in ("status", "store", "severity")}
        return _queue_page(request, user, kept, 400, error=explain(translator(request), exc),
                           failed=cid)  # fmt: skip
    joiner = "&" if "?" in target else "?"
    return redirect(f"{target}{joiner}done={done}&complaint={cid}#complaint-{cid}")


def _actor(user: StaffUser) -> str:
    return f"web:{user.username}"


@router.post("/voice/complaints/{complaint_id}/assign")
def assign(
    request: Request,
    complaint_id: ComplaintId,
    assignee: Annotated[str, Form(max_length=128)] = "",
    csrf_token: Text = "",
    back: Text = QUEUE,
) -> Response:
    user = require_staff(request, *HANDLERS)
    check_csrf(request, csrf_token)

    def act() -> None:
        care.assign(uow_of(request), complaint_id, assignee.strip(), _actor(user))

    return _after(request, user, back, act, "assigned", complaint_id)


@router.post("/voice/complaints/{complaint_id}/respond")
def respond(
    request: Request,
    complaint_id: ComplaintId,
    message: Text = "",
    wait: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Text = "",
    back: Text = QUEUE,
) -> Response:
    user = require_staff(request, *HANDLERS)
    check_csrf(request, csrf_token)

    def act() -> None:
        care.respond(uow_of(request), complaint_id, message, _actor(user), wait == "yes")

    return _after(request, user, back, act, "responded", complaint_id)


@router.post("/voice/complaints/{complaint_id}/resolve")
def resolve(
    request: Request,
    complaint_id: ComplaintId,
    summary: Text = "",
    csrf_token: Text = "",
    back: Text = QUEUE,
) -> Response:
    user = require_staff(request, *HANDLERS)
    check_csrf(request, csrf_token)

    def act() -> None:
        care.resolve(uow_of(request), complaint_id, summary, _actor(user))

    return _after(request, user, back, act, "resolved", complaint_id)
