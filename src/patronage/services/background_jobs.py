"""Long operations run in the background: imports of transactions or members from a
file, replays of a campaign's rules over stored events, coupon codes in bulk, and heavy
analytics (dashboard panels, the training impact report; ``services.analytics_results``
queues those and keeps their results).

``queue_*`` records a job and returns at once; whoever runs it (a worker thread of the
web server) calls ``run_job``, which claims the job once, reports progress into the
database as the operation goes (rows or events done, and a heartbeat), and records the
result or the error. The operations are the ones the CLI runs (``services.imports``,
``services.rules.replay``), with the same guarantees: an import re-run skips the rows
already recorded, a replay writes nothing.

A running job whose heartbeat stopped for ``STALE_AFTER`` is shown as interrupted (its
server stopped); starting it again is safe for the reason above.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from patronage.clock import require_aware
from patronage.errors import InvalidInput, PatronageError
from patronage.services.coupon_batches import check_generation, generate_in_steps
from patronage.services.imports import (
    ImportReport,
    import_members,
    import_transactions,
    read_table,
)
from patronage.services.rules import get_campaign, replay
from patronage.storage.background_job_tables import BackgroundJobRow
from patronage.storage.uow import UnitOfWork

log = logging.getLogger("patronage.jobs")
IMPORT_KINDS = {"transactions": "import_transactions", "members": "import_members"}
REPLAY = "rules_replay"
COUPON_CODES = "coupon_codes"
DASHBOARD_PANEL = "dashboard_panel"
TRAINING_IMPACT = "training_impact"
ANALYTICS_KINDS = (DASHBOARD_PANEL, TRAINING_IMPACT)
KINDS = (*IMPORT_KINDS.values(), REPLAY, COUPON_CODES, *ANALYTICS_KINDS)
FINISHED = ("succeeded", "failed", "interrupted")
STALE_AFTER = timedelta(minutes=15)
QUEUED_TOO_LONG = timedelta(days=1)
BATCH_SIZE = 200
REJECTED_SHOWN = 100
Progress = Callable[[int], None]
Outcome = tuple[dict[str, Any], tuple[int, int]]


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    status: str  # queued, running, succeeded, failed, interrupted
    done: int
    total: int | None
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> float | None:
        """Share done, 0-100; None while the total is not known."""
        if not self.total:
            return 100.0 if self.status == "succeeded" else None
        return min(100.0, round(100 * self.done / self.total, 1))


def job_of(row: BackgroundJobRow, now: datetime) -> JobView:
    status = row.status
    silent = now - row.updated_at
    if (status == "running" and silent > STALE_AFTER) or (
        status == "queued" and silent > QUEUED_TOO_LONG
    ):
        status = "interrupted"
    return JobView(
        id=row.id,
        kind=row.kind,
        status=status,
        done=row.done,
        total=row.total,
        params=dict(row.params),
        result=None if row.result is None else dict(row.result),
        error=row.error,
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
    )


def _queue(uow: UnitOfWork, kind: str, params: dict[str, Any], actor: str) -> JobView:
    with uow:
        uow.programs.get(params["program"])
        row = uow.background_jobs.add(kind, params, actor, uow.clock())
        uow.commit()
        return job_of(row, uow.clock())


def queue_import(
    uow: UnitOfWork, what: str, path: Path, filename: str, actor: str, program: str = "default"
) -> JobView:
    """An import of ``what`` (transactions or members) from the file at ``path``."""
    if what not in IMPORT_KINDS:
        raise InvalidInput("what must be transactions or members", field="kind")
    params = {"path": str(path), "file": filename, "program": program}
    return _queue(uow, IMPORT_KINDS[what], params, actor)


def queue_replay(
    uow: UnitOfWork,
    campaign: str,
    start: datetime,
    end: datetime,
    actor: str,
    program: str = "default",
) -> JobView:
    """A replay of ``campaign``'s rules over the events stored in [start, end)."""
    require_aware(start, "start")
    require_aware(end, "end")
    if end <= start:
        raise InvalidInput("the end must be after the start", field="end")
    get_campaign(uow, campaign, program)  # NotFound names the campaign now, not later
    params = {
        "campaign": campaign,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "program": program,
    }
    return _queue(uow, REPLAY, params, actor)


def queue_coupon_codes(
    uow: UnitOfWork, batch_id: int, count: int, key: str, actor: str, program: str = "default"
) -> JobView:
    """``count`` new codes for a coupon batch, made in steps that each run once per
    ``key`` (so the same request queued twice adds the codes once)."""
    check_generation(uow, batch_id, count)  # a missing or reward batch is refused now
    params = {"batch_id": batch_id, "count": count, "key": key, "program": program}
    return _queue(uow, COUPON_CODES, params, actor)


def job_view(uow: UnitOfWork, job_id: int) -> JobView:
    with uow:
        return job_of(uow.background_jobs.get(job_id), uow.clock())


def recent_jobs(uow: UnitOfWork, limit: int = 20) -> list[JobView]:
    with uow:
        now = uow.clock()
        return [job_of(row, now) for row in uow.background_jobs.recent(limit)]


