"""Gift cards: a code with a money balance and an expiry, on the wallet's mechanism."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patronage.domain import coupon_codes
from patronage.domain.wallet import Account, ValueEntry, check_amount
from patronage.errors import Conflict, InvalidInput, NotFound
from patronage.services import stored_value
from patronage.services.idempotency import run_once
from patronage.services.stored_value import Move, add_money, decode_move
from patronage.storage.uow import UnitOfWork

GIFT_CARD_LENGTH = 15  # random characters, plus the check character: about 74 bits


@dataclass(frozen=True)
class GiftCardView:
    code: str
    currency: str
    balance_minor: int
    expires_at: datetime | None
    expired: bool
    entries: list[ValueEntry]


def find_card(u: UnitOfWork, code: str) -> Account:
    typed = coupon_codes.normalize(code)
    card = u.stored_value.gift_card(typed) if 4 <= len(typed) <= 64 else None
    if card is not None:
        return card
    if all(ch in coupon_codes.ALPHABET for ch in typed) and not coupon_codes.is_well_formed(typed):
        raise InvalidInput(
            "this code has a typo: its check character does not match",
            code="mistyped_code",
            field="code",
        )
    raise NotFound("no such gift card", code="gift_card_not_found")


def issue_gift_card(
    uow: UnitOfWork,
    amount_minor: int,
    actor: str,
    expires_at: datetime | None = None,
    program: str = "default",
    idempotency_key: str | None = None,
) -> Move:
    """A new card loaded with ``amount_minor``; audited. Its code is printed once."""
    check_amount(amount_minor)
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidInput("expires_at must carry a time zone offset", field="expires_at")

    def operation(u: UnitOfWork) -> Move:
        prog = u.programs.get(program)
        if expires_at is not None and expires_at <= u.clock():
            raise InvalidInput("expires_at must be in the future", field="expires_at")
        code = coupon_codes.new_code(GIFT_CARD_LENGTH)
        if u.stored_value.gift_card(code) is not None:  # about one chance in 10^22
            raise Conflict("code clash, try again", code="duplicate_code")
        card = u.stored_value.add_gift_card(
            program_id=prog.id,
            code=code,
            currency=prog.currency,
            expires_at=expires_at,
            created_at=u.clock(),
        )
        move = add_money(u, card, "issue", amount_minor, actor=actor)
        after = {"balance_minor": amount_minor, "expires_at": _iso(expires_at)}
        u.audit.add(
            at=u.clock(),
            actor=actor,
            action="gift_card_issued",
            target_type="gift_card",
            target_id=str(card.id),
            before=None,
            after=after,
            reason=None,
        )
        return move

    payload = {"amount": amount_minor, "expires_at": expires_at, "program": program}
    return run_once(uow, "gift_cards", idempotency_key, payload, operation, decode_move)


def spend_gift_card(
    uow: UnitOfWork,
    code: str,
    amount_minor: int,
    order_id: str,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> Move:
    """Pay from a card; refused whole when short, and always once the card expired."""
    return stored_value.spend(
        uow,
        lambda u: find_card(u, code),
        f"gift_card:{coupon_codes.normalize(code)}:spend",
        {"code": code},
        amount_minor,
        order_id,
        actor,
        idempotency_key,
    )


def refund_gift_card(
    uow: UnitOfWork,
    code: str,
    amount_minor: int,
    spend_id: int | None = None,
    order_id: str | None = None,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> Move:
    """Give back (part of) a spend of the card; refused once the card expired."""
    return stored_value.refund(
        uow,
        lambda u: find_card(u, code),
        f"gift_card:{coupon_codes.normalize(code)}:refund",
        {"code": code},
        amount_minor,
        spend_id,
        order_id,
        actor,
        idempotency_key,
    )


def gift_card_view(uow: UnitOfWork, code: str, limit: int = 50) -> GiftCardView:
    with uow:
        card = find_card(uow, code)
        return GiftCardView(
            code=card.code or "",
            currency=card.currency,
            balance_minor=card.balance_minor,
            expires_at=card.expires_at,
            expired=card.is_expired(uow.clock()),
            entries=uow.stored_value.entries(card.id, limit),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
