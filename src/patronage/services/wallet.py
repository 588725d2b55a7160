"""A member's money wallet: cashback and top-ups in, checkout spends out, refunds back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patronage.domain.wallet import (
    Account,
    ValueEntry,
    check_amount,
    check_credit_kind,
    check_order_id,
)
from patronage.errors import InvalidInput, PatronageError, RuleViolation
from patronage.services import stored_value
from patronage.services.idempotency import run_once
from patronage.services.stored_value import Move, add_money, decode_move
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class WalletView:
    member_id: int
    currency: str
    balance_minor: int
    entries: list[ValueEntry]


def add_to_wallet(
    u: UnitOfWork, member_id: int, amount_minor: int, kind: str = "cashback", **entry: Any
) -> Move:
    """Credit inside the caller's transaction (e.g. cashback earned by a rule while a
    purchase is recorded); the wallet is opened on first use."""
    check_amount(amount_minor)
    check_credit_kind(kind)
    member = u.members.get(member_id)
    program = u.programs.get_by_id(member.program_id)
    wallet = u.stored_value.open_wallet(program.id or 0, member_id, program.currency, u.clock())
    return add_money(u, wallet, kind, amount_minor, **entry)


def credit_wallet(
    uow: UnitOfWork,
    member_id: int,
    amount_minor: int,
    kind: str = "cashback",
    reason: str | None = None,
    order_id: str | None = None,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> Move:
    """Add money (cashback earned by a rule, or a top-up). A credit made by a person
    (``actor`` given) is written to the audit log."""
    check_amount(amount_minor)
    check_credit_kind(kind)
    check_order_id(order_id)
    if reason is not None and len(reason) > 500:
        raise InvalidInput("reason is at most 500 characters", field="reason")

    def operation(u: UnitOfWork) -> Move:
        move = add_to_wallet(
            u, member_id, amount_minor, kind, order_id=order_id, reason=reason, actor=actor
        )
        if actor is not None:
            u.audit.add(
                at=u.clock(),
                actor=actor,
                action=f"wallet_{kind}",
                target_type="member",
                target_id=str(member_id),
                before={"balance_minor": move.balance_minor - amount_minor},
                after={"balance_minor": move.balance_minor, "entry_id": move.entry_id},
                reason=reason,
            )
        return move

    payload = {"member": member_id, "amount": amount_minor, "kind": kind, "order": order_id}
    scope = f"member:{member_id}:wallet_credit"
    return run_once(uow, scope, idempotency_key, payload, operation, decode_move)


def spend_wallet(
    uow: UnitOfWork,
    member_id: int,
    amount_minor: int,
    order_id: str,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> Move:
    """Pay (part of) an order from the wallet; refused whole when the balance is short."""
    no_wallet = RuleViolation(
        f"insufficient funds: {amount_minor} requested, 0 available",
        code="insufficient_funds",
        requested=amount_minor,
        available=0,
    )
    return stored_value.spend(
        uow,
        lambda u: _wallet(u, member_id, no_wallet),
        f"member:{member_id}:wallet_spend",
        {"member": member_id},
        amount_minor,
        order_id,
        actor,
        idempotency_key,
    )


def refund_wallet(
    uow: UnitOfWork,
    member_id: int,
    amount_minor: int,
    spend_id: int | None = None,
    order_id: str | None = None,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> Move:
    """Return money of a checkout spend (goods returned): never more than it took."""
    no_wallet = InvalidInput("this member has no wallet spends", field="spend_id")
    return stored_value.refund(
        uow,
        lambda u: _wallet(u, member_id, no_wallet),
        f"member:{member_id}:wallet_refund",
        {"member": member_id},
        amount_minor,
        spend_id,
        order_id,
        actor,
        idempotency_key,
    )


def _wallet(u: UnitOfWork, member_id: int, missing: PatronageError) -> Account:
    """The member's wallet (an unknown member is 404; one without a wallet, ``missing``)."""
    u.members.get(member_id)
    wallet = u.stored_value.wallet(member_id)
    if wallet is None:
        raise missing
    return wallet


def wallet_view(
    uow: UnitOfWork, member_id: int, limit: int = 50, before_id: int | None = None
) -> WalletView:
    with uow:
        member = uow.members.get(member_id)
        wallet = uow.stored_value.wallet(member_id)
        if wallet is None:
            currency = uow.programs.get_by_id(member.program_id).currency
            return WalletView(member_id, currency, 0, [])
        entries = uow.stored_value.entries(wallet.id, limit, before_id)
        return WalletView(member_id, wallet.currency, wallet.balance_minor, entries)
