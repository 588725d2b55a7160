"""The manager's dashboard: one read of the program's figures for a date range and store.

The heavy panels (``HEAVY``: RFM segments, the Lorenz curve, cohort retention) each scan
the range's purchases; ``load_dashboard`` computes those asked for, and the others can
be filled in afterwards from results computed in the background
(``services.dashboard_analytics``) with ``with_panels``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from patronage.analytics.pareto import gini, lorenz_curve, top_share
from patronage.errors import InvalidInput
from patronage.services.dashboard_insights import Insights, load_insights, rfm_segments
from patronage.storage import dashboard_queries as q
from patronage.storage.insight_queries import rfm_inputs, tier_distribution_at
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


def lorenz_panel(revenue: list[int], f: q.DashboardFilter) -> dict[str, Any]:
    """The 80/20 panel from each buyer's net spend."""
    spend = np.array(revenue, dtype=np.float64)
    return {
        "lorenz": lorenz_curve(spend) if len(spend) else [],
        "gini": gini(spend),
        "top_fifth_share": top_share(spend, 0.2),
    }


def cohort_panel(pairs: list[tuple[int, str]], f: q.DashboardFilter) -> dict[str, Any]:
    return {"cohorts": cohort_table(pairs)}


def rfm_panel(rows: list[tuple[int, datetime, int, int]], f: q.DashboardFilter) -> dict[str, Any]:
    return {"segments": rfm_segments(rows, f)}


@dataclass(frozen=True)
class HeavyPanel:
    """A panel that scans the range's purchases: one read, then plain computation."""

    read: Callable[[Any, q.DashboardFilter], Any]
    compute: Callable[[Any, q.DashboardFilter], dict[str, Any]]


HEAVY: dict[str, HeavyPanel] = {
    "rfm": HeavyPanel(rfm_inputs, rfm_panel),
    "lorenz": HeavyPanel(q.revenue_by_member, lorenz_panel),
    "cohorts": HeavyPanel(q.purchase_months, cohort_panel),
}


def with_panels(view: Dashboard, results: dict[str, dict[str, Any]]) -> Dashboard:
    """``view`` with the heavy panels' results (as ``HEAVY``'s ``compute`` gives them)."""
    changes: dict[str, Any] = {}
    if "lorenz" in results:
        changes.update(results["lorenz"])
    if "cohorts" in results:
        changes["cohorts"] = results["cohorts"]["cohorts"]
    if "rfm" in results:
        changes["insights"] = replace(view.insights, rfm_segments=results["rfm"]["segments"])
    return replace(view, **changes)


def load_dashboard(
    uow: UnitOfWork,
    start: datetime,
    end: datetime,
    store: str | None,
    program: str = "default",
    heavy: Collection[str] = tuple(HEAVY),
) -> Dashboard:
    """The dashboard, with only the ``heavy`` panels named (the others left empty)."""
    if end <= start:
        raise InvalidInput("the end of the range must come after its start", field="end")
    with uow:
        prog = uow.programs.get(program)
        f = q.DashboardFilter(prog.id or 0, start, end, store or None)
        months = _months(uow, f, prog.point_value_minor)
        outstanding = q.outstanding_before(uow.session, f.program_id, end)
        view = Dashboard(
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
            insights=load_insights(uow, f, prog, [m["month"] for m in months]),
        )
        panels = {name: HEAVY[name] for name in heavy}
        results = {n: p.compute(p.read(uow.session, f), f) for n, p in panels.items()}
        return with_panels(view, results)
