"""Stored value: member wallets (cashback, top-ups) and gift cards, in integer minor units.

Both are accounts with an append-only list of entries; the balance is a cache of the
entries' sum that only ever changes by one conditional UPDATE, so it can never go
below zero, even when two tills spend at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patronage.errors import InvalidInput

MAX_AMOUNT_MINOR = 10**12
CREDIT_KINDS = ("cashback", "top_up")
ACCOUNT_KINDS = ("wallet", "gift_card")


@dataclass(frozen=True)
class Account:
    id: int
    kind: str
    program_id: int
    currency: str
    balance_minor: int
    member_id: int | None = None
    code: str | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True)
class ValueEntry:
    id: int
    account_id: int
    kind: str
    amount_minor: int
    balance_after: int
    occurred_at: datetime
    order_id: str | None = None
    refund_of: int | None = None
    reason: str | None = None
    actor: str | None = None


def check_amount(amount_minor: int, field: str = "amount_minor") -> int:
    """A positive whole number of minor units (cents, fen): never a float."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidInput(f"{field} must be a whole number of minor units", field=field)
    if not 1 <= amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidInput(f"{field} must be between 1 and {MAX_AMOUNT_MINOR}", field=field)
    return amount_minor


def check_credit_kind(kind: str) -> str:
    if kind not in CREDIT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(CREDIT_KINDS)}", field="kind")
    return kind


def check_order_id(order_id: str | None, required: bool = False) -> str | None:
    if order_id is None:
        if required:
            raise InvalidInput("order_id is required", field="order_id")
        return None
    if not order_id.strip() or len(order_id) > 128:
        raise InvalidInput("order_id must be 1-128 characters", field="order_id")
    return order_id
