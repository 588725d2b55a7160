"""Coupon batches in the program designer: the list with a form for a new batch, one
batch with a form for more codes, and its codes as CSV.

Up to ``INLINE_MAX`` codes (well under a second) are made while the page waits. More are
a background job (services.background_jobs): the page answers at once, the job makes the
codes after the response in steps, each in its own transaction and run once per form
submission (a resubmitted form adds nothing twice), and the batch page shows the job's
progress, its end or its error (a JSON endpoint the page polls)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from patronage.domain.coupons import DISCOUNT_TYPES
from patronage.errors import InvalidInput, NotFound, PatronageError
from patronage.http.errors import error_body
from patronage.services.background_jobs import JobView, job_view, queue_coupon_codes, run_job
from patronage.services.coupon_batches import (
    NewBatch,
    batch_codes,
    create_batch,
    generate_more,
    get_batch,
    list_batches,
)
from patronage.services.staff_users import StaffUser
from patronage.services.tier_ladder import program_ladder
from patronage.storage.uow import UnitOfWork
from patronage.web.designer_forms import (
    PROGRAM,
    READERS,
    WRITERS,
    actor,
    discount,
    local_time,
    refusal,
    require_writer,
    whole,
)
from patronage.web.i18n import Translator
from patronage.web.render import (
    WebRoute,
    json_refusal,
    page,
    redirect,
    require_staff,
    translator,
    uow_of,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
progress = APIRouter(include_in_schema=False)
BatchId = Annotated[int, Path(ge=1, le=2**62)]
INLINE_MAX = 10_000
MAX_COUNT = 1_000_000
CSV_PAGE = 10_000


class BatchForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(default="", max_length=200)
    discount_type: str = Field(default="percent", max_length=16)
    discount_value: str = Field(default="", max_length=20)
    discount_sku: str = Field(default="", max_length=128)
    count: str = Field(default="", max_length=12)
    max_redemptions: str = Field(default="1", max_length=12)
    per_member_limit: str = Field(default="", max_length=12)
    valid_from: str = Field(default="", max_length=32)
    expires_at: str = Field(default="", max_length=32)
    campaign_id: str = Field(default="", max_length=64)
    code_length: str = Field(default="10", max_length=4)
    csrf_token: str = Field(default="", max_length=200)
    key: str = Field(default="", max_length=64)

    def request(self, timezone: str) -> NewBatch:
        return NewBatch(
            name=self.name.strip(),
            discount=discount(self.discount_type, self.discount_value, self.discount_sku),
            program=PROGRAM,
            max_redemptions=whole(self.max_redemptions, "max_redemptions") or 0,
            per_member_limit=whole(self.per_member_limit, "per_member_limit", optional=True),
            valid_from=local_time(self.valid_from, "valid_from", timezone),
            expires_at=local_time(self.expires_at, "expires_at", timezone),
            campaign_id=self.campaign_id.strip() or None,
            code_length=whole(self.code_length, "code_length") or 0,
        )


def _count(text: str, field: str = "count") -> int:
    count = whole(text, field) or 0
    if not 0 <= count <= MAX_COUNT:
        raise InvalidInput(
            f"count must be between 0 and {MAX_COUNT}",
            code="count_range",
            field=field,
            maximum=MAX_COUNT,
        )
    return count


def _in_background(
    request: Request, tasks: BackgroundTasks, batch_id: int, count: int, key: str, who: str
) -> JobView:
    """Queue the codes as a job, run after the response is sent."""
    job = queue_coupon_codes(uow_of(request), batch_id, count, key, who, PROGRAM)
    state = request.app.state
    tasks.add_task(run_job, UnitOfWork(state.engine, state.clock), job.id)
    return job


def _list_page(request: Request, user: StaffUser, status: int = 200, **context: Any) -> Response:
    uow = uow_of(request)
    context.setdefault("form", BatchForm())
    return page(
        request,
        "designer_coupons.html",
        status,
        user=user,
        batches=list_batches(uow, PROGRAM),
        currency=program_ladder(uow, PROGRAM).currency,
        discount_types=DISCOUNT_TYPES,
        form_key=uuid.uuid4().hex,
        inline_max=INLINE_MAX,
        designer_section="coupons",
        **context,
    )


@router.get("/designer/coupons")
def coupons_page(request: Request) -> Response:
    user = require_staff(request, *READERS)
    return _list_page(request, user)


@router.post("/designer/coupons")
def create(
    request: Request, form: Annotated[BatchForm, Form()], tasks: BackgroundTasks
) -> Response:
    user = require_writer(request, form.csrf_token)
    key = form.key or uuid.uuid4().hex
    try:
        count = _count(form.count)
        now = count if count <= INLINE_MAX else 0
        new = form.request(translator(request).timezone)
        made = create_batch(uow_of(request), new, now, actor(user.username), f"web:{key}")
    except PatronageError as exc:
        return _list_page(request, user, form=form, **refusal(request, exc))
    if count > INLINE_MAX:
        job = _in_background(request, tasks, made.id, count, f"web:{key}", actor(user.username))
        return redirect(f"/designer/coupons/{made.id}?job={job.id}")
    return redirect(f"/designer/coupons/{made.id}?done=created")


def _job_of(request: Request, batch_id: int, job_id: int | None) -> JobView | None:
    """The batch's code generation job the page was sent to follow, if it is one."""
    if job_id is None:
        return None
    try:
        job = job_view(uow_of(request), job_id)
    except NotFound:
        return None
    return job if job.params.get("batch_id") == batch_id else None


