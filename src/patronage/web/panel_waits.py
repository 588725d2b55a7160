"""Heavy panels waiting for their background job, on the dashboard and the training
impact report: the job handed to a worker, and what the page needs to show its
progress (``_analytics_wait.html``, polled by ``static/job_progress.js``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response

from patronage.services.analytics_results import PanelState
from patronage.web.i18n import Translator
from patronage.web.job_pages import progress_label
from patronage.web.job_workers import start_job
from patronage.web.render import redirect


def start_waiting(request: Request, states: Iterable[PanelState]) -> None:
    """Hand the panels' queued jobs to a worker: new ones, and ones left queued by a
    server that stopped (a job already claimed is left alone by ``run_job``)."""
    for state in states:
        if state.to_start and state.job is not None:
            start_job(request, state.job.id)


def _url(request: Request, **extra: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "retry"]
    return f"{request.url.path}?{urlencode([*query, *extra.items()])}"


def after_retry(request: Request) -> Response:
    """Back to the page without ``retry`` once the failed panels are queued again, so that
    the reload the progress script makes cannot queue them over and over."""
    return redirect(_url(request))


def waiting_context(
    request: Request, t: Translator, waiting: Mapping[str, PanelState]
) -> dict[str, Any]:
    """Template values: the waiting panels, their progress labels, whether any job is
    still to be polled, and links to reload the page (no JavaScript) or try again."""
    return {
        "waiting": dict(waiting),
        "waiting_jobs": any(s.job is not None and not s.job.finished for s in waiting.values()),
        "wait_labels": {
            name: progress_label(t, s.job) for name, s in waiting.items() if s.job is not None
        },
        "refresh_url": _url(request),
        "retry_url": _url(request, retry="1"),
    }
