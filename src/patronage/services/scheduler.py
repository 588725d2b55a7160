"""The in-server scheduler: runs every job in services/jobs.py every few minutes."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from patronage.services.jobs import JOBS
from patronage.storage.uow import UnitOfWork

log = logging.getLogger("patronage.scheduler")


def run_due_jobs(engine: Engine) -> None:
    """One pass of every job over every program. The jobs are idempotent, so
    overlapping passes (two servers, a manual run) do no harm; one job's failure
    does not stop the others."""
    uow = UnitOfWork(engine)
    with uow:
        codes = uow.programs.codes()
    for code in codes:
        for name, job in JOBS.items():
            try:
                log.info("program %s, %s: %s", code, name, job(uow, code, uow.clock()))
            except Exception:  # logged; the next pass tries again
                log.exception("program %s: job %s failed", code, name)


def start_scheduler(engine: Engine, interval_seconds: int) -> threading.Event:
    """Start a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                run_due_jobs(engine)
            except Exception:  # keep the server's scheduler alive; the error is logged
                log.exception("scheduled jobs failed")
            stop.wait(interval_seconds)

    threading.Thread(target=loop, name="patronage-scheduler", daemon=True).start()
    return stop
