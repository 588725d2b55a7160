"""The complaints report: SLA attainment, times to respond and resolve, complaint
rate, repeat complainants, and repurchase after recovery against matched
non-complainants (see ``domain.care_report`` for how they are matched)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from patronage.clock import require_aware
from patronage.domain.care_report import (
    PRIOR_DAYS,
    PurchaseHistory,
    RepurchaseComparison,
    match_and_compare,
    percentile,
)
from patronage.domain.complaints import ComplaintClocks
from patronage.domain.sla import ClockState, SlaClock
from patronage.errors import InvalidInput
from patronage.services.complaints import clocks_of
from patronage.services.sla_setup import business_hours
from patronage.storage.tables import ComplaintRow
from patronage.storage.uow import UnitOfWork

DIGITS = 4


def complaints_report(
    uow: UnitOfWork,
    start: datetime,
    end: datetime,
    repurchase_days: int = 90,
    program: str = "default",
) -> dict[str, Any]:
    """Complaints filed in [start, end), measured at the unit of work's clock."""
    require_aware(start, "from")
    require_aware(end, "to")
    if end <= start:
        raise InvalidInput("to must be after from", field="to")
    if not 1 <= repurchase_days <= 730:
        raise InvalidInput("repurchase_days must be 1 to 730", field="repurchase_days")
    with uow:
        program_id = uow.programs.get(program).id or 0
        now = uow.clock()
        rows = uow.complaints.filed_between(program_id, start, end)
        clocks = {row.id: clocks_of(uow, row, now) for row in rows}
        orders = uow.complaints.orders_between(program_id, start, end)
        repurchase = _repurchase(uow, program_id, rows, repurchase_days, now)
        return {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "as_of": now.isoformat(),
            "complaints": len(rows),
            "orders": orders,
            "complaints_per_1000_orders": _round(1000 * len(rows) / orders) if orders else None,
            "sla": _sla(rows, clocks),
            "repeat_complainants": _repeat(rows),
            "repurchase": _repurchase_payload(repurchase),
        }


def _attainment(states: list[ClockState]) -> dict[str, Any]:
    met = states.count(ClockState.MET)
    missed = states.count(ClockState.BREACHED)
    decided = met + missed
    return {
        "met": met,
        "missed": missed,
        "open_within_target": len(states) - decided,
        "attainment": _round(met / decided) if decided else None,
    }


def _times(clocks: list[SlaClock]) -> dict[str, Any]:
    hours = [business_hours(c.elapsed) for c in clocks]
    return {
        "n": len(hours),
        "median_hours": _round(percentile(hours, 50)),
        "p90_hours": _round(percentile(hours, 90)),
    }


def _sla(rows: list[ComplaintRow], clocks: dict[int, ComplaintClocks]) -> dict[str, Any]:
    """Attainment over decided clocks; times over clocks that stopped (the event happened)."""
    first = [clocks[r.id].first_response for r in rows]
    resolution = [clocks[r.id].resolution for r in rows]
    return {
        "first_response": _attainment([c.state for c in first]),
        "resolution": _attainment([c.state for c in resolution]),
        "time_to_first_response": _times(
            [clocks[r.id].first_response for r in rows if r.first_response_at is not None]
        ),
        "time_to_resolution": _times(
            [clocks[r.id].resolution for r in rows if r.resolved_at is not None]
        ),
        "unit": "business hours",
    }


def _repeat(rows: list[ComplaintRow]) -> dict[str, Any]:
    per_member = Counter(row.member_id for row in rows)
    repeat = sorted(m for m, n in per_member.items() if n >= 2)
    return {
        "complainants": len(per_member),
        "repeat": len(repeat),
        "share": _round(len(repeat) / len(per_member)) if per_member else None,
        "member_ids": repeat[:100],
    }


def _repurchase(
    uow: UnitOfWork, program_id: int, rows: list[ComplaintRow], days: int, now: datetime
) -> RepurchaseComparison:
    follow_up = timedelta(days=days)
    first_resolution: dict[int, datetime] = {}
    for row in rows:
        if row.resolved_at is not None and row.resolved_at + follow_up <= now:
            known = first_resolution.get(row.member_id)
            if known is None or row.resolved_at < known:
                first_resolution[row.member_id] = row.resolved_at
    cases = sorted(first_resolution.items())
    joined = uow.complaints.member_joins(program_id)
    complainants = uow.complaints.complainant_ids(program_id)
    controls = sorted(m for m in joined if m not in complainants)
    if not cases:
        return match_and_compare([], controls, joined, {}, days)
    earliest = min(t for _, t in cases) - timedelta(days=PRIOR_DAYS)
    latest = max(t for _, t in cases) + follow_up + timedelta(seconds=1)
    by_member: dict[int, list[tuple[datetime, int]]] = {}
    for member_id, at, amount in uow.complaints.purchases(program_id, earliest, latest):
        by_member.setdefault(member_id, []).append((at, amount))
    histories = {m: PurchaseHistory.of(p) for m, p in by_member.items()}
    return match_and_compare(cases, controls, joined, histories, days)


def _repurchase_payload(result: RepurchaseComparison) -> dict[str, Any]:
    return {
        "days": result.days,
        "recovered_complainants": result.recovered,
        "matched": result.matched_controls,
        "unmatched": result.unmatched,
        "recovered_repurchased": result.recovered_repurchased,
        "controls_repurchased": result.controls_repurchased,
        "recovered_rate": _round(result.recovered_rate),
        "control_rate": _round(result.control_rate),
        "difference": _round(result.difference),
        "ci95": None if result.ci95 is None else [_round(v) for v in result.ci95],
        "method": "1:1 exact match on prior 365-day spend band and tenure band at the "
        "resolution date, closest prior spend; Newcombe hybrid score interval",
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)
