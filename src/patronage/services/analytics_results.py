"""Heavy analytics computed in the background, once per version of the data they read.

A page asks ``panel_state`` for a panel with its filters (date range, store, outcome ...)
and the current data version (``storage.data_versions``). When the kept result belongs
to that version it comes back at once. Otherwise a background job is queued
(``services.background_jobs``, kinds ``dashboard_panel`` and ``training_impact``), the
kept row points at it, and the page shows the job's progress instead of the panel; the
job computes the panel and keeps its result here (``keep_result``). A reload while the
job runs finds the same job, so nothing is computed twice; new data (another version)
queues a new job. A job that failed is shown with its error until ``retry``; one whose
server stopped (interrupted) is queued again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patronage.errors import NotFound
from patronage.services.background_jobs import JobView, job_of
from patronage.storage.analytics_result_tables import AnalyticsResultRow
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class PanelState:
    """A panel's kept result, or the job computing it (or that failed to)."""

    panel: str
    result: dict[str, Any] | None = None
    job: JobView | None = None
    computed_at: datetime | None = None

    @property
    def ready(self) -> bool:
        return self.result is not None

    @property
    def failed(self) -> bool:
        return self.result is None and self.job is not None and self.job.status == "failed"

    @property
    def to_start(self) -> bool:
        """A job waiting for a runner (handing it to one more runner is harmless: a job
        is claimed once)."""
        return self.job is not None and self.job.status == "queued"


def filters_key(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _current_job(uow: UnitOfWork, row: AnalyticsResultRow, version: str) -> JobView | None:
    """The job computing this version, if it still may give (or gave) an answer."""
    if row.data_version != version or row.job_id is None:
        return None
    try:
        return job_of(uow.background_jobs.get(row.job_id), uow.clock())
    except NotFound:
        return None


def panel_state(
    uow: UnitOfWork,
    kind: str,
    panel: str,
    filters: dict[str, Any],
    version: str,
    actor: str,
    *,
    retry: bool = False,
) -> PanelState:
    """The kept result of ``panel`` for ``filters`` at ``version``, or the job for it
    (queued now if none is running or waiting)."""
    with uow:
        now = uow.clock()
        row = uow.analytics_results.locked(panel, filters_key(filters), filters, now)
        if row.data_version == version and row.result is not None:
            return PanelState(panel, dict(row.result), None, row.computed_at)
        job = _current_job(uow, row, version)
        if job is not None and (not job.finished or (job.status == "failed" and not retry)):
            return PanelState(panel, None, job)
        params = {"panel": panel, "filters": filters, "version": version}
        queued = uow.background_jobs.add(kind, params, actor, now)
        row.data_version, row.job_id, row.result = version, queued.id, None
        row.computed_at, row.updated_at = None, now
        uow.commit()
        return PanelState(panel, None, job_of(queued, now))


def keep_result(
    uow: UnitOfWork, job_id: int, params: dict[str, Any], result: dict[str, Any]
) -> bool:
    """Keep what job ``job_id`` computed; False when newer data has already moved the
    panel on to another job."""
    with uow:
        key = filters_key(params["filters"])
        kept = uow.analytics_results.store(params["panel"], key, job_id, result, uow.clock())
        uow.commit()
        return kept
