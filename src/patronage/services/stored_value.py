"""Moving money in and out of a stored-value account (a member's wallet or a gift card).

Every move is one entry plus one atomic UPDATE of the balance; a spend is refused whole
when short, and a refund of a spend never returns more than that spend took.
:func:`spend` and :func:`refund` are the checkout flow both kinds of account share (one
transaction, once per Idempotency-Key); the other functions run inside a caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patronage.domain.wallet import Account, ValueEntry, check_amount, check_order_id
from patronage.errors import InvalidInput, NotFound, RuleViolation
from patronage.services.idempotency import run_once
from patronage.storage.uow import UnitOfWork

# Finds the account a spend or refund is about, inside its transaction (or refuses).
FindAccount = Callable[[UnitOfWork], Account]


@dataclass(frozen=True)
class Move:
    """What one credit, spend or refund did."""

    entry_id: int
    account_id: int
    kind: str
    amount_minor: int
    balance_minor: int
    currency: str
    occurred_at: datetime
    order_id: str | None = None
    refund_of: int | None = None
    member_id: int | None = None
    code: str | None = None


def _move(account: Account, entry: ValueEntry) -> Move:
    return Move(
        entry_id=entry.id,
        account_id=account.id,
        kind=entry.kind,
        amount_minor=entry.amount_minor,
        balance_minor=entry.balance_after,
        currency=account.currency,
        occurred_at=entry.occurred_at,
        order_id=entry.order_id,
        refund_of=entry.refund_of,
        member_id=account.member_id,
        code=account.code,
    )


def add_money(u: UnitOfWork, account: Account, kind: str, amount_minor: int, **entry: Any) -> Move:
    balance = u.stored_value.add_to_balance(account.id, amount_minor)
    added = u.stored_value.add_entry(
        account_id=account.id,
        kind=kind,
        amount_minor=amount_minor,
        balance_after=balance,
        occurred_at=u.clock(),
        **entry,
    )
    return _move(account, added)


def take_money(
    u: UnitOfWork, account: Account, amount_minor: int, order_id: str, actor: str | None
) -> Move:
    now = u.clock()
    balance = u.stored_value.take_from_balance(account.id, amount_minor, now)
    if balance is None:
        if account.is_expired(now):
            raise RuleViolation(
                "this gift card has expired",
                code="gift_card_expired",
                expires_at=account.expires_at,
            )
        current = _current(u, account)
        raise RuleViolation(
            f"insufficient funds: {amount_minor} requested, {current} available",
            code="insufficient_funds",
            requested=amount_minor,
            available=current,
        )
    added = u.stored_value.add_entry(
        account_id=account.id,
        kind="spend",
        amount_minor=-amount_minor,
        balance_after=balance,
        occurred_at=now,
        order_id=order_id,
        actor=actor,
    )
    return _move(account, added)


def _current(u: UnitOfWork, account: Account) -> int:
    fresh = u.stored_value.wallet(account.member_id) if account.member_id else None
    if account.code is not None:
        fresh = u.stored_value.gift_card(account.code)
    return fresh.balance_minor if fresh is not None else 0


def find_spend(
    u: UnitOfWork, account: Account, spend_id: int | None, order_id: str | None
) -> ValueEntry:
    """The spend a refund gives back, by its entry id or by its order id."""
    if spend_id is None and order_id is None:
        raise InvalidInput("name the spend: spend_id or order_id", field="spend_id")
    if spend_id is not None:
        try:
            spend = u.stored_value.entry(spend_id)
        except NotFound:
            raise NotFound("no such spend on this account", spend_id=spend_id) from None
    else:
        found = u.stored_value.spend_for_order(account.id, order_id or "")
        if found is None:
            raise NotFound("no spend for this order on this account", order_id=order_id)
        spend = found
    if spend.account_id != account.id or spend.kind != "spend":
        raise NotFound("no such spend on this account", spend_id=spend_id)
    return spend


def refund_money(
    u: UnitOfWork,
    account: Account,
    amount_minor: int,
    spend_id: int | None,
    order_id: str | None,
    actor: str | None,
) -> Move:
    """Put back (part of) a spend; the account is locked first so two refunds of one
    spend cannot both pass the check."""
    u.stored_value.lock(account.id)
    spend = find_spend(u, account, spend_id, order_id)
    left = -spend.amount_minor - u.stored_value.refunded(spend.id)
    if amount_minor > left:
        raise RuleViolation(
            f"refund of {amount_minor} exceeds what is left of the spend ({left})",
            code="refund_exceeds_spend",
            requested=amount_minor,
            refundable=left,
        )
    if account.is_expired(u.clock()):
        raise RuleViolation(
            "this gift card has expired: refund another way",
            code="gift_card_expired",
            expires_at=account.expires_at,
        )
    return add_money(
        u, account, "refund", amount_minor, order_id=spend.order_id, refund_of=spend.id, actor=actor
    )


def decode_move(data: dict[str, Any]) -> Move:
    data["occurred_at"] = datetime.fromisoformat(data["occurred_at"])
    return Move(**data)


def spend(
    uow: UnitOfWork,
    find: FindAccount,
    scope: str,
    owner: dict[str, Any],
    amount_minor: int,
    order_id: str,
    actor: str | None,
    idempotency_key: str | None,
) -> Move:
    """Pay (part of) an order from an account, in its own transaction; refused whole
    when short. ``owner`` names the account in the idempotency payload."""
    check_amount(amount_minor)
    check_order_id(order_id, required=True)

    def operation(u: UnitOfWork) -> Move:
        return take_money(u, find(u), amount_minor, order_id, actor)

    payload = {**owner, "amount": amount_minor, "order": order_id}
    return run_once(uow, scope, idempotency_key, payload, operation, decode_move)


def refund(
    uow: UnitOfWork,
    find: FindAccount,
    scope: str,
    owner: dict[str, Any],
    amount_minor: int,
    spend_id: int | None,
    order_id: str | None,
    actor: str | None,
    idempotency_key: str | None,
) -> Move:
    """Give back (part of) one spend of an account (goods returned), in its own
    transaction: never more than the spend took."""
    check_amount(amount_minor)
    check_order_id(order_id)

    def operation(u: UnitOfWork) -> Move:
        return refund_money(u, find(u), amount_minor, spend_id, order_id, actor)

    payload = {**owner, "amount": amount_minor, "spend": spend_id, "order": order_id}
    return run_once(uow, scope, idempotency_key, payload, operation, decode_move)
