"""Statistics over stored survey responses, per question and optionally per group.

Only stored responses count: an invitation shown and not answered never
reaches the responses table, and a question left unanswered in a response is
not counted for that question. NPS gets the adjusted-Wald interval and, with
exactly two groups (two periods, two stores), a z test of the difference; CSAT
the Wilson interval; SERVQUAL the gaps per item and dimension, unweighted and
weighted (``domain.surveys``, ``domain.servqual``). Groups: ``store``,
``staff``, ``channel`` or ``period`` (the calendar month of the response in
the program's time zone); a response without the group's value is "(none)".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from patronage.domain.servqual import GapEstimate, ServqualAnswers, servqual_gaps
from patronage.domain.survey_forms import Question, parse_questions
from patronage.domain.surveys import (
    NpsResult,
    compare_nps,
    customer_satisfaction,
    net_promoter_score,
)
from patronage.errors import InvalidInput
from patronage.storage.tables import SurveyResponseRow
from patronage.storage.uow import UnitOfWork

GROUPS = ("store", "staff", "channel", "period")
NONE_LABEL = "(none)"
DIGITS = 4
Payload = dict[str, Any]


def survey_results(
    uow: UnitOfWork,
    survey_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    group_by: str | None = None,
) -> Payload:
    if group_by is not None and group_by not in GROUPS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPS)}", field="group_by")
    with uow:
        survey = uow.surveys.get(survey_id)
        zone = ZoneInfo(uow.programs.get_by_id(survey.program_id).timezone)
        rows = uow.surveys.responses(survey_id, start, end)
        questions = parse_questions(survey.questions)
        label = _labeller(group_by, zone)
        groups: dict[str, list[SurveyResponseRow]] = {}
        for row in rows:
            groups.setdefault(label(row), []).append(row)
        payload: Payload = {
            "survey_id": survey_id,
            "responses": len(rows),
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "group_by": group_by,
            "questions": {
                q.id: _question(q, rows, groups if group_by else None) for q in questions
            },
        }
        return payload


@dataclass(frozen=True)
class Comment:
    question_id: str
    text: str
    submitted_at: datetime
    store: str | None
    language: str | None


def survey_comments(
    uow: UnitOfWork,
    survey_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
) -> list[Comment]:
    """The newest answers to the survey's open-text questions, newest first."""
    with uow:
        survey = uow.surveys.get(survey_id)
        text_ids = [q.id for q in parse_questions(survey.questions) if q.type == "text"]
        comments = [
            Comment(qid, str(row.answers[qid]), row.submitted_at, row.store, row.language)
            for row in reversed(uow.surveys.responses(survey_id, start, end))
            for qid in text_ids
            if str(row.answers.get(qid) or "").strip()
        ]
    return comments[:limit]


def _labeller(group_by: str | None, zone: ZoneInfo) -> Callable[[SurveyResponseRow], str]:
    def label(row: SurveyResponseRow) -> str:
        if group_by == "period":
            return row.submitted_at.astimezone(zone).strftime("%Y-%m")
        values = {"store": row.store, "staff": row.staff_id, "channel": row.channel}
        value = values.get(group_by or "")
        return value or NONE_LABEL

    return label


def _question(
    question: Question,
    rows: list[SurveyResponseRow],
    groups: dict[str, list[SurveyResponseRow]] | None,
) -> Payload:
    compute = {"nps": _nps, "csat": _csat, "servqual": _servqual, "text": _text}[question.type]
    payload: Payload = {"type": question.type, **compute(question.id, rows)}
    if groups is not None:
        payload["groups"] = {g: compute(question.id, groups[g]) for g in sorted(groups)}
        if question.type == "nps":
            comparison = _comparison(question.id, groups)
            if comparison is not None:
                payload["comparison"] = comparison
    return payload


def _answers(qid: str, rows: list[SurveyResponseRow]) -> list[Any]:
    return [row.answers[qid] for row in rows if row.answers.get(qid) is not None]


def _nps_result(qid: str, rows: list[SurveyResponseRow]) -> NpsResult | None:
    scores = _answers(qid, rows)
    return net_promoter_score(scores, field=qid) if scores else None


def _nps(qid: str, rows: list[SurveyResponseRow]) -> Payload:
    result = _nps_result(qid, rows)
    if result is None:
        return {"n": 0}
    return {
        "n": result.n,
        "nps": _round(result.nps),
        "promoters": result.promoters,
        "passives": result.passives,
        "detractors": result.detractors,
        "ci95": _interval(result.ci95),
        "method": result.method,
    }


def _comparison(qid: str, groups: dict[str, list[SurveyResponseRow]]) -> Payload | None:
    results = {g: _nps_result(qid, groups[g]) for g in sorted(groups)}
    answered = {g: r for g, r in results.items() if r is not None}
    if len(answered) != 2:
        return None
    (first, a), (second, b) = answered.items()
    comparison = compare_nps(a, b)
    return {
        "first": first,
        "second": second,
        "difference": _round(comparison.difference),
        "ci95": _interval(comparison.ci95),
        "z": _round(comparison.z),
        "p_value": _round(comparison.p_value),
    }


def _csat(qid: str, rows: list[SurveyResponseRow]) -> Payload:
    scores = _answers(qid, rows)
    if not scores:
        return {"n": 0}
    result = customer_satisfaction(scores, field=qid)
    return {
        "n": result.n,
        "csat": _round(result.csat),
        "satisfied": result.satisfied,
        "ci95": _interval(result.ci95),
        "method": result.method,
    }


def _servqual(qid: str, rows: list[SurveyResponseRow]) -> Payload:
    answers = [ServqualAnswers(a["E"], a["P"], a.get("weights")) for a in _answers(qid, rows)]
    if not answers:
        return {"n": 0}
    result = servqual_gaps(answers)
    return {
        "n": result.respondents,
        "items": {str(i): _gap(e) for i, e in result.items.items()},
        "dimensions": {d: _gap(e) for d, e in result.dimensions.items()},
        "unweighted_total": _gap(result.unweighted_total),
        "weighted_total": _gap(result.weighted_total),
        "method": "gap = perception - expectation; t intervals",
    }


def _text(qid: str, rows: list[SurveyResponseRow]) -> Payload:
    return {"n": len(_answers(qid, rows))}


def _gap(estimate: GapEstimate | None) -> Payload | None:
    if estimate is None:
        return None
    return {
        "gap": _round(estimate.mean),
        "n": estimate.n,
        "se": _round(estimate.standard_error),
        "ci95": _interval(estimate.ci95),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def _interval(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_round(ci[0]), _round(ci[1])]
