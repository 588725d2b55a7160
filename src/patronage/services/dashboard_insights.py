"""The dashboard's panels beyond points: tier moves, RFM segments, NPS with its margin
of error, complaint SLA attainment and the campaigns that cost the most.

Everything is aggregated in SQL (``storage.insight_queries``); Python only scores the
per-buyer RFM rows (vectorised, ``analytics.rfm``; a heavy panel, see
``services.dashboard.HEAVY``), turns monthly NPS counts into
intervals (``domain.surveys``) and runs the SLA clocks of the complaints filed in the
range, which need the business calendar (``services.complaint_sla``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from patronage.analytics import rfm
from patronage.analytics.summary import day_number
from patronage.domain.program import Program
from patronage.domain.survey_forms import parse_questions
from patronage.domain.surveys import nps_from_counts
from patronage.services.complaint_sla import attainment_by_clock, clocks_for
from patronage.storage import insight_queries as q
from patronage.storage.dashboard_queries import DashboardFilter
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Insights:
    tier_moves: list[dict[str, Any]] = field(default_factory=list)
    rfm_segments: list[dict[str, Any]] = field(default_factory=list)
    nps_months: list[dict[str, Any]] = field(default_factory=list)
    nps_total: dict[str, Any] | None = None
    sla_months: list[dict[str, Any]] = field(default_factory=list)
    sla_total: dict[str, dict[str, Any]] = field(default_factory=dict)
    complaints: int = 0
    campaigns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def upgrades(self) -> int:
        return sum(m["members"] for m in self.tier_moves if m["direction"] == "up")

    @property
    def downgrades(self) -> int:
        return sum(m["members"] for m in self.tier_moves if m["direction"] == "down")


def load_insights(
    uow: UnitOfWork, f: DashboardFilter, program: Program, months: list[str]
) -> Insights:
    """The panels for one filter but RFM, inside the caller's ``with uow``."""
    nps_months, nps_total = _nps(uow, f, months)
    sla_months, sla_total, complaints = _sla(uow, f, months)
    return Insights(
        tier_moves=q.tier_moves(uow.session, f),
        nps_months=nps_months,
        nps_total=nps_total,
        sla_months=sla_months,
        sla_total=sla_total,
        complaints=complaints,
        campaigns=_campaigns(uow, f, program.point_value_minor),
    )


def segment_slug(name: str) -> str:
    """'Can't lose them' -> 'cant_lose_them': the segment's message key."""
    return "".join(c for c in name.lower().replace(" ", "_") if c.isalnum() or c == "_")


def rfm_segments(
    rows: list[tuple[int, datetime, int, int]], f: DashboardFilter
) -> list[dict[str, Any]]:
    """The RFM segment table of the buyers' rows (``insight_queries.rfm_inputs``)."""
    if not rows:
        return []
    members, last, days, spend = zip(*rows, strict=True)
    last_days = (
        pd.to_datetime(pd.Series(last), utc=True).dt.tz_localize(None).dt.normalize()
        - pd.Timestamp("1970-01-01")
    ).dt.days
    summary = pd.DataFrame(
        {
            "customer_id": [str(m) for m in members],
            "last_day": last_days.to_numpy(dtype=np.int64),
            "purchase_days": np.array(days, dtype=np.int64),
            "revenue": np.array(spend, dtype=np.float64) / 100.0,
        }
    )
    as_of = (f.end - timedelta(microseconds=1)).date()
    summary["last_day"] = np.minimum(summary["last_day"], day_number(as_of))
    table = rfm.segment_table(rfm.score(summary, as_of))
    return [
        {**row, "slug": segment_slug(row["segment"]), "revenue_minor": round(row["revenue"] * 100)}
        for row in table
    ]


def _nps_questions(uow: UnitOfWork, program_id: int) -> dict[str, list[int]]:
    """NPS question id -> the surveys asking it."""
    asked: dict[str, list[int]] = defaultdict(list)
    for survey in uow.surveys.all(program_id):
        for question in parse_questions(survey.questions):
            if question.type == "nps":
                asked[question.id].append(survey.id)
    return asked


def _nps_point(promoters: int, passives: int, detractors: int) -> dict[str, Any] | None:
    if promoters + passives + detractors == 0:
        return None
    result = nps_from_counts(promoters=promoters, passives=passives, detractors=detractors)
    return {"n": result.n, "nps": result.nps, "low": result.ci95[0], "high": result.ci95[1]}


def _nps(
    uow: UnitOfWork, f: DashboardFilter, months: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for question, surveys in _nps_questions(uow, f.program_id).items():
        for month, *three in q.nps_counts(uow.session, f, surveys, question):
            counts[month] = [a + b for a, b in zip(counts[month], three, strict=True)]
    if not counts:
        return [], None
    rows = [{"month": m, "point": _nps_point(*counts[m]) if m in counts else None} for m in months]
    totals = [sum(c[i] for c in counts.values()) for i in range(3)]
    return rows, _nps_point(*totals)


def _sla(
    uow: UnitOfWork, f: DashboardFilter, months: list[str]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], int]:
    rows = q.complaints_filed(uow.session, f)
    if not rows:
        return [], {}, 0
    clocks = clocks_for(uow, rows, uow.clock())
    by_month = defaultdict(list)
    for row in rows:
        by_month[row.filed_at.strftime("%Y-%m")].append(clocks[row.id])
    per_month = [
        {"month": m, "complaints": len(by_month[m]), **attainment_by_clock(by_month[m])}
        for m in months
    ]
    return per_month, attainment_by_clock(list(clocks.values())), len(rows)


def _campaigns(uow: UnitOfWork, f: DashboardFilter, point_value: Decimal) -> list[dict[str, Any]]:
    return [
        {**row, "cost_minor": row["points"] * point_value}
        for row in q.campaign_awards(uow.session, f)
    ]
