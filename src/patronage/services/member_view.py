"""Everything staff see about one member on a single page (member 360)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patronage.domain.ledger import Entry
from patronage.domain.members import Member
from patronage.errors import InvalidInput, NotFound
from patronage.services import balances
from patronage.services.balances import BalanceView
from patronage.services.member_activity import MemberActivity, member_activity
from patronage.services.member_outlook import Outlook, member_outlook
from patronage.services.next_best_offer import OfferView, next_best_offer
from patronage.storage.uow import UnitOfWork
from patronage.storage.web_repositories import recent_events

RECENT = 50


@dataclass(frozen=True)
class MemberView:
    member: Member
    unit: str
    currency: str
    balance: BalanceView
    explanation: dict[str, Any]
    ledger: list[Entry]
    tier_history: list[dict[str, Any]]
    events: list[dict[str, Any]]
    offer: OfferView
    activity: MemberActivity
    outlook: Outlook | None


def find_members(uow: UnitOfWork, query: str, program: str = "default") -> list[Member]:
    """By external id (card number) first, then by phone."""
    query = query.strip()
    if not query or len(query) > 128:
        raise InvalidInput("enter a phone number or card number", field="q")
    with uow:
        prog = uow.programs.get(program)
        found = uow.members.by_external_id(prog.id or 0, query)
        if found is not None:
            return [found]
        return uow.members.find(prog.id or 0, phone=query)


def member_360(uow: UnitOfWork, member_id: int, full: bool = True) -> MemberView:
    """The member's page; ``full=False`` (the counter) leaves out the activity lists,
    churn risk and CLV."""
    with uow:
        member = uow.members.get(member_id)
        program = uow.programs.get_by_id(member.program_id)
        history = uow.members.tier_history(member_id)
        events = [
            {
                "type": e.type,
                "occurred_at": e.occurred_at,
                "order_id": e.order_id,
                "amount_minor": e.amount_minor,
                "store": e.store,
            }
            for e in recent_events(uow.session, member_id, RECENT)
        ]
        activity = member_activity(uow, member_id) if full else MemberActivity()
        outlook = member_outlook(uow, member.program_id, member_id) if full else None
    entries, _ = balances.ledger_page(uow, member_id, RECENT)
    return MemberView(
        member=member,
        unit=program.unit,
        currency=program.currency,
        balance=balances.get_balance(uow, member_id),
        explanation=balances.explain_balance(uow, member_id),
        ledger=entries,
        tier_history=list(reversed(history)),
        events=events,
        offer=next_best_offer(uow, member_id),
        activity=activity,
        outlook=outlook,
    )


def single_member(uow: UnitOfWork, query: str) -> Member:
    found = find_members(uow, query)
    if not found:
        raise NotFound(f"no member with card or phone {query!r}", code="member_not_found", q=query)
    return found[0]
