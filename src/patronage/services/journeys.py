"""The care-journeys job: puts every greeting and reminder that is due into the outbox.

Idempotent: each step has a unique (member, journey, step, occurrence) key in the
outbox, so running the job twice, or on two servers at once, schedules nothing twice.
Members with no channel they consented to (and an address on) get nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from patronage.config import Settings
from patronage.domain.journeys import (
    Holiday,
    holidays_on,
    is_birthday,
    local_day,
    member_language,
    member_zone,
    onboarding_steps_due,
    parse_holidays,
)
from patronage.domain.messages import PENDING, Contact, choose_channel
from patronage.domain.program import Program
from patronage.services.next_best_offer import offer_chooser
from patronage.services.webhook_events import emit
from patronage.storage.uow import UnitOfWork

JOURNEYS = ("birthday", "holiday", "onboarding", "winback", "points_expiring")
EXPIRING_WITHIN_DAYS = 30
LAPSE_WINDOW_DAYS = 30  # a lapse older than this (job not run, or before go-live) is left alone
DETRACTOR_WINDOW_DAYS = 30
ONBOARDING_HORIZON_DAYS = 100
BATCH = 200  # messages per transaction


@dataclass(frozen=True)
class JourneyConfig:
    holidays: tuple[Holiday, ...] = ()
    winback_days: int = 90
    complaint_followup_days: int = 7

    @classmethod
    def from_settings(cls, s: Settings) -> JourneyConfig:
        return cls(parse_holidays(s.journey_holidays), s.winback_days, s.complaint_followup_days)


class _Planner:
    """Schedules steps for one program at one instant, counting what it did.

    Steps are written in batches: one INSERT (skipping keys already recorded) and one
    commit per ``BATCH`` messages, so a job killed at any point keeps what it committed,
    loses at most one batch, and a rerun adds exactly what is missing."""

    def __init__(self, uow: UnitOfWork, program: Program, as_of: datetime) -> None:
        self.uow, self.program, self.as_of = uow, program, as_of
        self.counts: Counter[str] = Counter()
        self.batch: list[dict[str, Any]] = []

    def today(self, contact: Contact) -> date:
        return local_day(self.as_of, member_zone(contact.attributes, self.program.timezone))

    def schedule(
        self, contact: Contact, journey: str, step: str, occurrence: str, payload: dict[str, Any]
    ) -> None:
        choice = choose_channel(contact)
        if choice is None:
            self.counts["no_channel"] += 1
            return
        channel, recipient = choice
        self.batch.append(
            {
                "program_id": self.program.id,
                "member_id": contact.member_id,
                "channel": channel,
                "recipient": recipient,
                "template": payload.pop("template", step),
                "language": member_language(contact.attributes),
                "payload": payload,
                "journey": journey,
                "step": step,
                "occurrence": occurrence,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": self.as_of,
                "created_at": self.uow.clock(),
            }
        )
        if len(self.batch) >= BATCH:
            self.commit()

    def commit(self) -> None:
        """Write the pending batch and commit (with anything else written meanwhile)."""
        added = Counter(j for j in self.uow.outbox.add_once(self.batch) if j is not None)
        self.counts.update(added)
        self.counts["already_scheduled"] += len(self.batch) - sum(added.values())
        self.batch = []
        self.uow.commit()


def run_journeys(
    uow: UnitOfWork, program_code: str, as_of: datetime, config: JourneyConfig | None = None
) -> Counter[str]:
    """Schedule every journey step due at ``as_of``; one transaction per batch of messages."""
    config = config or JourneyConfig()
    counts: Counter[str] = Counter()
    passes = (
        _birthdays,
        _holidays,
        _onboarding,
        _winback,
        _detractors,
        _open_complaints,
        _expiring_points,
    )
    for journey_pass in passes:
        with uow:
            planner = _Planner(uow, uow.programs.get(program_code), as_of)
            journey_pass(planner, config)
            planner.commit()
        counts.update(+planner.counts)
    return counts


def _dates_somewhere(as_of: datetime) -> list[date]:
    """Every calendar date it is somewhere on Earth at ``as_of`` (UTC-12 to UTC+14)."""
    return sorted({(as_of + timedelta(hours=h)).date() for h in (-12, 0, 14)})


def _birthdays(p: _Planner, config: JourneyConfig) -> None:
    pairs = {(d.month, d.day) for d in _dates_somewhere(p.as_of)}
    if (2, 28) in pairs:
        pairs.add((2, 29))
    for contact, birthday in p.uow.journeys.born_on(p.program.id or 0, sorted(pairs)):
        today = p.today(contact)
        if is_birthday(birthday, today):
            p.schedule(contact, "birthday", "greeting", str(today.year), {"template": "birthday"})


def _holidays(p: _Planner, config: JourneyConfig) -> None:
    if not any(holidays_on(d, config.holidays) for d in _dates_somewhere(p.as_of)):
        return
    after = 0
    while page := p.uow.journeys.members_page(p.program.id or 0, after, 500):
        for contact, _, _ in page:
            today = p.today(contact)
            for code in holidays_on(today, config.holidays):
                payload = {"template": "holiday", "holiday": code}
                p.schedule(contact, "holiday", code, str(today.year), payload)
        after = page[-1][0].member_id


def _onboarding(p: _Planner, config: JourneyConfig) -> None:
    since = p.as_of - timedelta(days=ONBOARDING_HORIZON_DAYS)
    joiners = p.uow.journeys.joined_since(p.program.id or 0, since)
    buyers = p.uow.journeys.buyers(c.member_id for c, _ in joiners)
    for contact, joined_at in joiners:
        zone = member_zone(contact.attributes, p.program.timezone)
        joined_on = local_day(joined_at, zone)
        for step in onboarding_steps_due(joined_on, p.today(contact), contact.member_id in buyers):
            p.schedule(contact, "onboarding", step, "1", {})


def _winback(p: _Planner, config: JourneyConfig) -> None:
    lapsed_to = p.as_of - timedelta(days=config.winback_days)
    lapsed = p.uow.journeys.lapsed_buyers(
        p.program.id or 0, lapsed_to - timedelta(days=LAPSE_WINDOW_DAYS), lapsed_to
    )
    contacts = p.uow.journeys.contacts(m for m, _ in lapsed)
    offer_for = offer_chooser(p.uow, p.program) if lapsed else None
    for member_id, last_purchase in lapsed:
        offer = offer_for(member_id) if offer_for else None
        payload = {
            "template": "winback",
            "last_purchase": last_purchase.date().isoformat(),
            "offer": offer.name if offer and offer.kind else None,
        }
        p.schedule(
            contacts[member_id], "winback", "lapsed", last_purchase.date().isoformat(), payload
        )


def _detractors(p: _Planner, config: JourneyConfig) -> None:
    since = p.as_of - timedelta(days=DETRACTOR_WINDOW_DAYS)
    responses = p.uow.journeys.nps_responses_since(p.program.id or 0, since)
    detractors = [
        (rid, m) for rid, m, answers, questions in responses if _detractor(answers, questions)
    ]
    contacts = p.uow.journeys.contacts(m for _, m in detractors)
    for response_id, member_id in detractors:
        payload = {"template": "detractor_followup"}
        p.schedule(contacts[member_id], "winback", "detractor", str(response_id), payload)


def _detractor(answers: dict[str, Any], questions: list[Any]) -> bool:
    """Any NPS question answered 0-6."""
    nps_ids = {
        str(q.get("id")) for q in questions if isinstance(q, dict) and q.get("type") == "nps"
    }
    return any(isinstance(answers.get(i), int) and answers[i] <= 6 for i in nps_ids)


def _open_complaints(p: _Planner, config: JourneyConfig) -> None:
    cutoff = p.as_of - timedelta(days=config.complaint_followup_days)
    complaints = p.uow.journeys.open_complaints_filed_before(p.program.id or 0, cutoff)
    contacts = p.uow.journeys.contacts(m for _, m, _ in complaints)
    for complaint_id, member_id, subject in complaints:
        payload = {"template": "complaint_followup", "subject": subject}
        p.schedule(contacts[member_id], "winback", "complaint", str(complaint_id), payload)


def _expiring_points(p: _Planner, config: JourneyConfig) -> None:
    until = p.as_of + timedelta(days=EXPIRING_WITHIN_DAYS)
    lots = p.uow.journeys.lots_expiring(p.program.id or 0, p.as_of, until)
    contacts = p.uow.journeys.contacts(m for _, m, _, _ in lots)
    for lot_id, member_id, points, expires_at in lots:
        contact = contacts[member_id]
        zone = member_zone(contact.attributes, p.program.timezone)
        expires_on = expires_at.astimezone(zone).date().isoformat()
        payload = {"points": points, "expires_on": expires_on, "lot_id": lot_id}
        if not contact.erased:
            p.schedule(contact, "points_expiring", "reminder", str(lot_id), dict(payload))
        event = {**payload, "expires_at": expires_at.isoformat()}
        emit(p.uow, p.program.id, "points.expiring", member_id, event, once_per=str(lot_id))
