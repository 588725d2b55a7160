"""Property-based: random sequences of earn, redeem, refund, expire and transfer keep
every invariant, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.errors import PatronageError
from patronage.services.balances import get_balance
from patronage.services.expiry import expire_due_lots
from patronage.services.points import redeem_points, transfer_points
from patronage.storage.invariants import find_violations
from patronage.storage.tables import metadata

operation = st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 1), st.integers(1, 200_00)),
    st.tuples(st.just("redeem"), st.integers(0, 1), st.integers(1, 300)),
    st.tuples(st.just("refund"), st.integers(0, 1), st.integers(1, 100)),
    st.tuples(st.just("transfer"), st.integers(0, 1), st.integers(1, 300)),
    st.tuples(st.just("wait"), st.integers(0, 1), st.integers(1, 400)),
)


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operation, min_size=1, max_size=25))
def test_invariants_hold(
    engine: Engine, clock: FixedClock, ops: list[tuple[str, int, int]]
) -> None:
    _reset(engine)
    clock.now = clock.now.replace(year=2026, month=3, day=10)
    shop = Shop(engine, clock)
    members = [shop.member("a"), shop.member("b")]
    orders: list[tuple[int, str, int]] = []  # (member index, order id, amount minor)
    for n, (kind, who, size) in enumerate(ops):
        member = members[who]
        try:
            if kind == "buy":
                shop.buy(member, f"{size / 100:.2f}", order_id=f"o{n}")
                orders.append((who, f"o{n}", size))
            elif kind == "redeem":
                redeem_points(shop.uow(), member.id, size)
            elif kind == "refund" and orders:
                owner, order_id, amount = orders[size % len(orders)]
                part = max(1, amount * size // 100)
                shop.refund(members[owner], order_id, f"{part / 100:.2f}")
            elif kind == "transfer":
                transfer_points(shop.uow(), member.id, members[1 - who].id, size)
            elif kind == "wait":
                clock.advance(days=size)
                expire_due_lots(shop.uow(), "default", clock())
        except PatronageError as exc:
            if exc.code not in ("insufficient_points", "refund_exceeds_order"):
                raise
        for m in members:
            view = get_balance(shop.uow(), m.id)
            assert view.available >= 0 and view.pending >= 0 and view.debt >= 0
        assert find_violations(engine) == {}
    clock.advance(days=800)
    expire_due_lots(shop.uow(), "default", clock() + timedelta(days=1))
    for m in members:
        assert get_balance(shop.uow(), m.id).available == 0
    assert find_violations(engine) == {}
