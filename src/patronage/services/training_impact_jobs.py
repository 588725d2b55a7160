"""The training impact report (level 4) on a large data set: the estimate reads every
purchase served by staff, survey responses and complaints, and takes seconds to
minutes, so above ``inline_events`` events (``PATRONAGE_ANALYTICS_INLINE_EVENTS``) it
runs as a background job and its result is kept per (outcome, course, period, time
zone) and version of the data it reads (``storage.data_versions.training_version``,
and the day: the repeat-purchase and complaint windows end at the time of the
estimate). The ROI is not part of the key: it is worked out from the kept estimate.

An estimate the data cannot support (no trained staff with interactions before
training ...) is an answer too: it is kept and shown as the inline report shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from patronage.errors import InvalidInput
from patronage.services.analytics_results import PanelState, panel_state
from patronage.services.background_jobs import TRAINING_IMPACT, Progress
from patronage.services.training_evaluation import (
    check_impact_query,
    interactions,
    training_impact,
    trainings,
)
from patronage.storage.data_versions import training_version
from patronage.storage.uow import UnitOfWork

STEPS = 3  # read the interactions, read the trainings, estimate
PANEL = "training_impact"


@dataclass(frozen=True)
class ImpactReport:
    """The report (as ``training_impact`` gives it), or the job still computing it."""

    result: dict[str, Any] | None
    waiting: PanelState | None = None
    as_of: datetime | None = None  # when a kept estimate was made


def impact_report(
    uow: UnitOfWork,
    outcome: str,
    course: str | None,
    period: str,
    tz: str,
    roi: tuple[Decimal, Decimal] | None,
    *,
    actor: str,
    inline_events: int,
    retry: bool = False,
) -> ImpactReport:
    """Raises ``InvalidInput`` for a bad query, and for data that cannot give an estimate."""
    check_impact_query(outcome, period, tz)
    with uow:
        version = training_version(uow.session)
        day = uow.clock().date().isoformat()
    if version.events <= inline_events:
        return ImpactReport(training_impact(uow, outcome, course, period, tz, roi))
    filters = {"outcome": outcome, "course": course, "period": period, "tz": tz}
    version_text = f"{version.text} day:{day}"
    state = panel_state(uow, TRAINING_IMPACT, PANEL, filters, version_text, actor, retry=retry)
    if state.result is None:
        return ImpactReport(None, state)
    return ImpactReport(
        _report(state.result, roi), None, datetime.fromisoformat(state.result["as_of"])
    )


def _report(kept: dict[str, Any], roi: tuple[Decimal, Decimal] | None) -> dict[str, Any]:
    from patronage.analytics.training_effect import Estimate
    from patronage.analytics.training_report import estimate_roi

    if "error" in kept:
        raise InvalidInput(kept["error"]["message"], **kept["error"]["details"])
    payload = dict(kept["payload"])
    if roi is not None:
        overall = Estimate(kept["overall"]["effect"], kept["overall"]["se"])
        payload["roi"] = estimate_roi(overall, kept["affected_interactions"], *roi)
    return payload


def compute_impact(uow: UnitOfWork, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run by the job: the estimate as ``training_impact`` makes it, read without
    holding a lock, kept with what the ROI needs."""
    from patronage.analytics.training_effect import evaluate_training
    from patronage.analytics.training_panel import PeriodUnit
    from patronage.analytics.training_report import effect_payload

    f = params["filters"]
    with UnitOfWork(uow.engine, uow.clock, read_only=True) as reading:
        as_of = reading.clock()
        frame = interactions(reading, f["outcome"], as_of)
        progress(1)
        trained = trainings(reading)
        progress(1)
    try:
        result = evaluate_training(frame, trained, "outcome", course=f["course"],
                                   unit=PeriodUnit(f["period"]), tz=f["tz"])  # fmt: skip
    except InvalidInput as exc:
        details = {key: str(value) for key, value in exc.details.items()}
        return {"as_of": as_of.isoformat(), "error": {"message": exc.message, "details": details}}
    progress(1)
    payload = effect_payload(result)
    payload["outcome"] = f["outcome"]
    return {
        "as_of": as_of.isoformat(),
        "payload": payload,
        "overall": {"effect": result.overall.effect, "se": result.overall.se},
        "affected_interactions": result.affected_interactions,
    }
