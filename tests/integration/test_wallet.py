"""Wallets and gift cards on SQLite and PostgreSQL: integer money, never negative."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.errors import Conflict, InvalidInput, NotFound, PatronageError, RuleViolation
from patronage.services.gift_cards import (
    gift_card_view,
    issue_gift_card,
    refund_gift_card,
    spend_gift_card,
)
from patronage.services.wallet import credit_wallet, refund_wallet, spend_wallet, wallet_view
from patronage.storage.tables import AuditRow, ValueAccountRow, ValueEntryRow
from patronage.storage.uow import UnitOfWork


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    return Shop(engine, clock)


def balance(shop: Shop, member_id: int) -> int:
    return wallet_view(shop.uow(), member_id).balance_minor


def entries_match_balances(engine: Engine) -> bool:
    with engine.connect() as conn:
        accounts = conn.execute(select(ValueAccountRow.id, ValueAccountRow.balance_minor)).all()
        for account_id, cached in accounts:
            amounts = conn.scalars(
                select(ValueEntryRow.amount_minor).where(ValueEntryRow.account_id == account_id)
            ).all()
            if sum(amounts) != cached or cached < 0:
                return False
    return True


def test_credit_spend_refund(shop: Shop) -> None:
    alice = shop.member()
    assert balance(shop, alice.id) == 0
    cashback = credit_wallet(shop.uow(), alice.id, 1250, "cashback", order_id="o-1")
    assert (cashback.balance_minor, cashback.currency) == (1250, "CNY")
    credit_wallet(shop.uow(), alice.id, 5000, "top_up", reason="cash at till 3", actor="staff:3")
    spend = spend_wallet(shop.uow(), alice.id, 4000, order_id="o-2")
    assert (spend.amount_minor, spend.balance_minor) == (-4000, 2250)
    back = refund_wallet(shop.uow(), alice.id, 1500, spend_id=spend.entry_id)
    assert (back.balance_minor, back.refund_of, back.order_id) == (3750, spend.entry_id, "o-2")
    rest = refund_wallet(shop.uow(), alice.id, 2500, order_id="o-2")
    assert rest.balance_minor == 6250
    with pytest.raises(RuleViolation) as too_much:
        refund_wallet(shop.uow(), alice.id, 1, spend_id=spend.entry_id)
    assert too_much.value.code == "refund_exceeds_spend"
    view = wallet_view(shop.uow(), alice.id)
    assert [e.kind for e in view.entries] == ["refund", "refund", "spend", "top_up", "cashback"]
    assert entries_match_balances(shop.engine)
    with shop.engine.connect() as conn:
        assert conn.scalars(select(AuditRow.action)).all() == ["wallet_top_up"]


def test_spend_is_refused_whole_when_short(shop: Shop) -> None:
    alice = shop.member()
    with pytest.raises(RuleViolation) as empty:
        spend_wallet(shop.uow(), alice.id, 1, order_id="o-1")
    assert empty.value.code == "insufficient_funds"
    credit_wallet(shop.uow(), alice.id, 999)
    with pytest.raises(RuleViolation) as short:
        spend_wallet(shop.uow(), alice.id, 1000, order_id="o-1")
    assert short.value.details == {"requested": 1000, "available": 999}
    assert balance(shop, alice.id) == 999


def test_refunds_name_a_spend_of_this_wallet(shop: Shop) -> None:
    alice, bob = shop.member("a"), shop.member("b")
    credit_wallet(shop.uow(), alice.id, 100)
    credit_wallet(shop.uow(), bob.id, 100)
    bobs = spend_wallet(shop.uow(), bob.id, 50, order_id="b-1")
    with pytest.raises(NotFound):
        refund_wallet(shop.uow(), alice.id, 10, spend_id=bobs.entry_id)
    with pytest.raises(NotFound):
        refund_wallet(shop.uow(), alice.id, 10, order_id="b-1")
    with pytest.raises(InvalidInput):
        refund_wallet(shop.uow(), alice.id, 10)
    credit = credit_wallet(shop.uow(), alice.id, 10)
    with pytest.raises(NotFound):
        refund_wallet(shop.uow(), alice.id, 10, spend_id=credit.entry_id)


@pytest.mark.parametrize(
    ("amount", "field"), [(0, "amount_minor"), (-5, "amount_minor"), (10**13, "amount_minor")]
)
def test_bad_amounts(shop: Shop, amount: int, field: str) -> None:
    alice = shop.member()
    for call in (
        lambda: credit_wallet(shop.uow(), alice.id, amount),
        lambda: spend_wallet(shop.uow(), alice.id, amount, order_id="o"),
    ):
        with pytest.raises(InvalidInput) as bad:
            call()
        assert bad.value.details["field"] == field


def test_bad_kind_order_and_float(shop: Shop) -> None:
    alice = shop.member()
    with pytest.raises(InvalidInput) as kind:
        credit_wallet(shop.uow(), alice.id, 10, kind="gift")
    assert kind.value.details["field"] == "kind"
    with pytest.raises(InvalidInput) as order:
        spend_wallet(shop.uow(), alice.id, 10, order_id="")
    assert order.value.details["field"] == "order_id"
    with pytest.raises(InvalidInput):
        credit_wallet(shop.uow(), alice.id, 10.5)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        credit_wallet(shop.uow(), 999_999, 10)


def test_idempotent_spend(shop: Shop) -> None:
    alice = shop.member()
    credit_wallet(shop.uow(), alice.id, 100)
    first = spend_wallet(shop.uow(), alice.id, 30, order_id="o-1", idempotency_key="s1")
    assert spend_wallet(shop.uow(), alice.id, 30, order_id="o-1", idempotency_key="s1") == first
    assert balance(shop, alice.id) == 70
    with pytest.raises(Conflict):
        spend_wallet(shop.uow(), alice.id, 31, order_id="o-1", idempotency_key="s1")


def test_racing_spends_never_go_negative(shop: Shop) -> None:
    alice = shop.member()
    credit_wallet(shop.uow(), alice.id, 1000)

    def spend(i: int) -> str:
        try:
            spend_wallet(UnitOfWork(shop.engine, shop.clock), alice.id, 70, order_id=f"o-{i}")
        except PatronageError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(spend, range(24)))
    assert outcomes.count("ok") == 1000 // 70
    assert set(outcomes) == {"ok", "insufficient_funds"}
    assert balance(shop, alice.id) == 1000 - 70 * (1000 // 70)
    assert entries_match_balances(shop.engine)


def test_racing_refunds_of_one_spend_never_return_more_than_it_took(shop: Shop) -> None:
    alice = shop.member()
    credit_wallet(shop.uow(), alice.id, 1000)
    spend = spend_wallet(shop.uow(), alice.id, 500, order_id="o-1")

    def refund(_: int) -> str:
        try:
            refund_wallet(UnitOfWork(shop.engine, shop.clock), alice.id, 200, spend.entry_id)
        except PatronageError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(refund, range(8)))
    assert outcomes.count("ok") == 2
    assert balance(shop, alice.id) == 900


def test_gift_card_issue_spend_refund_expire(shop: Shop, clock: FixedClock) -> None:
    card = issue_gift_card(shop.uow(), 20000, "admin", expires_at=clock() + timedelta(days=365))
    code = card.code or ""
    assert card.balance_minor == 20000 and len(code) == 16
    spent = spend_gift_card(shop.uow(), code.lower(), 12000, order_id="o-1", actor="till")
    assert spent.balance_minor == 8000
    with pytest.raises(RuleViolation) as short:
        spend_gift_card(shop.uow(), code, 8001, order_id="o-2")
    assert short.value.code == "insufficient_funds"
    assert refund_gift_card(shop.uow(), code, 2000, order_id="o-1").balance_minor == 10000
    view = gift_card_view(shop.uow(), code)
    assert (view.balance_minor, view.expired) == (10000, False)
    clock.advance(days=366)
    with pytest.raises(RuleViolation) as expired:
        spend_gift_card(shop.uow(), code, 1, order_id="o-3")
    assert expired.value.code == "gift_card_expired"
    with pytest.raises(RuleViolation):
        refund_gift_card(shop.uow(), code, 1000, spend_id=spent.entry_id)
    assert gift_card_view(shop.uow(), code).expired
    assert entries_match_balances(shop.engine)


def test_gift_card_codes_and_bad_input(shop: Shop, clock: FixedClock) -> None:
    code = issue_gift_card(shop.uow(), 500, "admin").code or ""
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(InvalidInput) as mistyped:
        spend_gift_card(shop.uow(), typo, 1, order_id="o")
    assert mistyped.value.code == "mistyped_code"
    with pytest.raises(NotFound):
        gift_card_view(shop.uow(), "GIFT-0000")
    with pytest.raises(InvalidInput) as past:
        issue_gift_card(shop.uow(), 500, "admin", expires_at=clock() - timedelta(days=1))
    assert past.value.details["field"] == "expires_at"
    with pytest.raises(InvalidInput):
        issue_gift_card(shop.uow(), 0, "admin")
