"""The periodic jobs, by name: what `patronage jobs run NAME` and the in-server
scheduler run. Every job is idempotent, so overlapping runs do no harm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from patronage.config import get_settings
from patronage.storage.uow import UnitOfWork

Job = Callable[[UnitOfWork, str, datetime], str]


def _expire(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.expiry import expire_due_lots

    return f"expired {expire_due_lots(uow, program, when)} lot(s) as of {when.isoformat()}"


def _tiers(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.tiers import review_tiers

    return f"{review_tiers(uow, program, when)} member(s) changed tier"


def _journeys(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.journeys import JourneyConfig, run_journeys

    counts = run_journeys(uow, program, when, JourneyConfig.from_settings(get_settings()))
    return f"journeys: {dict(sorted(counts.items())) or 'nothing due'}"


def _retention(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.privacy import apply_retention

    return f"erased {apply_retention(uow, program, when, get_settings().retention_days)} member(s)"


def _referrals(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.referrals import reward_referrals

    return f"rewarded {reward_referrals(uow, program)} referral(s)"


def _birthdays(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.birthdays import award_birthday_points

    return f"birthday bonus for {award_birthday_points(uow, program, when)} member(s)"


def _surveys(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.surveys import invite_recent_buyers

    return f"survey invitations after purchases: {invite_recent_buyers(uow, program, when)}"


def _escalations(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.escalation import escalate_complaints

    return f"{len(escalate_complaints(uow, when))} complaint clock(s) need escalation"


def _personalisation(uow: UnitOfWork, program: str, when: datetime) -> str:
    from patronage.services.membership_jobs import run_personalisation

    run_personalisation(uow, program, when)
    return "paid-membership renewals and recommendation model up to date"


def _training_reminders(uow: UnitOfWork, program: str, when: datetime) -> str:
    """Shop-wide (training is not per program): the same whichever program it runs for."""
    from patronage.services.training_reminders import send_training_reminders

    counts = send_training_reminders(uow, when)
    return f"training reminders: {dict(sorted(counts.items())) or 'nothing due'}"


JOBS: dict[str, Job] = {
    "expire": _expire,
    "tiers": _tiers,
    "retention": _retention,
    "journeys": _journeys,
    "referrals": _referrals,
    "birthdays": _birthdays,
    "surveys": _surveys,
    "escalations": _escalations,
    "personalisation": _personalisation,
    "training-reminders": _training_reminders,
}
