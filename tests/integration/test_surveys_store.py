"""Surveys through the stored path, on SQLite and PostgreSQL: invitations with
consent and re-contact limits, signed links, responses, and their statistics."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.domain.surveys import compare_nps, net_promoter_score
from patronage.errors import Conflict, InvalidInput, NotFound, RuleViolation
from patronage.services import survey_responses, surveys
from patronage.services.survey_results import survey_results
from patronage.storage.tables import SurveyInvitationRow, SurveyResponseRow


def text(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


QUESTIONS: list[dict[str, Any]] = [
    {"id": "recommend", "type": "nps", "text": text("您有多大可能推荐我们？", "How likely...?")},
    {"id": "satisfied", "type": "csat", "text": text("您满意吗？", "Satisfied?")},
    {"id": "quality", "type": "servqual", "text": text("服务质量", "Service quality")},
    {"id": "comment", "type": "text", "text": text("意见", "Comments")},
]


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    return Shop(engine, clock)


@pytest.fixture
def survey(shop: Shop) -> surveys.Survey:
    return surveys.define_survey(
        shop.uow(), "after-visit", text("到店体验", "Your visit"), QUESTIONS, trigger="purchase"
    )


def count(engine: Engine, row: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(row)) or 0)


def invite_buyer(shop: Shop, survey: surveys.Survey, name: str, store: str) -> str:
    member = shop.member(name, consents={"email": True})
    bought = shop.buy(member, "30.00", store=store, staff_id=f"staff-{store}", channel="store")
    invitation = surveys.invite_member(shop.uow(), survey.id, member.id, "email", bought.event_id)
    return invitation.token


def test_a_response_by_link_keeps_who_served_the_member(shop: Shop, survey: surveys.Survey) -> None:
    token = invite_buyer(shop, survey, "a", "shanghai-1")
    shown = survey_responses.show_by_token(shop.uow(), token, "en")
    assert [q["text"] for q in shown["questions"]][:2] == ["How likely...?", "Satisfied?"]
    servqual = {"E": [6] * 22, "P": [5] * 22, "weights": None}
    response = survey_responses.respond_by_token(
        shop.uow(), token, {"recommend": 9, "satisfied": 4, "quality": servqual, "comment": "好"}
    )
    assert (response.store, response.staff_id, response.channel) == (
        "shanghai-1",
        "staff-shanghai-1",
        "store",
    )
    assert response.source == "link"


def test_answering_twice_with_one_token_is_a_conflict(
    shop: Shop, survey: surveys.Survey, engine: Engine
) -> None:
    token = invite_buyer(shop, survey, "a", "s1")
    survey_responses.respond_by_token(shop.uow(), token, {"recommend": 10})
    with pytest.raises(Conflict) as raised:
        survey_responses.respond_by_token(shop.uow(), token, {"recommend": 3})
    assert raised.value.code == "already_answered"
    assert count(engine, SurveyResponseRow) == 1


def test_a_score_out_of_range_names_the_question_and_writes_nothing(
    shop: Shop, survey: surveys.Survey, engine: Engine
) -> None:
    token = invite_buyer(shop, survey, "a", "s1")
    for answers, field in (
        ({"recommend": 11}, "answers.recommend"),
        ({"recommend": 9, "satisfied": 0}, "answers.satisfied"),
        ({"quality": {"E": [6] * 22, "P": [8] + [5] * 21}}, "answers.quality.P1"),
        ({"nonsense": 1}, "answers.nonsense"),
        ({"recommend": None, "comment": ""}, "answers"),
    ):
        with pytest.raises(InvalidInput) as raised:
            survey_responses.respond_by_token(shop.uow(), token, answers)
        assert raised.value.details["field"] == field
    assert count(engine, SurveyResponseRow) == 0
    with engine.connect() as conn:
        assert conn.scalar(select(SurveyInvitationRow.responded_at)) is None
    survey_responses.respond_by_token(shop.uow(), token, {"recommend": 7})  # the link still works
    assert count(engine, SurveyResponseRow) == 1


def test_consent_and_the_recontact_limit_are_honoured(
    shop: Shop, survey: surveys.Survey, engine: Engine
) -> None:
    quiet = shop.member("q", consents={"email": False, "sms": True})
    with pytest.raises(RuleViolation) as raised:
        surveys.invite_member(shop.uow(), survey.id, quiet.id, "email")
    assert raised.value.code == "no_consent"
    surveys.invite_member(shop.uow(), survey.id, quiet.id, "sms")
    shop.clock.advance(days=29)
    with pytest.raises(RuleViolation) as again:
        surveys.invite_member(shop.uow(), survey.id, quiet.id, "sms")
    assert again.value.code == "recontact_limit"
    assert count(engine, SurveyInvitationRow) == 1
    shop.clock.advance(days=1)
    surveys.invite_member(shop.uow(), survey.id, quiet.id, "sms")
    assert count(engine, SurveyInvitationRow) == 2


def test_purchase_batch_invites_within_limits(shop: Shop, survey: surveys.Survey) -> None:
    start = shop.clock()
    yes, no = shop.member("y", consents={"email": True}), shop.member("n")
    shop.buy(yes, "10.00")
    shop.buy(yes, "12.00")
    shop.buy(no, "10.00")
    shop.clock.advance(hours=1)
    counts = surveys.invite_after_purchases(shop.uow(), survey.id, start, shop.clock())
    assert counts == {"invited": 1, "no_consent": 1, "recontact_limit": 1}


def test_forged_or_re_pointed_links_are_not_found(shop: Shop, survey: surveys.Survey) -> None:
    token = invite_buyer(shop, survey, "a", "s1")
    invitation_id, member_id, signature = token.split(".")
    for bad in (
        f"{invitation_id}.{member_id}.{'0' * len(signature)}",
        f"{invitation_id}.{int(member_id) + 1}.{signature}",
        "not-a-token",
    ):
        with pytest.raises(NotFound):
            survey_responses.respond_by_token(shop.uow(), bad, {"recommend": 9})


def test_an_expired_link_is_refused(shop: Shop, survey: surveys.Survey) -> None:
    token = invite_buyer(shop, survey, "a", "s1")
    shop.clock.advance(days=31)
    with pytest.raises(RuleViolation) as raised:
        survey_responses.respond_by_token(shop.uow(), token, {"recommend": 9})
    assert raised.value.code == "link_expired"


def test_results_count_only_answers_and_compare_two_stores(
    shop: Shop, survey: surveys.Survey
) -> None:
    scores = {"north": [10, 9, 9, 6, 8], "south": [3, 5, 9, 10, 6, 2]}
    for store, values in scores.items():
        for i, score in enumerate(values):
            token = invite_buyer(shop, survey, f"{store}-{i}", store)
            survey_responses.respond_by_token(
                shop.uow(), token, {"recommend": score, "satisfied": 4}
            )
    shown_only = invite_buyer(shop, survey, "shy", "north")
    survey_responses.show_by_token(shop.uow(), shown_only)
    results = survey_results(shop.uow(), survey.id, group_by="store")
    nps = results["questions"]["recommend"]
    everyone = net_promoter_score(scores["north"] + scores["south"])
    assert (nps["n"], nps["nps"]) == (11, round(everyone.nps, 4))
    assert nps["groups"]["north"]["n"] == 5
    expected = compare_nps(net_promoter_score(scores["north"]), net_promoter_score(scores["south"]))
    assert nps["comparison"]["p_value"] == round(expected.p_value, 4)
    assert results["questions"]["satisfied"]["csat"] == 100.0
    assert results["questions"]["quality"] == {
        "type": "servqual",
        "n": 0,
        "groups": {"north": {"n": 0}, "south": {"n": 0}},
    }


def test_staff_record_a_response_for_an_invitation(shop: Shop, survey: surveys.Survey) -> None:
    member = shop.member("a", consents={"sms": True})
    invitation = surveys.invite_member(shop.uow(), survey.id, member.id, "sms")
    response = survey_responses.record_staff_response(
        shop.uow(),
        survey.id,
        member.id,
        {"satisfied": 5},
        "apikey:1",
        invitation_id=invitation.id,
        store="desk",
        staff_id="wang",
    )
    assert (response.source, response.store, response.staff_id) == ("staff", "desk", "wang")
    with pytest.raises(Conflict):
        survey_responses.respond_by_token(shop.uow(), invitation.token, {"satisfied": 1})


def test_purchase_surveys_job_invites_each_buyer_once(shop: Shop, survey: surveys.Survey) -> None:
    from patronage.services.jobs import JOBS

    yes = shop.member("y", consents={"email": True})
    shop.buy(yes, "10.00")
    shop.clock.advance(hours=1)
    first = surveys.invite_recent_buyers(shop.uow(), "default", shop.clock())
    assert first == {"invited": 1, "no_consent": 0, "recontact_limit": 0}
    assert surveys.invite_recent_buyers(shop.uow(), "default", shop.clock()) == {}
    shop.clock.advance(days=40)
    shop.buy(yes, "11.00")
    shop.clock.advance(hours=1)
    assert "'invited': 1" in JOBS["surveys"](shop.uow(), "default", shop.clock())
