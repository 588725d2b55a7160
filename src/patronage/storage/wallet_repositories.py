"""Wallets and gift cards: accounts whose balance changes by one conditional UPDATE,
and their append-only entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patronage.domain.wallet import Account, ValueEntry
from patronage.errors import NotFound
from patronage.storage.tables import ValueAccountRow, ValueEntryRow


def _account(row: ValueAccountRow) -> Account:
    return Account(
        id=row.id,
        kind=row.kind,
        program_id=row.program_id,
        currency=row.currency,
        balance_minor=row.balance_minor,
        member_id=row.member_id,
        code=row.code,
        expires_at=row.expires_at,
        created_at=row.created_at,
    )


def _entry(row: ValueEntryRow) -> ValueEntry:
    return ValueEntry(
        id=row.id,
        account_id=row.account_id,
        kind=row.kind,
        amount_minor=row.amount_minor,
        balance_after=row.balance_after,
        occurred_at=row.occurred_at,
        order_id=row.order_id,
        refund_of=row.refund_of,
        reason=row.reason,
        actor=row.actor,
    )


class StoredValueRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _one(self, *where: Any) -> Account | None:
        row = self.session.scalar(
            select(ValueAccountRow).where(*where).execution_options(populate_existing=True)
        )
        return None if row is None else _account(row)

    def wallet(self, member_id: int) -> Account | None:
        return self._one(ValueAccountRow.member_id == member_id, ValueAccountRow.kind == "wallet")

    def gift_card(self, code: str) -> Account | None:
        return self._one(ValueAccountRow.code == code, ValueAccountRow.kind == "gift_card")

    def open_wallet(self, program_id: int, member_id: int, currency: str, now: datetime) -> Account:
        """The member's wallet, created on first use. Two first credits at once: the
        loser's insert fails on the unique member_id inside a savepoint and it reads
        the winner's wallet."""
        found = self.wallet(member_id)
        if found is not None:
            return found
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(ValueAccountRow).values(
                        program_id=program_id,
                        kind="wallet",
                        member_id=member_id,
                        currency=currency,
                        balance_minor=0,
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass
        found = self.wallet(member_id)
        assert found is not None
        return found

    def add_gift_card(self, **values: Any) -> Account:
        row = ValueAccountRow(kind="gift_card", balance_minor=0, **values)
        self.session.add(row)
        self.session.flush()
        return _account(row)

    def lock(self, account_id: int) -> None:
        """Hold the account's row until commit (PostgreSQL; SQLite's writer lock suffices)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                select(ValueAccountRow.id).where(ValueAccountRow.id == account_id).with_for_update()
            )

    def add_to_balance(self, account_id: int, amount_minor: int) -> int:
        """Credit or refund; returns the new balance."""
        return int(
            self.session.execute(
                update(ValueAccountRow)
                .where(ValueAccountRow.id == account_id)
                .values(balance_minor=ValueAccountRow.balance_minor + amount_minor)
                .returning(ValueAccountRow.balance_minor)
            ).scalar_one()
        )

    def take_from_balance(self, account_id: int, amount_minor: int, now: datetime) -> int | None:
        """Spend if the balance covers it and the account has not expired, in one
        conditional UPDATE; the new balance, or None when refused."""
        return self.session.execute(
            update(ValueAccountRow)
            .where(
                ValueAccountRow.id == account_id,
                ValueAccountRow.balance_minor >= amount_minor,
                or_(ValueAccountRow.expires_at.is_(None), ValueAccountRow.expires_at > now),
            )
            .values(balance_minor=ValueAccountRow.balance_minor - amount_minor)
            .returning(ValueAccountRow.balance_minor)
        ).scalar_one_or_none()

    def add_entry(self, **values: Any) -> ValueEntry:
        row = ValueEntryRow(**values)
        self.session.add(row)
        self.session.flush()
        return _entry(row)

    def entry(self, entry_id: int) -> ValueEntry:
        row = self.session.get(ValueEntryRow, entry_id)
        if row is None:
            raise NotFound(f"no stored-value entry {entry_id}", entry_id=entry_id)
        return _entry(row)

    def refunded(self, spend_id: int) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(ValueEntryRow.amount_minor), 0)).where(
                ValueEntryRow.refund_of == spend_id
            )
        )
        return int(total or 0)

    def balance(self, account_id: int) -> int:
        return int(
            self.session.scalar(
                select(ValueAccountRow.balance_minor).where(ValueAccountRow.id == account_id)
            )
            or 0
        )

    def order_total(self, account_id: int, order_id: str, kind: str) -> int:
        """The sum of the account's entries of one kind for one order."""
        total = self.session.scalar(
            select(func.coalesce(func.sum(ValueEntryRow.amount_minor), 0)).where(
                ValueEntryRow.account_id == account_id,
                ValueEntryRow.order_id == order_id,
                ValueEntryRow.kind == kind,
            )
        )
        return int(total or 0)

    def spend_for_order(self, account_id: int, order_id: str) -> ValueEntry | None:
        row = self.session.scalar(
            select(ValueEntryRow)
            .where(
                ValueEntryRow.account_id == account_id,
                ValueEntryRow.kind == "spend",
                ValueEntryRow.order_id == order_id,
            )
            .order_by(ValueEntryRow.id)
            .limit(1)
        )
        return None if row is None else _entry(row)

    def entries(
        self, account_id: int, limit: int, before_id: int | None = None
    ) -> list[ValueEntry]:
        query = select(ValueEntryRow).where(ValueEntryRow.account_id == account_id)
        if before_id is not None:
            query = query.where(ValueEntryRow.id < before_id)
        rows = self.session.scalars(query.order_by(ValueEntryRow.id.desc()).limit(limit))
        return [_entry(r) for r in rows]

    def entries_sum(self, account_id: int) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(ValueEntryRow.amount_minor), 0)).where(
                ValueEntryRow.account_id == account_id
            )
        )
        return int(total or 0)
