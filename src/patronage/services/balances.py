"""Reading a member's points: balance, ledger pages and the explanation of a balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from patronage.domain.ledger import Balance, Entry, balance_of
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class BalanceView:
    member_id: int
    unit: str
    available: int
    pending: int
    debt: int
    balance: int
    tier: str | None
    expiring_30_days: int
    expiring: list[dict[str, Any]]
    as_of: datetime


def balance_in(uow: UnitOfWork, member_id: int) -> Balance:
    member, lots = uow.ledger.holding(member_id)
    return balance_of(lots, member.debt, uow.clock())


def get_balance(uow: UnitOfWork, member_id: int) -> BalanceView:
    with uow:
        member, lots = uow.ledger.holding(member_id)
        program = uow.programs.get_by_id(member.program_id)
        now = uow.clock()
        balance = balance_of(lots, member.debt, now)
        soon = now + timedelta(days=30)
        expiring = [
            {"lot_id": lot.id, "points": lot.remaining, "expires_at": lot.expires_at}
            for lot in lots
            if lot.is_spendable(now) and lot.expires_at is not None and lot.expires_at <= soon
        ]
        return BalanceView(
            member_id=member_id,
            unit=program.unit,
            available=balance.available,
            pending=balance.pending,
            debt=balance.debt,
            balance=balance.total,
            tier=member.tier_code,
            expiring_30_days=balance.expiring_soon,
            expiring=sorted(expiring, key=lambda e: e["expires_at"]),
            as_of=now,
        )


def ledger_page(
    uow: UnitOfWork, member_id: int, limit: int = 50, before_id: int | None = None
) -> tuple[list[Entry], int | None]:
    """Newest first; the second value is the cursor for the next page, if any."""
    with uow:
        uow.members.get(member_id)
        entries = uow.ledger.entries(member_id, limit + 1, before_id)
        more = len(entries) > limit
        entries = entries[:limit]
        return entries, (entries[-1].id if more and entries else None)


def _lot_status(lot: Any, now: datetime) -> str:
    if lot.expires_at is not None and lot.expires_at <= now:
        return "expired"
    if lot.available_at > now:
        return "pending"
    return "available" if lot.remaining > 0 else "used"


def explain_balance(uow: UnitOfWork, member_id: int) -> dict[str, Any]:
    """Which lots make up the balance, where each came from, what expires when, and
    which entries reduced them."""
    with uow:
        member = uow.members.get(member_id)
        now = uow.clock()
        lots = uow.ledger.lot_rows(member_id)
        allocations = uow.ledger.allocations_of_lots([lot.id for lot in lots])
        entry_ids = {lot.entry_id for lot in lots} | {a.entry_id for a in allocations}
        entries = uow.ledger.entries_by_id(sorted(entry_ids))
        balance = balance_of(uow.ledger.open_lots(member_id), member.debt, now)
        lot_views = [
            {
                "lot_id": lot.id,
                "earned": lot.points,
                "remaining": lot.remaining,
                "status": _lot_status(lot, now),
                "earned_at": lot.earned_at,
                "available_at": lot.available_at,
                "expires_at": lot.expires_at,
                "source": _describe(entries[lot.entry_id]),
            }
            for lot in lots
            if lot.remaining > 0
        ]
        reductions: dict[int, dict[str, Any]] = {}
        for alloc in allocations:
            if alloc.points >= 0:
                continue
            entry = entries[alloc.entry_id]
            view = reductions.setdefault(entry.id, {**_describe(entry), "lots": []})
            view["lots"].append({"lot_id": alloc.lot_id, "points": -alloc.points})
        debt_entries = [
            _describe(e)
            for e in uow.ledger.entries(member_id, 1000)
            if e.kind == "reverse" and (e.details or {}).get("to_debt")
        ]
        return {
            "member_id": member_id,
            "as_of": now,
            "available": balance.available,
            "pending": balance.pending,
            "debt": balance.debt,
            "balance": balance.total,
            "lots": lot_views,
            "reductions": sorted(reductions.values(), key=lambda r: r["entry_id"]),
            "debt_from": debt_entries,
        }


def _describe(entry: Entry) -> dict[str, Any]:
    view: dict[str, Any] = {
        "entry_id": entry.id,
        "kind": entry.kind,
        "points": entry.points,
        "occurred_at": entry.occurred_at,
        "order_id": entry.order_id,
        "reason": entry.reason,
        "actor": entry.actor,
    }
    fired: Any = (entry.details or {}).get("rules")
    if fired:  # earning rules: "+50: Double points weekend (v3)"
        view["rules"] = [f"+{r['points']}: {r['label']}" for r in fired]
    return view
