"""Surveys: definitions, invitations, staff-recorded responses, results; and the
public, token-addressed link a member answers through (no API key)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from patronage.http.deps import AdminOnly, IdempotencyKey, StaffOrAdmin, Uow, require_role
from patronage.http.voice_schemas import (
    InvitationIn,
    PurchaseInvitationsIn,
    StaffAnswersIn,
    SurveyIn,
    TokenAnswersIn,
)
from patronage.services import survey_responses, survey_results, surveys
from patronage.services.access import Principal

router = APIRouter(prefix="/surveys", tags=["surveys"])
public = APIRouter(prefix="/survey-responses", tags=["surveys"])
Payload = dict[str, Any]
SurveyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Token = Annotated[str, Path(max_length=200)]
Language = Annotated[str, Query(max_length=8)]
Reader = Annotated[Principal, Depends(require_role("admin", "staff", "analyst"))]
AnalystOrAdmin = Annotated[Principal, Depends(require_role("admin", "analyst"))]


def survey_out(survey: surveys.Survey) -> Payload:
    data = asdict(survey)
    data["questions"] = [q.as_dict() for q in survey.questions]
    return data


@router.post("", status_code=201)
def define(body: SurveyIn, uow: Uow, _: AdminOnly) -> Payload:
    survey = surveys.define_survey(
        uow,
        body.code,
        body.title,
        body.questions,
        body.trigger,
        body.recontact_days,
        body.link_days,
        body.program,
    )
    return survey_out(survey)


@router.get("")
def list_all(
    uow: Uow, _: Reader, program: Annotated[str, Query(max_length=64)] = "default"
) -> list[Payload]:
    return [survey_out(s) for s in surveys.list_surveys(uow, program)]


@router.get("/{survey_id}")
def get_one(survey_id: SurveyId, uow: Uow, _: Reader) -> Payload:
    return survey_out(surveys.get_survey(uow, survey_id))


@router.post("/{survey_id}/invitations", status_code=201)
def invite(survey_id: SurveyId, body: InvitationIn, uow: Uow, _: StaffOrAdmin) -> Payload:
    invitation = surveys.invite_member(
        uow, survey_id, body.member_id, body.send_channel, body.event_id
    )
    return asdict(invitation)


@router.post("/{survey_id}/purchase-invitations")
def invite_buyers(
    survey_id: SurveyId, body: PurchaseInvitationsIn, uow: Uow, _: AdminOnly
) -> dict[str, int]:
    return surveys.invite_after_purchases(uow, survey_id, body.start, body.end)


@router.post("/{survey_id}/responses", status_code=201)
def record(
    survey_id: SurveyId,
    body: StaffAnswersIn,
    uow: Uow,
    principal: StaffOrAdmin,
    key: IdempotencyKey = None,
) -> Payload:
    """Answers taken by staff; retried with the same Idempotency-Key, the first response."""
    response = survey_responses.record_staff_response(
        uow,
        survey_id,
        body.member_id,
        body.answers,
        principal.label,
        invitation_id=body.invitation_id,
        channel=body.channel,
        store=body.store,
        staff_id=body.staff_id,
        language=body.language,
        idempotency_key=key,
    )
    return asdict(response)


@router.get("/{survey_id}/results")
def results(
    survey_id: SurveyId,
    uow: Uow,
    _: AnalystOrAdmin,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    group_by: Annotated[str | None, Query(max_length=16)] = None,
) -> Payload:
    return survey_results.survey_results(uow, survey_id, start, end, group_by)


@public.get("/{token}")
def show(token: Token, uow: Uow, language: Language = "zh-CN") -> Payload:
    """The survey behind a member's link, in zh-CN or en; no API key needed."""
    return survey_responses.show_by_token(uow, token, language)


@public.post("/{token}", status_code=201)
def answer(token: Token, body: TokenAnswersIn, uow: Uow, key: IdempotencyKey = None) -> Payload:
    """Answer through a member's link, once; no API key needed. Retried with the same
    Idempotency-Key and answers, it returns the first response instead of 409."""
    response = survey_responses.respond_by_token(uow, token, body.answers, body.language, key)
    return {
        "id": response.id,
        "survey_id": response.survey_id,
        "submitted_at": response.submitted_at,
    }
