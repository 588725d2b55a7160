"""Surveys: definitions, invitations with signed links, and responses.

An invitation goes to one member on one channel they consented to, no more
often than the survey's re-contact limit allows (counting invitations to any
survey). Its signed token is the member's link: the survey is shown and
answered by token, without a login. Staff may also record a response through
the API. The store, staff member and service channel of a response come from
the purchase that triggered the invitation, when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from patronage.config import get_settings
from patronage.domain.members import CONSENT_CHANNELS, Member
from patronage.domain.survey_forms import (
    TRIGGERS,
    Question,
    bilingual,
    parse_questions,
    sign_invitation,
)
from patronage.errors import Conflict, InvalidInput, RuleViolation
from patronage.storage.tables import SurveyInvitationRow, SurveyRow
from patronage.storage.uow import UnitOfWork

PUBLIC_PATH = "/api/v1/survey-responses/"
CHANNEL_PREFERENCE = ("email", "sms", "wechat", "app", "phone", "post")


@dataclass(frozen=True)
class Survey:
    id: int
    code: str
    title: dict[str, str]
    questions: tuple[Question, ...]
    trigger: str
    recontact_days: int
    link_days: int
    active: bool


@dataclass(frozen=True)
class Invitation:
    id: int
    survey_id: int
    member_id: int
    trigger: str
    send_channel: str
    channel: str | None
    store: str | None
    staff_id: str | None
    created_at: datetime
    expires_at: datetime
    token: str
    path: str


@dataclass(frozen=True)
class InviteOutcome:
    """An invitation, or why none was made (``no_consent``, ``recontact_limit``)."""

    invitation: Invitation | None
    skipped: str | None = None


@dataclass(frozen=True)
class SurveyContext:
    """What triggered an invitation and who served the member."""

    trigger: str = "manual"
    event_id: int | None = None
    complaint_id: int | None = None
    channel: str | None = None
    store: str | None = None
    staff_id: str | None = None


def survey_of(row: SurveyRow) -> Survey:
    return Survey(
        id=row.id,
        code=row.code,
        title=dict(row.title),
        questions=parse_questions(row.questions),
        trigger=row.trigger,
        recontact_days=row.recontact_days,
        link_days=row.link_days,
        active=row.active,
    )


def define_survey(
    uow: UnitOfWork,
    code: str,
    title: dict[str, str],
    questions: list[dict[str, Any]],
    trigger: str = "manual",
    recontact_days: int | None = None,
    link_days: int = 30,
    program: str = "default",
) -> Survey:
    """Add a survey definition; its code is unique in the program."""
    parsed = parse_questions(questions)
    checked_title = bilingual(title, "title")
    if trigger not in TRIGGERS:
        raise InvalidInput(f"trigger must be one of {', '.join(TRIGGERS)}", field="trigger")
    days = get_settings().survey_recontact_days if recontact_days is None else recontact_days
    if not 0 <= days <= 3660 or not 1 <= link_days <= 3660:
        raise InvalidInput("recontact_days 0-3660 and link_days 1-3660", field="recontact_days")
    with uow:
        found = uow.programs.get(program)
        if uow.surveys.by_code(found.id or 0, code) is not None:
            raise Conflict(f"survey {code!r} exists", code="duplicate_survey", survey=code)
        row = uow.surveys.add(
            program_id=found.id,
            code=code,
            title=checked_title,
            questions=[q.as_dict() for q in parsed],
            trigger=trigger,
            recontact_days=days,
            link_days=link_days,
            active=True,
            created_at=uow.clock(),
        )
        uow.commit()
        return survey_of(row)


def get_survey(uow: UnitOfWork, survey_id: int) -> Survey:
    with uow:
        return survey_of(uow.surveys.get(survey_id))


def list_surveys(uow: UnitOfWork, program: str = "default") -> list[Survey]:
    with uow:
        return [survey_of(r) for r in uow.surveys.all(uow.programs.get(program).id or 0)]


def invitation_of(row: SurveyInvitationRow) -> Invitation:
    token = sign_invitation(get_settings().secret_key, row.id, row.member_id)
    return Invitation(
        id=row.id,
        survey_id=row.survey_id,
        member_id=row.member_id,
        trigger=row.trigger,
        send_channel=row.send_channel,
        channel=row.channel,
        store=row.store,
        staff_id=row.staff_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        token=token,
        path=PUBLIC_PATH + token,
    )


def preferred_channel(member: Member, first: str | None = None) -> str | None:
    """The first channel the member consented to, ``first`` if it is one of them."""
    for channel in (first, *CHANNEL_PREFERENCE):
        if channel and member.consents.get(channel) is True:
            return channel
    return None


def invite_in(
    uow: UnitOfWork,
    survey: SurveyRow,
    member: Member,
    send_channel: str | None,
    context: SurveyContext,
) -> InviteOutcome:
    """Invite inside the caller's transaction, honouring consent and the re-contact limit."""
    if send_channel is None or member.consents.get(send_channel) is not True:
        return InviteOutcome(None, "no_consent")
    now = uow.clock()
    last = uow.surveys.last_invited_at(member.id)
    if last is not None and now - last < timedelta(days=survey.recontact_days):
        return InviteOutcome(None, "recontact_limit")
    row = uow.surveys.add_invitation(
        survey_id=survey.id,
        member_id=member.id,
        trigger=context.trigger,
        send_channel=send_channel,
        event_id=context.event_id,
        complaint_id=context.complaint_id,
        channel=context.channel,
        store=context.store,
        staff_id=context.staff_id,
        created_at=now,
        expires_at=now + timedelta(days=survey.link_days),
    )
    return InviteOutcome(invitation_of(row))


