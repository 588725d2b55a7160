"""The manager's dashboard: one read of the program's figures for a date range and store."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from patronage.analytics.pareto import gini, lorenz_curve, top_share
from patronage.errors import InvalidInput
from patronage.services.dashboard_insights import Insights, load_insights
from patronage.storage import dashboard_queries as q
from patronage.storage.insight_queries import tier_distribution_at
from patronage.storage.uow import UnitOfWork

MAX_COHORTS = 12


@dataclass(frozen=True)
class Dashboard:
    start: datetime
    end: datetime
    store: str | None
    currency: str
    stores: list[str]
    counts: dict[str, int]
    months: list[dict[str, Any]]
    outstanding_points: int
    liability_minor: Decimal
    tiers: list[tuple[str, int]]
    lorenz: list[dict[str, float]] = field(default_factory=list)
    gini: float = 0.0
    top_fifth_share: float = 0.0
    cohorts: list[dict[str, Any]] = field(default_factory=list)
    insights: Insights = field(default_factory=Insights)

    @property
    def empty(self) -> bool:
        return self.counts["members"] == 0


def _month_labels(start: datetime, end: datetime) -> list[str]:
    labels, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def _months(uow: UnitOfWork, f: q.DashboardFilter, point_value: Decimal) -> list[dict[str, Any]]:
    """Every month of the range, with its points and the outstanding balance at its end."""
    by_month = {row["month"]: row for row in q.monthly_points(uow.session, f)}
    everywhere = replace(f, store=None)  # the balance owed is program-wide
    net = {row["month"]: row["net"] for row in q.monthly_points(uow.session, everywhere)}
    outstanding = q.outstanding_before(uow.session, f.program_id, f.start)
    months = []
    for label in _month_labels(f.start, f.end):
        row = by_month.get(label, {"issued": 0, "redeemed": 0, "expired": 0, "net": 0})
        outstanding += net.get(label, 0)
        months.append(
            {
                "month": label,
                "issued": row["issued"],
                "redeemed": row["redeemed"],
                "expired": row["expired"],
                "outstanding": outstanding,
                "liability_minor": outstanding * point_value,
            }
        )
    return months


def cohort_table(pairs: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Rows of (first month, size, share of the cohort buying k months later)."""
    months_of: dict[int, set[int]] = defaultdict(set)
    for member, label in pairs:
        year, month = label.split("-")
        months_of[member].add(int(year) * 12 + int(month) - 1)
    if not months_of:
        return []
    latest = max(max(ms) for ms in months_of.values())
    cohorts: dict[int, list[set[int]]] = defaultdict(list)
    for ms in months_of.values():
        cohorts[min(ms)].append(ms)
    rows = []
    for first in sorted(cohorts)[-MAX_COHORTS:]:
        members = cohorts[first]
        shares = [
            sum(1 for ms in members if first + k in ms) / len(members)
            for k in range(latest - first + 1)
        ]
        label = f"{first // 12:04d}-{first % 12 + 1:02d}"
        rows.append({"cohort": label, "customers": len(members), "retention": shares})
    return rows


def load_dashboard(
    uow: UnitOfWork, start: datetime, end: datetime, store: str | None, program: str = "default"
) -> Dashboard:
    if end <= start:
        raise InvalidInput("the end of the range must come after its start", field="end")
    with uow:
        prog = uow.programs.get(program)
        f = q.DashboardFilter(prog.id or 0, start, end, store or None)
        months = _months(uow, f, prog.point_value_minor)
        revenue = np.array(q.revenue_by_member(uow.session, f), dtype=np.float64)
        outstanding = q.outstanding_before(uow.session, f.program_id, end)
        return Dashboard(
            start=start,
            end=end,
            store=f.store,
            currency=prog.currency,
            stores=q.stores(uow.session, f.program_id),
            counts=q.member_counts(uow.session, f),
            months=months,
            outstanding_points=outstanding,
            liability_minor=outstanding * prog.point_value_minor,
            tiers=tier_distribution_at(uow.session, f.program_id, end),
            lorenz=lorenz_curve(revenue) if len(revenue) else [],
            gini=gini(revenue),
            top_fifth_share=top_share(revenue, 0.2),
            cohorts=cohort_table(q.purchase_months(uow.session, f)),
            insights=load_insights(uow, f, prog, [m["month"] for m in months]),
        )
