"""Next best offer per member: reads the member's state and the open offers, and lets
``domain.offers.choose`` pick (see there for the risk and expected-value rules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from patronage.domain.ledger import balance_of
from patronage.domain.members import Member
from patronage.domain.offers import Choice, MemberState, Offer, choose
from patronage.domain.program import Program
from patronage.storage.uow import UnitOfWork

YEAR = timedelta(days=365)
HIGH_SHARE = 0.8  # the top fifth of spenders are "high value"
LOW_SHARE = 0.4


@dataclass(frozen=True)
class OfferView:
    member_id: int
    kind: str | None
    ref: str | None
    name: str | None
    expected_value_minor: int
    churn_risk: float
    value_segment: str
    reason: str


@dataclass(frozen=True)
class Context:
    program: Program
    now: datetime
    high_from: int
    low_below: int
    shared: list[Offer]


def _quantile(values: list[int], share: float) -> int:
    return values[min(len(values) - 1, int(share * len(values)))] if values else 0


def _context(uow: UnitOfWork, program: Program) -> Context:
    now = uow.clock()
    program_id = program.id or 0
    spends = uow.offers.year_spends(program_id, now - YEAR)
    batches = uow.offers.open_coupon_batches(program_id, now)
    campaigns = uow.offers.running_campaigns(program_id, now)
    plans = [
        Offer("membership", p.code, p.name, 0)
        for p in uow.memberships.plans(program_id)
        if p.active
    ]
    return Context(
        program,
        now,
        _quantile(spends, HIGH_SHARE),
        _quantile(spends, LOW_SHARE),
        batches + campaigns + plans,
    )


def _coupon_cost(uow: UnitOfWork, offers: list[Offer], average_order: int) -> list[Offer]:
    ids = [int(o.ref) for o in offers if o.kind == "coupon"]
    discounts = uow.offers.batch_discounts(ids) if ids else {}
    priced = []
    for offer in offers:
        if offer.kind == "coupon":
            kind, value = discounts.get(int(offer.ref), ("fixed", 0))
            if kind == "percent":
                cost = average_order * (value or 0) // 100
            elif kind == "fixed":
                cost = min(value or 0, average_order)
            else:
                cost = average_order // 4
            offer = Offer(offer.kind, offer.ref, offer.name, cost)
        priced.append(offer)
    return priced


def _state(uow: UnitOfWork, member: Member, context: Context) -> MemberState:
    now = context.now
    summary = uow.offers.order_summary([member.id], context.program.id or 0, now - YEAR)
    row = summary.get(member.id)
    tier_rank = next((t.rank for t in context.program.tiers if t.code == member.tier_code), 0)
    balance = balance_of(uow.ledger.open_lots(member.id), member.debt, now)
    paid = uow.memberships.of_member(member.id)
    return MemberState(
        member_id=member.id,
        tenure_days=max(0.0, (now - member.joined_at).total_seconds() / 86400),
        orders=int(row[1]) if row else 0,
        days_since_last=(now - row[3]).total_seconds() / 86400 if row else None,
        year_spend_minor=int(row[4]) if row else 0,
        average_order_minor=int(row[5]) if row else 0,
        tier_rank=tier_rank,
        tier_code=member.tier_code,
        points_available=balance.available,
        is_paid_member=paid is not None and paid.covers(now),
    )


def _rewards(uow: UnitOfWork, member: Member, state: MemberState, now: datetime) -> list[Offer]:
    return [
        Offer("reward", r.code, r.name, 0)
        for r in uow.rewards.catalog(member.program_id)
        if r.is_on_offer(now)
        and r.is_visible_to(member)
        and r.stock != 0
        and r.price_for(member.tier_code) <= state.points_available
    ]


def _choose(uow: UnitOfWork, member: Member, context: Context) -> OfferView:
    state = _state(uow, member, context)
    offers = [o for o in context.shared if not (o.kind == "membership" and state.is_paid_member)]
    offers = _coupon_cost(uow, offers, max(state.average_order_minor, 1)) + _rewards(
        uow, member, state, context.now
    )
    choice: Choice = choose(state, offers, context.high_from, context.low_below)
    offer = choice.offer
    return OfferView(
        member.id,
        offer.kind if offer else None,
        offer.ref if offer else None,
        offer.name if offer else None,
        choice.expected_value_minor,
        choice.churn_risk,
        choice.value_segment,
        choice.reason,
    )


def offer_chooser(uow: UnitOfWork, program: Program) -> Callable[[int], OfferView]:
    """Inside an open unit of work: a function giving each member's offer, with the
    program's thresholds and open offers read once (for journeys and batch runs)."""
    context = _context(uow, program)
    return lambda member_id: _choose(uow, uow.members.get(member_id), context)


def next_best_offer(uow: UnitOfWork, member_id: int) -> OfferView:
    with uow:
        member = uow.members.get(member_id)
        program = uow.programs.get_by_id(member.program_id)
        return _choose(uow, member, _context(uow, program))


def offers_for_program(
    uow: UnitOfWork, program: str = "default", member_id: int | None = None, limit: int = 10000
) -> list[OfferView]:
    """Every member's next best offer, the thresholds and open offers read once."""
    with uow:
        prog = uow.programs.get(program)
        context = _context(uow, prog)
        ids = (
            [member_id]
            if member_id is not None
            else uow.members.ids_in_program(prog.id or 0, 0, limit)
        )
        return [_choose(uow, uow.members.get(i), context) for i in ids]