def purchase_context(uow: UnitOfWork, member: Member, event_id: int) -> SurveyContext:
    event = uow.surveys.purchase_event(event_id)
    if event.member_id != member.id:
        raise InvalidInput(f"purchase {event_id} is not member {member.id}'s", field="event_id")
    return SurveyContext(
        "purchase",
        event_id=event.id,
        channel=event.channel,
        store=event.store,
        staff_id=event.staff_id,
    )


def invite_member(
    uow: UnitOfWork,
    survey_id: int,
    member_id: int,
    send_channel: str,
    event_id: int | None = None,
) -> Invitation:
    """An invitation on demand (after a purchase when ``event_id`` is given).

    Refused with a reason when the member has not consented to the channel or
    was invited too recently.
    """
    if send_channel not in CONSENT_CHANNELS:
        raise InvalidInput(
            f"channel must be one of {', '.join(CONSENT_CHANNELS)}", field="send_channel"
        )
    with uow:
        survey = uow.surveys.get(survey_id)
        if not survey.active:
            raise RuleViolation("the survey is not active", code="survey_inactive")
        member = uow.members.get(member_id)
        context = SurveyContext()
        if event_id is not None:
            context = purchase_context(uow, member, event_id)
        outcome = invite_in(uow, survey, member, send_channel, context)
        if outcome.invitation is None:
            raise RuleViolation(_SKIP_MESSAGES[outcome.skipped or ""], code=outcome.skipped)
        uow.commit()
        return outcome.invitation


_SKIP_MESSAGES = {
    "no_consent": "the member has not consented to contact on this channel",
    "recontact_limit": "the member was invited to a survey too recently",
}


def invite_after_purchases(
    uow: UnitOfWork, survey_id: int, start: datetime, end: datetime
) -> dict[str, int]:
    """Invite the members who bought in [start, end); one transaction, counts per outcome."""
    counts = {"invited": 0, "no_consent": 0, "recontact_limit": 0}
    with uow:
        survey = uow.surveys.get(survey_id)
        for event in uow.surveys.purchases_between(survey.program_id, start, end):
            member = uow.members.get(event.member_id)
            context = purchase_context(uow, member, event.id)
            outcome = invite_in(uow, survey, member, preferred_channel(member), context)
            counts[outcome.skipped or "invited"] += 1
        uow.commit()
    return counts


COMPLAINT_SURVEY = "complaint-csat"
COMPLAINT_QUESTIONS = [
    {
        "id": "satisfaction",
        "type": "csat",
        "text": {
            "zh-CN": "您对我们处理您投诉的方式满意吗？(1 = 非常不满意, 5 = 非常满意)",
            "en": "How satisfied are you with how we handled your complaint? "
            "(1 = very dissatisfied, 5 = very satisfied)",
        },
    },
    {
        "id": "comment",
        "type": "text",
        "text": {
            "zh-CN": "还有什么想告诉我们的吗？",
            "en": "Anything else you would like to tell us?",
        },
    },
]


def ensure_complaint_survey(uow: UnitOfWork, program_id: int) -> SurveyRow | None:
    """The active survey sent after a resolved complaint; a CSAT survey is created on
    first use. None when an admin has deactivated it (no survey is sent then)."""
    found = uow.surveys.active_for_trigger(program_id, "complaint_resolved")
    if found is not None:
        return found
    if uow.surveys.by_code(program_id, COMPLAINT_SURVEY) is not None:
        return None
    return uow.surveys.add(
        program_id=program_id,
        code=COMPLAINT_SURVEY,
        title={"zh-CN": "投诉处理满意度", "en": "Satisfaction with complaint handling"},
        questions=COMPLAINT_QUESTIONS,
        trigger="complaint_resolved",
        recontact_days=get_settings().survey_recontact_days,
        link_days=30,
        active=True,
        created_at=uow.clock(),
    )


def set_survey_active(uow: UnitOfWork, survey_id: int, active: bool) -> Survey:
    with uow:
        row = uow.surveys.get(survey_id)
        row.active = active
        uow.commit()
        return survey_of(row)


def invite_recent_buyers(uow: UnitOfWork, program_code: str, as_of: datetime) -> dict[str, int]:
    """For every active survey triggered by purchases, invite those who bought since
    the survey's last run (the first run looks back one day). Safe to repeat: a run
    records how far it got, and re-contact limits apply to every invitation."""
    from datetime import timedelta

    totals: dict[str, int] = {}
    with uow:
        program = uow.programs.get(program_code)
        surveys = [survey_of(row) for row in uow.surveys.all(program.id or 0)]
        due = [s for s in surveys if s.active and s.trigger == "purchase"]
        starts = {s.id: uow.jobs.last_as_of(f"survey:{s.id}", program.id or 0) for s in due}
    for survey in due:
        start = starts[survey.id] or as_of - timedelta(days=1)
        if start >= as_of:
            continue
        for outcome, count in invite_after_purchases(uow, survey.id, start, as_of).items():
            totals[outcome] = totals.get(outcome, 0) + count
        with uow:
            uow.jobs.record(f"survey:{survey.id}", program.id or 0, as_of, uow.clock())
            uow.commit()
    return totals
