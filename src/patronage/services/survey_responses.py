"""Survey responses: by a member's signed link (no login), or recorded by staff.

An invitation is answered at most once: the answer claims it in one atomic
update, and a second answer with the same token is a conflict (409). Answers
are checked against the survey's questions before anything is written; a
response keeps the member, the channel, and the store and staff member that
served them (from the invitation's triggering purchase, or given by staff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from patronage.config import get_settings
from patronage.domain.survey_forms import (
    LANGUAGES,
    check_answers,
    parse_questions,
    read_invitation_token,
)
from patronage.errors import Conflict, InvalidInput, NotFound, RuleViolation
from patronage.services.idempotency import run_once
from patronage.services.surveys import survey_of
from patronage.storage.tables import SurveyInvitationRow, SurveyResponseRow, SurveyRow
from patronage.storage.uow import UnitOfWork

STAFF_GIVEN = ("channel", "store", "staff_id")  # what staff may state over an invitation's


@dataclass(frozen=True)
class Response:
    id: int
    survey_id: int
    member_id: int
    invitation_id: int | None
    answers: dict[str, Any]
    channel: str | None
    store: str | None
    staff_id: str | None
    source: str
    submitted_at: datetime


def _invitation_by_token(uow: UnitOfWork, token: str) -> SurveyInvitationRow:
    invitation_id, member_id = read_invitation_token(get_settings().secret_key, token)
    invitation = uow.surveys.invitation(invitation_id)
    if invitation.member_id != member_id:
        raise NotFound("this survey link is not valid", field="token")
    return invitation


def show_by_token(uow: UnitOfWork, token: str, language: str = "zh-CN") -> dict[str, Any]:
    """The survey in one language, for the member's link; records that it was shown."""
    _check_language(language)
    with uow:
        invitation = _invitation_by_token(uow, token)
        survey = survey_of(uow.surveys.get(invitation.survey_id))
        uow.surveys.mark_shown(invitation.id, uow.clock())
        uow.commit()
    return {
        "survey_id": survey.id,
        "title": survey.title[language],
        "language": language,
        "answered": invitation.responded_at is not None,
        "expires_at": invitation.expires_at.isoformat(),
        "questions": [
            {"id": q.id, "type": q.type, "text": q.text[language]} for q in survey.questions
        ],
    }


def respond_by_token(
    uow: UnitOfWork,
    token: str,
    answers: dict[str, Any],
    language: str = "zh-CN",
    idempotency_key: str | None = None,
) -> Response:
    """The member's answers through their link: once per invitation (409 after). Sent
    again with the same ``idempotency_key`` and answers, it returns the first response."""
    _check_language(language)
    invitation_id, _ = read_invitation_token(get_settings().secret_key, token)

    def operation(u: UnitOfWork) -> Response:
        invitation = _invitation_by_token(u, token)
        if u.clock() > invitation.expires_at:
            raise RuleViolation("this survey link has expired", code="link_expired")
        survey = u.surveys.get(invitation.survey_id)
        values = _response_values(invitation, "link", None, language)
        return _store_response(u, survey, invitation.id, answers, values)

    payload = {"answers": answers, "language": language}
    scope = f"survey-invitation:{invitation_id}"
    return run_once(uow, scope, idempotency_key, payload, operation, _decode_response)


def record_staff_response(
    uow: UnitOfWork,
    survey_id: int,
    member_id: int,
    answers: dict[str, Any],
    actor: str,
    invitation_id: int | None = None,
    channel: str | None = None,
    store: str | None = None,
    staff_id: str | None = None,
    language: str = "zh-CN",
    idempotency_key: str | None = None,
) -> Response:
    """Answers taken by staff (phone, counter); an invitation, if named, is used up.
    Sent again with the same ``idempotency_key`` and request, it returns the first response."""
    _check_language(language)
    values = {
        "member_id": member_id,
        "channel": channel,
        "store": store,
        "staff_id": staff_id,
        "source": "staff",
        "actor": actor,
        "language": language,
    }

    def operation(u: UnitOfWork) -> Response:
        return _staff_response(u, survey_id, invitation_id, answers, values)

    payload = {**values, "answers": answers, "invitation_id": invitation_id}
    scope = f"survey:{survey_id}:responses"
    return run_once(uow, scope, idempotency_key, payload, operation, _decode_response)


def _staff_response(
    uow: UnitOfWork,
    survey_id: int,
    invitation_id: int | None,
    answers: dict[str, Any],
    values: dict[str, Any],
) -> Response:
    survey = uow.surveys.get(survey_id)
    uow.members.get(values["member_id"])
    if invitation_id is not None:
        invitation = uow.surveys.invitation(invitation_id)
        if (invitation.survey_id, invitation.member_id) != (survey_id, values["member_id"]):
            raise InvalidInput(
                "the invitation is for another survey or member", field="invitation_id"
            )
        given = {k: v for k, v in values.items() if v is not None and k in STAFF_GIVEN}
        values = _response_values(invitation, "staff", values["actor"], values["language"])
        values |= given
    return _store_response(uow, survey, invitation_id, answers, values)


def _decode_response(data: dict[str, Any]) -> Response:
    return Response(**{**data, "submitted_at": datetime.fromisoformat(data["submitted_at"])})


def _response_values(
    invitation: SurveyInvitationRow, source: str, actor: str | None, language: str
) -> dict[str, Any]:
    return {
        "member_id": invitation.member_id,
        "channel": invitation.channel,
        "store": invitation.store,
        "staff_id": invitation.staff_id,
        "source": source,
        "actor": actor,
        "language": language,
    }


def _store_response(
    uow: UnitOfWork,
    survey: SurveyRow,
    invitation_id: int | None,
    answers: dict[str, Any],
    values: dict[str, Any],
) -> Response:
    """Check, claim the invitation and store (the caller holds ``with uow`` and commits)."""
    checked = check_answers(parse_questions(survey.questions), answers)
    now = uow.clock()
    if invitation_id is not None and not uow.surveys.claim_invitation(invitation_id, now):
        raise Conflict("this survey was already answered", code="already_answered")
    try:
        row = uow.surveys.add_response(
            survey_id=survey.id,
            invitation_id=invitation_id,
            answers=checked,
            submitted_at=now,
            **values,
        )
    except IntegrityError:
        raise Conflict("this survey was already answered", code="already_answered") from None
    return response_of(row)


def response_of(row: SurveyResponseRow) -> Response:
    return Response(
        id=row.id,
        survey_id=row.survey_id,
        member_id=row.member_id,
        invitation_id=row.invitation_id,
        answers=dict(row.answers),
        channel=row.channel,
        store=row.store,
        staff_id=row.staff_id,
        source=row.source,
        submitted_at=row.submitted_at,
    )


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
