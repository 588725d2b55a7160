"""The in-server scheduler: runs the due jobs (expiry, tier review) every few minutes."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from patronage.config import get_settings
from patronage.services.expiry import expire_due_lots
from patronage.services.journeys import JourneyConfig, run_journeys
from patronage.services.membership_jobs import run_personalisation
from patronage.services.tiers import review_tiers
from patronage.storage.uow import UnitOfWork

log = logging.getLogger("patronage.scheduler")


def run_due_jobs(engine: Engine) -> None:
    """One pass over every program. Both jobs are idempotent, so overlapping passes
    (two servers, a manual run) do no harm."""
    uow = UnitOfWork(engine)
    with uow:
        codes = uow.programs.codes()
    for code in codes:
        now = uow.clock()
        expired = expire_due_lots(uow, code, now)
        moved = review_tiers(uow, code, now)
        run_journeys(uow, code, now, JourneyConfig.from_settings(get_settings()))
        run_personalisation(uow, code, now)
        if expired or moved:
            log.info("program %s: expired %d lot(s), %d tier change(s)", code, expired, moved)


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
