"""The worker threads of this server that run background jobs (``services.background_jobs``)
started from the pages: imports, replays, and heavy analytics panels."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi import Request

from patronage.services.background_jobs import run_job
from patronage.storage.uow import UnitOfWork

log = logging.getLogger("patronage.web.jobs")
_workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="patronage-job")


def start_job(request: Request, job_id: int, upload: Path | None = None) -> None:
    """Run the job on a worker thread, against this request's database and clock; the
    ``upload`` it imports is removed afterwards."""
    engine, clock = request.app.state.engine, request.app.state.clock

    def work() -> None:
        try:
            run_job(UnitOfWork(engine, clock), job_id)
        except Exception:  # the job could not even be claimed (database gone)
            log.exception("background job %s did not run", job_id)
        finally:
            if upload is not None:
                upload.unlink(missing_ok=True)

    _workers.submit(work)
