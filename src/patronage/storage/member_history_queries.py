"""What one member did and received, for member 360 (read-only), and the per-customer
purchase summary the churn and CLV models start from, aggregated in SQL.

The summary has the columns of ``analytics.summary.customer_summary`` for purchases on
or before a day: purchases on the same UTC day are one purchase day; amounts are in
major units (minor / 100), like ``analytics.platform_data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patronage.analytics.summary import EPOCH, SUMMARY_COLUMNS
from patronage.storage.insight_queries import day_of
from patronage.storage.tables import ComplaintRow, EventRow, OutboxRow, SurveyResponseRow, SurveyRow

RECENT = 20


def surveys_answered(session: Session, member_id: int, limit: int = RECENT) -> list[dict[str, Any]]:
    rows = session.execute(
        select(SurveyResponseRow, SurveyRow.code, SurveyRow.title, SurveyRow.questions)
        .join(SurveyRow, SurveyRow.id == SurveyResponseRow.survey_id)
        .where(SurveyResponseRow.member_id == member_id)
        .order_by(SurveyResponseRow.submitted_at.desc(), SurveyResponseRow.id.desc())
        .limit(limit)
    )
    return [
        {
            "survey": code,
            "title": title,
            "submitted_at": response.submitted_at,
            "channel": response.channel,
            "store": response.store,
            "scores": {
                q["id"]: (q["type"], response.answers[q["id"]])
                for q in questions
                if q.get("type") in ("nps", "csat") and response.answers.get(q["id"]) is not None
            },
        }
        for response, code, title, questions in rows
    ]


def complaints_of(session: Session, member_id: int, limit: int = RECENT) -> list[ComplaintRow]:
    return list(
        session.scalars(
            select(ComplaintRow)
            .where(ComplaintRow.member_id == member_id)
            .order_by(ComplaintRow.filed_at.desc(), ComplaintRow.id.desc())
            .limit(limit)
        )
    )


def messages_to(session: Session, member_id: int, limit: int = RECENT) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(OutboxRow)
        .where(OutboxRow.member_id == member_id)
        .order_by(OutboxRow.created_at.desc(), OutboxRow.id.desc())
        .limit(limit)
    )
    return [
        {
            "journey": row.journey,
            "step": row.step,
            "template": row.template,
            "channel": row.channel,
            "status": row.status,
            "created_at": row.created_at,
            "sent_at": row.sent_at,
        }
        for row in rows
    ]


def purchase_fingerprint(session: Session, program_id: int, until: date) -> tuple[int, int]:
    """(number of purchases, highest event id) up to ``until``: changes when the data do."""
    count, highest = session.execute(
        select(func.count(EventRow.id), func.coalesce(func.max(EventRow.id), 0)).where(
            *_purchases(program_id, until)
        )
    ).one()
    return int(count), int(highest)


def _purchases(program_id: int, until: date) -> list[Any]:
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC)
    return [
        EventRow.program_id == program_id,
        EventRow.type == "purchase",
        EventRow.occurred_at < end,
    ]


def purchase_summary(
    session: Session, program_id: int, until: date, member_id: int | None = None
) -> pd.DataFrame:
    """One row per buyer (or only ``member_id``): first/last purchase day, purchase days,
    gross spend, first-day spend, revenue (gross; refunds do not enter the models)."""
    day = day_of(session, EventRow.occurred_at)
    conditions = _purchases(program_id, until)
    if member_id is not None:
        conditions.append(EventRow.member_id == member_id)
    daily = (
        select(
            EventRow.member_id.label("member_id"),
            day.label("day"),
            func.sum(func.abs(func.coalesce(EventRow.amount_minor, 0))).label("amount"),
        )
        .where(*conditions)
        .group_by(EventRow.member_id, day)
        .subquery()
    )
    per = (
        select(
            daily.c.member_id,
            func.min(daily.c.day).label("first"),
            func.max(daily.c.day).label("last"),
            func.count().label("days"),
            func.sum(daily.c.amount).label("gross"),
        )
        .group_by(daily.c.member_id)
        .subquery()
    )
    rows = session.execute(
        select(per.c.member_id, per.c.first, per.c.last, per.c.days, per.c.gross, daily.c.amount)
        .join(daily, (daily.c.member_id == per.c.member_id) & (daily.c.day == per.c.first))
        .order_by(per.c.member_id)
    ).all()
    return _frame(rows)


def _frame(rows: Sequence[Any]) -> pd.DataFrame:
    raw = pd.DataFrame(
        rows, columns=["member_id", "first", "last", "days", "gross", "first_amount"]
    )
    epoch = pd.Timestamp(EPOCH)
    frame = pd.DataFrame(
        {
            "customer_id": raw["member_id"].astype(str),
            "first_day": (pd.to_datetime(raw["first"]) - epoch).dt.days.astype("int64"),
            "last_day": (pd.to_datetime(raw["last"]) - epoch).dt.days.astype("int64"),
            "purchase_days": raw["days"].astype("int64"),
            "gross": raw["gross"].astype("float64") / 100.0,
            "first_day_amount": raw["first_amount"].astype("float64") / 100.0,
        }
    )
    frame["revenue"] = frame["gross"]
    return frame[list(SUMMARY_COLUMNS)]
