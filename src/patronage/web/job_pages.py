"""Long operations from the pages: upload a transactions or members file to import, or
replay a campaign over stored events. The request only records the job and answers at
once; a worker thread of this server runs it (``web.job_workers``), and the job's page
shows the progress stored in the database, polled by a small script. The dashboard and
the training impact report queue jobs of their own (heavy analytics): their progress is
polled here too, by any signed-in staff member who can see those pages."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from patronage.errors import Forbidden, InvalidInput, PatronageError
from patronage.services.background_jobs import (
    ANALYTICS_KINDS,
    REPLAY,
    JobView,
    job_view,
    queue_import,
    queue_replay,
    recent_jobs,
)
from patronage.services.rules import list_campaigns
from patronage.services.staff_users import StaffUser
from patronage.services.tier_ladder import program_ladder
from patronage.web.forms import check_csrf, parse_day, start_of
from patronage.web.i18n import Translator
from patronage.web.job_workers import start_job
from patronage.web.page_errors import explain
from patronage.web.render import WebRoute, page, redirect, require_staff, translator, uow_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
READERS = ("admin", "analyst")
IMPORTERS = ("admin",)
UPLOADS = Path(tempfile.gettempdir()) / "patronage-uploads"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
SUFFIXES = (".csv", ".parquet", ".pq")
CHUNK = 1 << 20
JobId = Annotated[int, PathParam(ge=1, le=2**62)]
Text = Annotated[str, Form(max_length=300)]


def _jobs_page(request: Request, user: StaffUser, status: int = 200, **extra: Any) -> Response:
    uow = uow_of(request)
    return page(
        request,
        "jobs.html",
        status,
        user=user,
        jobs=recent_jobs(uow),
        campaigns=list_campaigns(uow),
        can_import=user.role in IMPORTERS,
        **extra,
    )


@router.get("/jobs")
def jobs(request: Request) -> Response:
    user = require_staff(request, *READERS)
    return _jobs_page(request, user)


def _save_upload(upload: UploadFile) -> Path:
    """The upload in a private temporary file (removed when the job has run)."""
    suffix = PurePath(upload.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput("the file must be a .csv or .parquet file", field="file")
    UPLOADS.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=suffix, dir=UPLOADS)
    path, size = Path(name), 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise InvalidInput("the file is larger than 200 MB", field="file")
                out.write(chunk)
        if size == 0:
            raise InvalidInput("the file is empty", field="file")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _actor(user: StaffUser) -> str:
    return f"web:{user.username}"


@router.post("/jobs/imports")
def start_import(
    request: Request,
    file: Annotated[UploadFile, File()],
    what: Text = "transactions",
    csrf_token: Text = "",
) -> Response:
    user = require_staff(request, *IMPORTERS)
    check_csrf(request, csrf_token)
    try:
        path = _save_upload(file)
    except PatronageError as exc:
        return _jobs_page(request, user, 400, import_error=explain(translator(request), exc))
    try:
        job = queue_import(uow_of(request), what, path, file.filename or path.name, _actor(user))
    except PatronageError as exc:
        path.unlink(missing_ok=True)
        return _jobs_page(request, user, 400, import_error=explain(translator(request), exc))
    start_job(request, job.id, path)
    return redirect(f"/jobs/{job.id}")


@router.post("/jobs/replays")
def start_replay(
    request: Request,
    campaign: Text = "",
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Text = "",
) -> Response:
    user = require_staff(request, *READERS)
    check_csrf(request, csrf_token)
    try:
        first, last = parse_day(start, "start"), parse_day(end, "end")
        if first is None or last is None:
            raise InvalidInput("choose the first and the last day", field="start")
        job = queue_replay(
            uow_of(request),
            campaign.strip(),
            start_of(first),
            start_of(last + timedelta(days=1)),
            _actor(user),
        )
    except PatronageError as exc:
        return _jobs_page(request, user, 400, replay_error=explain(translator(request), exc))
    start_job(request, job.id)
    return redirect(f"/jobs/{job.id}")


def progress_label(t: Translator, job: JobView) -> str:
    importing = job.kind.startswith("import")
    if job.status == "queued":
        return t("jobs.waiting")
    if job.kind in ANALYTICS_KINDS:
        return _analytics_label(t, job)
    if job.total is None:
        if importing:
            return t("jobs.reading_file")
        return t("jobs.progress_events_so_far", done=t.number(job.done))
    unit = "rows" if importing else "events"
    return t(
        f"jobs.progress_{unit}",
        done=t.number(job.done),
        total=t.number(job.total),
        percent=t.percent((job.percent or 0) / 100),
    )


def _analytics_label(t: Translator, job: JobView) -> str:
    """Analytics run in a few steps: reading the data, then computing."""
    if job.status == "succeeded":
        return t("jobs.analytics_done")
    total = job.total or 1
    step = min(job.done + 1, total)
    key = "jobs.analytics_computing" if step >= total else "jobs.analytics_reading"
    return t(key, step=t.number(step), total=t.number(total))


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: JobId) -> Response:
    user = require_staff(request, *READERS)
    job = job_view(uow_of(request), job_id)
    label = progress_label(translator(request), job)
    currency = None
    if job.kind == REPLAY:  # the cashback a replay would have paid, in the program's money
        currency = program_ladder(uow_of(request), job.params.get("program", "default")).currency
    return page(request, "job.html", user=user, job=job, label=label, currency=currency,
                analytics_kinds=ANALYTICS_KINDS)  # fmt: skip


@router.get("/jobs/{job_id}/status")
def job_status(request: Request, job_id: JobId) -> Response:
    """The job's progress for the page's script (same origin, same session). Analytics
    jobs are polled from the dashboard, which every staff role sees."""
    user = require_staff(request)
    job = job_view(uow_of(request), job_id)
    if user.role not in READERS and job.kind not in ANALYTICS_KINDS:
        raise Forbidden(f"role {user.role!r} may not do this", role=user.role)
    t = translator(request)
    body = {
        "id": job.id,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "finished": job.finished,
        "status_label": t(f"jobs.status_{job.status}"),
        "label": progress_label(t, job),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