# --- running ---------------------------------------------------------------------------


def run_job(uow: UnitOfWork, job_id: int) -> None:
    """Run a queued job to its end, recording progress and the outcome. A job already
    claimed by another runner is left alone. Never raises: the error is recorded."""
    with uow:
        if not uow.background_jobs.claim(job_id, uow.clock()):
            return
        row = uow.background_jobs.get(job_id)
        kind, params = row.kind, dict(row.params)
        uow.commit()
    result: dict[str, Any] | None = None
    counted: tuple[int, int] | None = None
    error: str | None = None
    try:
        result, counted = _RUNNERS[kind](uow, job_id, params)
    except PatronageError as exc:
        error = exc.message
    except Exception:
        log.exception("background job %s (%s) failed", job_id, kind)
        error = "the job stopped on an unexpected error (see the server log)"
    _side(
        uow,
        lambda side: side.background_jobs.finish(job_id, side.clock(), result, error, counted),
    )


def _side(uow: UnitOfWork, write: Callable[[UnitOfWork], None]) -> None:
    """A small write in its own transaction (the operation may hold another open)."""
    with UnitOfWork(uow.engine, uow.clock) as side:
        write(side)
        side.commit()


def _progress(uow: UnitOfWork, job_id: int) -> Progress:
    def advance(units: int) -> None:
        _side(uow, lambda side: side.background_jobs.advance(job_id, units, side.clock()))

    return advance


def _import_result(report: ImportReport) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "imported": report.imported,
        "already_imported": report.already_imported,
        "rejected": len(report.rejected),
        "rejected_rows": [[line, message] for line, message in report.rejected[:REJECTED_SHOWN]],
    }


def _import(uow: UnitOfWork, job_id: int, params: dict[str, Any], what: str) -> Outcome:
    path = Path(params["path"])
    total = read_table(path).num_rows
    _side(uow, lambda side: side.background_jobs.set_total(job_id, total, side.clock()))
    run = import_transactions if what == "transactions" else import_members
    report = run(uow, path, params["program"], BATCH_SIZE, progress=_progress(uow, job_id))
    return _import_result(report), (total, total)


def _replay(uow: UnitOfWork, job_id: int, params: dict[str, Any]) -> Outcome:
    report = replay(
        uow,
        params["campaign"],
        datetime.fromisoformat(params["start"]),
        datetime.fromisoformat(params["end"]),
        params["program"],
        progress=_progress(uow, job_id),
    )
    result = {
        "campaign": report.campaign,
        "events": report.events,
        "events_earning": report.events_earning,
        "points": report.points,
        "members": report.members,
        "cost": str(report.cost),
        "point_value": str(report.point_value),
        "budget": report.budget,
        "budget_exhausted": report.budget_exhausted,
        "by_rule": dict(sorted(report.by_rule.items())),
        "cashback_minor": report.cashback_minor,
        "cashback_by_rule": dict(sorted(report.cashback_by_rule.items())),
    }
    return result, (report.events, report.events)


def _coupon_codes(uow: UnitOfWork, job_id: int, params: dict[str, Any]) -> Outcome:
    count = int(params["count"])
    _side(uow, lambda side: side.background_jobs.set_total(job_id, count, side.clock()))
    made = generate_in_steps(
        uow, params["batch_id"], count, params["key"], progress=_progress(uow, job_id)
    )
    return {"batch_id": params["batch_id"], "codes": made}, (count, count)


Compute = Callable[[UnitOfWork, dict[str, Any], Progress], dict[str, Any]]


def _analytics(
    uow: UnitOfWork, job_id: int, params: dict[str, Any], compute: Compute, steps: int
) -> Outcome:
    """A heavy panel computed in ``steps`` (each reported when done), then kept."""
    from patronage.services.analytics_results import keep_result

    _side(uow, lambda side: side.background_jobs.set_total(job_id, steps, side.clock()))
    result = compute(uow, params, _progress(uow, job_id))
    kept = keep_result(uow, job_id, params, result)
    return {"panel": params["panel"], "kept": kept}, (steps, steps)


def _dashboard_panel(uow: UnitOfWork, job_id: int, params: dict[str, Any]) -> Outcome:
    from patronage.services.dashboard_analytics import STEPS, compute_panel

    return _analytics(uow, job_id, params, compute_panel, STEPS)


def _training_impact(uow: UnitOfWork, job_id: int, params: dict[str, Any]) -> Outcome:
    from patronage.services.training_impact_jobs import STEPS, compute_impact

    return _analytics(uow, job_id, params, compute_impact, STEPS)


_RUNNERS: dict[str, Callable[[UnitOfWork, int, dict[str, Any]], Outcome]] = {
    "import_transactions": lambda uow, job, params: _import(uow, job, params, "transactions"),
    "import_members": lambda uow, job, params: _import(uow, job, params, "members"),
    REPLAY: _replay,
    COUPON_CODES: _coupon_codes,
    DASHBOARD_PANEL: _dashboard_panel,
    TRAINING_IMPACT: _training_impact,
}
