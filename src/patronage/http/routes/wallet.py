"""Stored value: members' wallets and gift cards. Amounts are integer minor units."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from patronage.domain.wallet import ValueEntry
from patronage.http.deps import AnyRole, IdempotencyKey, StaffOrAdmin, Uow
from patronage.http.reward_schemas import (
    CreditIn,
    GiftCardIn,
    GiftCardOut,
    MoveOut,
    RefundIn,
    SpendIn,
    ValueEntryOut,
    WalletOut,
)
from patronage.services import gift_cards, wallet

router = APIRouter(tags=["stored value"])
MemberId = Annotated[int, Path(ge=1, le=2**62)]
Code = Annotated[str, Path(min_length=1, max_length=80)]


def _entries(entries: list[ValueEntry]) -> list[ValueEntryOut]:
    return [
        ValueEntryOut(**{k: v for k, v in asdict(e).items() if k != "account_id"}) for e in entries
    ]


@router.get("/members/{member_id}/wallet", response_model=WalletOut)
def get_wallet(
    member_id: MemberId,
    uow: Uow,
    principal: AnyRole,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> WalletOut:
    principal.may_see_member(member_id)
    view = wallet.wallet_view(uow, member_id, limit, before_id)
    return WalletOut(
        member_id=view.member_id,
        currency=view.currency,
        balance_minor=view.balance_minor,
        entries=_entries(list(view.entries)),
    )


@router.post("/members/{member_id}/wallet/credits", status_code=201, response_model=MoveOut)
def credit(
    member_id: MemberId,
    body: CreditIn,
    uow: Uow,
    principal: StaffOrAdmin,
    key: IdempotencyKey = None,
) -> MoveOut:
    """Cashback or a top-up; audited with the caller."""
    move = wallet.credit_wallet(
        uow,
        member_id,
        body.amount_minor,
        body.kind,
        body.reason,
        body.order_id,
        principal.label,
        key,
    )
    return MoveOut(**asdict(move))


@router.post("/members/{member_id}/wallet/spends", status_code=201, response_model=MoveOut)
def spend(
    member_id: MemberId,
    body: SpendIn,
    uow: Uow,
    principal: StaffOrAdmin,
    key: IdempotencyKey = None,
) -> MoveOut:
    move = wallet.spend_wallet(
        uow, member_id, body.amount_minor, body.order_id, principal.label, key
    )
    return MoveOut(**asdict(move))


@router.post("/members/{member_id}/wallet/refunds", status_code=201, response_model=MoveOut)
def refund(
    member_id: MemberId,
    body: RefundIn,
    uow: Uow,
    principal: StaffOrAdmin,
    key: IdempotencyKey = None,
) -> MoveOut:
    """Give back (part of) a spend, named by ``spend_id`` or ``order_id``."""
    move = wallet.refund_wallet(
        uow, member_id, body.amount_minor, body.spend_id, body.order_id, principal.label, key
    )
    return MoveOut(**asdict(move))


@router.post("/gift-cards", status_code=201, response_model=MoveOut)
def issue_gift_card(
    body: GiftCardIn, uow: Uow, principal: StaffOrAdmin, key: IdempotencyKey = None
) -> MoveOut:
    """A new card; its ``code`` is in the response (audited)."""
    move = gift_cards.issue_gift_card(
        uow, body.amount_minor, principal.label, body.expires_at, body.program, key
    )
    return MoveOut(**asdict(move))


@router.get("/gift-cards/{code}", response_model=GiftCardOut)
def get_gift_card(code: Code, uow: Uow, _: StaffOrAdmin) -> GiftCardOut:
    view = gift_cards.gift_card_view(uow, code)
    data = asdict(view)
    data["entries"] = _entries(list(view.entries))
    return GiftCardOut(**data)


@router.post("/gift-cards/{code}/spends", status_code=201, response_model=MoveOut)
def spend_gift_card(
    code: Code, body: SpendIn, uow: Uow, principal: StaffOrAdmin, key: IdempotencyKey = None
) -> MoveOut:
    move = gift_cards.spend_gift_card(
        uow, code, body.amount_minor, body.order_id, principal.label, key
    )
    return MoveOut(**asdict(move))


@router.post("/gift-cards/{code}/refunds", status_code=201, response_model=MoveOut)
def refund_gift_card(
    code: Code, body: RefundIn, uow: Uow, principal: StaffOrAdmin, key: IdempotencyKey = None
) -> MoveOut:
    move = gift_cards.refund_gift_card(
        uow, code, body.amount_minor, body.spend_id, body.order_id, principal.label, key
    )
    return MoveOut(**asdict(move))
