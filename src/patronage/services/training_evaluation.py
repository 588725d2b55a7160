"""Training evaluated from the platform's own data (Kirkpatrick levels 1-4).

Level 1: post-course reactions, by store. Level 2: pre-test against the counted
attempt of the same quizzes. Level 3: complaint handling by each trained staff
member (assignee) before and after training, and survey responses naming them.
Level 4: the customers each staff member served, through the staggered
difference-in-differences of ``analytics.training_effect``; interactions are
purchases (``events.staff_id``) or survey responses naming a staff member, and
trainings are completed enrollments.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from statistics import fmean, median
from typing import Any

import numpy as np
import pandas as pd

from patronage.domain.training import LearningGain, cohort_gain
from patronage.domain.training_assessment import Quiz, QuizAttempt, counted_attempt
from patronage.errors import InvalidInput
from patronage.storage.uow import UnitOfWork

OUTCOMES = ("repeat_purchase_30d", "spend", "csat", "nps", "complaint_rate")
_REPEAT = re.compile(r"^repeat_purchase_(\d{1,3})d$")
COMPLAINT_DAYS = 30
COLUMNS = ["staff_id", "customer_id", "occurred_at", "outcome"]


def _frame(rows: Sequence[tuple[str, int, datetime, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["staff_id"] = frame["staff_id"].astype("string")
    return frame


def _purchases(uow: UnitOfWork) -> pd.DataFrame:
    rows = uow.training.purchases()
    frame = pd.DataFrame(rows, columns=["customer_id", "occurred_at", "staff_id", "amount"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame.sort_values(["customer_id", "occurred_at"], kind="stable")


def _seconds(stamps: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    seconds: np.ndarray[Any, np.dtype[np.float64]] = (
        (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    )
    return seconds


def _within(frame: pd.DataFrame, later: pd.DataFrame, days: int) -> pd.Series:
    """Whether each row's customer has a row of ``later`` in (occurred_at, +days]."""
    times = {
        customer: np.sort(_seconds(group["occurred_at"]))
        for customer, group in later.groupby("customer_id")
    }
    empty = np.empty(0, dtype=np.float64)
    hits = []
    for customer, at in zip(frame["customer_id"], _seconds(frame["occurred_at"]), strict=True):
        found = times.get(customer, empty)
        after = int(np.searchsorted(found, at, side="right"))
        hits.append(after < found.size and found[after] <= at + days * 86400)
    return pd.Series(hits, index=frame.index, dtype="float64")


def _served(purchases: pd.DataFrame, as_of: datetime, days: int) -> pd.DataFrame:
    """Purchases with a staff member, old enough for a full ``days`` window."""
    limit = pd.Timestamp(as_of) - pd.Timedelta(days=days)
    return purchases[purchases["staff_id"].notna() & (purchases["occurred_at"] <= limit)]


def _answer(answers: dict[str, Any], questions: list[Any], kind: str) -> float | None:
    for question in questions:
        if question.get("type") == kind and isinstance(answers.get(question.get("id")), int):
            value = int(answers[question["id"]])
            if kind == "nps":
                return 100.0 if value >= 9 else (-100.0 if value <= 6 else 0.0)
            return float(value)
    return None


def check_outcome(outcome: str) -> None:
    """Refuse an outcome the report does not know (before any data is read)."""
    repeat = _REPEAT.match(outcome)
    if repeat is None and outcome not in ("spend", "complaint_rate", "csat", "nps"):
        raise InvalidInput(
            f"outcome must be one of {', '.join(OUTCOMES)} (or repeat_purchase_<N>d)",
            field="outcome",
        )
    if repeat is not None and int(repeat.group(1)) < 1:
        raise InvalidInput("repeat_purchase needs at least 1 day", field="outcome")


def interactions(uow: UnitOfWork, outcome: str, as_of: datetime) -> pd.DataFrame:
    """(staff_id, customer_id, occurred_at, outcome) for one outcome, from the database."""
    check_outcome(outcome)
    repeat = _REPEAT.match(outcome)
    if outcome in ("csat", "nps"):
        found = [
            (staff, member, at, value)
            for staff, member, at, answers, questions in uow.training.staff_responses()
            if (value := _answer(answers, questions, outcome)) is not None
        ]
        return _frame(found)
    purchases = _purchases(uow)
    if outcome == "spend":
        served = purchases[purchases["staff_id"].notna() & purchases["amount"].notna()]
        values = served["amount"].astype("float64") / 100
    elif repeat is not None:
        days = int(repeat.group(1))
        served = _served(purchases, as_of, days)
        values = _within(served, purchases, days)
    else:
        served = _served(purchases, as_of, COMPLAINT_DAYS)
        complaints = pd.DataFrame(uow.training.complaint_times(), columns=["customer_id", "at"])
        complaints["occurred_at"] = pd.to_datetime(complaints["at"], utc=True)
        values = _within(served, complaints, COMPLAINT_DAYS)
    rows = zip(
        served["staff_id"], served["customer_id"], served["occurred_at"], values, strict=True
    )
    return _frame(list(rows))


def trainings(uow: UnitOfWork) -> pd.DataFrame:
    frame = pd.DataFrame(uow.training.completions(), columns=["staff_id", "course_id", "at"])
    frame["completed_at"] = pd.to_datetime(frame["at"], utc=True)
    return frame.drop(columns="at").astype({"staff_id": "string", "course_id": "string"})


def check_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", field="tz") from None


def check_impact_query(outcome: str, period: str, tz: str) -> None:
    """The level-4 report's own arguments, checked before any data is read."""
    from patronage.analytics.training_panel import PeriodUnit

    if period not in {u.value for u in PeriodUnit}:
        raise InvalidInput("period must be month or week", field="period")
    check_zone(tz)
    check_outcome(outcome)


