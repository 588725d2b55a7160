"""Cashback earned by rule: paid into the member's wallet inside the event's own
transaction, and taken back in proportion when the order is refunded
(docs/adr/0008-cashback-by-rule.md)."""

from __future__ import annotations

from collections.abc import Iterable

from patronage.domain.ledger import reversal_for_refund
from patronage.domain.members import Member
from patronage.services.rule_decisions import Award
from patronage.services.stored_value import add_money
from patronage.services.wallet import add_to_wallet
from patronage.storage.rules_repository import RulesRepository
from patronage.storage.tables import OrderRow
from patronage.storage.uow import UnitOfWork

REVERSE_KIND = "cashback_reverse"


def pay_cashback(
    uow: UnitOfWork, member: Member, awards: Iterable[Award], order_id: str | None
) -> int:
    """One wallet entry per cashback award, named after its rule; returns the total.
    Called by the earn path with the member's row locked, before it commits."""
    paid = 0
    for award in awards:
        if award.cashback_minor > 0:
            reason = f"cashback: {award.label}"[:500]
            add_to_wallet(
                uow, member.id, award.cashback_minor, "cashback", order_id=order_id, reason=reason
            )
            paid += award.cashback_minor
    return paid


def claw_back_cashback(uow: UnitOfWork, member: Member, order: OrderRow, refund_minor: int) -> int:
    """Take back the order's cashback in proportion to a refund: the same cumulative
    rounding as points (a full refund takes back all of it). The wallet never goes below
    zero: what it cannot cover now stays due, and a later refund of the order takes it
    if the money is there. Call before the refund is added to the order; returns the
    minor units taken."""
    earned = RulesRepository(uow.session).cashback_of_event(member.id, order.event_id)
    wallet = uow.stored_value.wallet(member.id) if earned else None
    if wallet is None:
        return 0
    uow.stored_value.lock(wallet.id)  # a concurrent spend waits; the balance read holds
    taken_before = -uow.stored_value.order_total(wallet.id, order.order_id, REVERSE_KIND)
    due = reversal_for_refund(
        order.amount_minor, order.refunded_minor, refund_minor, earned, taken_before
    )
    balance = uow.stored_value.balance(wallet.id)
    take = min(due, balance)
    if take <= 0:
        return 0
    reason = f"refund of order {order.order_id}"
    if take < due:
        reason += f": {take} of {due} due taken back, the wallet held no more"
    add_money(uow, wallet, REVERSE_KIND, -take, order_id=order.order_id, reason=reason[:500])
    return take