def _batch_page(
    request: Request, user: StaffUser, batch_id: int, status: int = 200, **context: Any
) -> Response:
    uow = uow_of(request)
    # the job first: read after it, the batch holds at least what the job had finished
    job = _job_of(request, batch_id, context.pop("job_id", None))
    batch = get_batch(uow, batch_id)
    if job is not None and job.status == "succeeded":
        context["done"] = "generated"
    return page(
        request,
        "designer_batch.html",
        status,
        user=user,
        batch=batch,
        job=job,
        currency=program_ladder(uow, PROGRAM).currency,
        form_key=uuid.uuid4().hex,
        designer_section="coupons",
        **context,
    )


@router.get("/designer/coupons/{batch_id}")
def batch_page(
    request: Request,
    batch_id: BatchId,
    job: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    user = require_staff(request, *READERS)
    return _batch_page(request, user, batch_id, job_id=job, done=done)


@router.post("/designer/coupons/{batch_id}/codes")
def more_codes(
    request: Request,
    batch_id: BatchId,
    tasks: BackgroundTasks,
    count: Annotated[str, Form(max_length=12)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    user = require_writer(request, csrf_token)
    key = f"web:{key or uuid.uuid4().hex}"
    try:
        wanted = _count(count)
        if wanted <= INLINE_MAX:
            generate_more(uow_of(request), batch_id, wanted, key)
            return redirect(f"/designer/coupons/{batch_id}?done=generated")
        job = _in_background(request, tasks, batch_id, wanted, key, actor(user.username))
    except PatronageError as exc:
        entered = {"count": count}
        return _batch_page(request, user, batch_id, entered=entered, **refusal(request, exc))
    return redirect(f"/designer/coupons/{batch_id}?job={job.id}")


def progress_text(t: Translator, job: JobView) -> str:
    return t("designer.coupons.progress", done=t.number(job.done), target=t.number(job.total or 0))


@progress.get("/designer/coupons/{batch_id}/progress")
def batch_progress(
    request: Request, batch_id: BatchId, job: Annotated[int, Query(ge=1, le=2**62)]
) -> JSONResponse:
    """The progress of the batch's code generation job, for the page to show."""
    refused = json_refusal(request, *READERS)
    if refused is not None:
        return refused
    found = _job_of(request, batch_id, job)
    if found is None:
        return JSONResponse(error_body("not_found", f"no job {job} for batch {batch_id}"), 404)
    return JSONResponse(
        {
            "status": found.status,
            "done": found.done,
            "total": found.total,
            "finished": found.finished,
            "text": progress_text(translator(request), found),
        }
    )


def _csv_rows(uow: UnitOfWork, batch_id: int) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "redeemed_count"])
    after = 0
    while True:
        rows = batch_codes(uow, batch_id, after, CSV_PAGE)
        for _, code, redeemed in rows:
            writer.writerow([code, redeemed])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < CSV_PAGE:
            return
        after = rows[-1][0]


@router.get("/designer/coupons/{batch_id}/codes.csv")
def codes_csv(request: Request, batch_id: BatchId) -> Response:
    require_staff(request, *WRITERS)
    uow = uow_of(request)
    get_batch(uow, batch_id)  # a missing batch is a 404 page, not an empty file
    return StreamingResponse(
        _csv_rows(uow, batch_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="coupon-batch-{batch_id}.csv"'},
    )