def training_impact(
    uow: UnitOfWork,
    outcome: str,
    course: str | None = None,
    period: str = "month",
    tz: str = "UTC",
    roi: tuple[Decimal, Decimal] | None = None,
) -> dict[str, Any]:
    """Level 4: the same JSON as ``patronage training evaluate`` on files
    (``services.training_impact_jobs`` computes the same in the background)."""
    from patronage.analytics.training_effect import evaluate_training
    from patronage.analytics.training_panel import PeriodUnit
    from patronage.analytics.training_report import effect_payload, roi_payload

    check_impact_query(outcome, period, tz)
    with uow:
        frame = interactions(uow, outcome, uow.clock())
        trained = trainings(uow)
    result = evaluate_training(frame, trained, "outcome", course=course,
                               unit=PeriodUnit(period), tz=tz)  # fmt: skip
    payload = effect_payload(result)
    payload["outcome"] = outcome
    if roi is not None:
        payload["roi"] = roi_payload(result, *roi)
    return payload


# --- levels 1-3 ----------------------------------------------------------------


def reaction_by_store(uow: UnitOfWork) -> dict[str, Any]:
    groups: dict[str, list[int]] = defaultdict(list)
    for store, _course, rating, _relevance in uow.training.reactions():
        groups[store or "-"].append(rating)
    every = [r for ratings in groups.values() for r in ratings]
    return {
        "responses": len(every),
        "mean_rating": round(fmean(every), 3) if every else None,
        "by_store": [
            {"store": store, "responses": len(r), "mean_rating": round(fmean(r), 3)}
            for store, r in sorted(groups.items())
        ],
    }


def learning_gain(uow: UnitOfWork) -> dict[str, Any]:
    """Per completed enrollment with a pre-test: mean pre vs counted percent, same quizzes."""
    attempts: dict[int, dict[tuple[str, str], list[QuizAttempt]]] = defaultdict(dict)
    courses: dict[int, int] = {}
    for enrollment, row in uow.training.attempts_of_completed():
        courses[enrollment.id] = enrollment.course_id
        key = (row.phase, row.activity_id)
        attempt = QuizAttempt(row.number, row.points, row.max_points, row.submitted_at)
        attempts[enrollment.id].setdefault(key, []).append(attempt)
    gains = []
    for enrollment_id, found in attempts.items():
        course = uow.training.course(courses[enrollment_id])
        pre, post = [], []
        for (phase, quiz_id), tries in found.items():
            quiz = course.activity(quiz_id)
            if phase != "pre" or not isinstance(quiz, Quiz):
                continue
            decisive = counted_attempt(quiz, found.get(("post", quiz_id), []))
            if decisive is not None:
                pre.append(tries[0].percent)
                post.append(decisive.percent)
        if pre:
            gains.append(LearningGain(fmean(pre), fmean(post)))
    if not gains:
        return {"learners": 0}
    cohort = cohort_gain(gains)
    normalised = [g.normalised_gain for g in gains if g.normalised_gain is not None]
    return {
        "learners": cohort.learners,
        "mean_pre_percent": round(cohort.mean_pre, 2),
        "mean_post_percent": round(cohort.mean_post, 2),
        "mean_gain": round(cohort.mean_gain, 2),
        "mean_normalised_gain": round(fmean(normalised), 3) if normalised else None,
    }


def _handling(rows: list[Any]) -> dict[str, Any]:
    responses = [
        (r.first_response_at - r.filed_at).total_seconds() / 60
        for r in rows
        if r.first_response_at is not None
    ]
    return {
        "complaints": len(rows),
        "median_first_response_minutes": round(median(responses), 1) if responses else None,
        "recovery_rate": round(sum(r.resolved_at is not None for r in rows) / len(rows), 4)
        if rows
        else None,
    }


def behaviour(uow: UnitOfWork, course: str | None = None) -> list[dict[str, Any]]:
    """Level 3: per trained staff member, complaint handling and mentions, before/after."""
    trained: dict[str, datetime] = {}
    for staff_id, code, completed_at in uow.training.completions():
        if course is None or code == course:
            trained[staff_id] = min(completed_at, trained.get(staff_id, completed_at))
    complaints = defaultdict(list)
    for row in uow.training.assigned_complaints():
        complaints[row.assignee].append(row)
    mentions = defaultdict(list)
    for staff_id, _member, at, answers, questions in uow.training.staff_responses():
        mentions[staff_id].append((at, _answer(answers, questions, "csat")))
    report = []
    for staff_id, at in sorted(trained.items()):
        phases: dict[str, Any] = {}
        for name, after in (("before", False), ("after", True)):
            handled = [c for c in complaints[staff_id] if (c.filed_at >= at) is after]
            said = [m for m in mentions[staff_id] if (m[0] >= at) is after]
            scores = [s for _, s in said if s is not None]
            phases[name] = {
                **_handling(handled),
                "survey_mentions": len(said),
                "mean_csat": round(fmean(scores), 3) if scores else None,
            }
        report.append({"staff_id": staff_id, "trained_at": at, **phases})
    return report


def kirkpatrick(uow: UnitOfWork, course: str | None = None) -> dict[str, Any]:
    """Levels 1-3 in one report (level 4: ``training_impact``)."""
    with uow:
        return {
            "as_of": uow.clock(),
            "level1_reaction": reaction_by_store(uow),
            "level2_learning": learning_gain(uow),
            "level3_behaviour": behaviour(uow, course),
            "window_days": {"complaint_rate": COMPLAINT_DAYS},
        }
