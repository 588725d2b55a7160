"""Coupon batches, codes and redemptions. Codes are written in bulk: COPY on PostgreSQL,
one executemany on SQLite, never one ORM object per code."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patronage.domain.coupons import BatchRules, Coupon, CouponBatch, Discount
from patronage.errors import Conflict, NotFound
from patronage.storage.tables import CouponBatchRow, CouponRedemptionRow, CouponRow

_CODE_COLUMNS = (
    "batch_id",
    "code",
    "member_id",
    "max_redemptions",
    "redeemed_count",
    "expires_at",
    "created_at",
)
_LOOKUP_CHUNK = 1000


def _batch(row: CouponBatchRow) -> CouponBatch:
    return CouponBatch(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        source=row.source,
        rules=BatchRules(
            discount=Discount(row.discount_type, row.discount_value, row.discount_sku),
            max_redemptions=row.max_redemptions,
            per_member_limit=row.per_member_limit,
            valid_from=row.valid_from,
            expires_at=row.expires_at,
        ),
        code_length=row.code_length,
        campaign_id=row.campaign_id,
        active=row.active,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _coupon(row: CouponRow, batch: CouponBatchRow) -> Coupon:
    expiries = [t for t in (row.expires_at, batch.expires_at) if t is not None]
    return Coupon(
        id=row.id,
        code=row.code,
        batch_id=batch.id,
        program_id=batch.program_id,
        discount=Discount(batch.discount_type, batch.discount_value, batch.discount_sku),
        max_redemptions=row.max_redemptions,
        redeemed_count=row.redeemed_count,
        per_member_limit=batch.per_member_limit,
        valid_from=batch.valid_from,
        expires_at=min(expiries) if expiries else None,
        member_id=row.member_id,
        active=batch.active,
    )


class CouponRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_batch(self, **values: Any) -> CouponBatch:
        row = CouponBatchRow(**values)
        self.session.add(row)
        self.session.flush()
        return _batch(row)

    def batch(self, batch_id: int) -> CouponBatch:
        row = self.session.get(CouponBatchRow, batch_id)
        if row is None:
            raise NotFound(f"no coupon batch {batch_id}", batch_id=batch_id)
        return _batch(row)

    def set_batch_active(self, batch_id: int, active: bool) -> None:
        self.session.execute(
            update(CouponBatchRow).where(CouponBatchRow.id == batch_id).values(active=active)
        )

    def batches(self, program_id: int, limit: int) -> list[tuple[CouponBatch, int]]:
        """The program's batches, newest first, each with its number of codes."""
        codes = (
            select(func.count(CouponRow.id))
            .where(CouponRow.batch_id == CouponBatchRow.id)
            .correlate(CouponBatchRow)
            .scalar_subquery()
        )
        rows = self.session.execute(
            select(CouponBatchRow, codes)
            .where(CouponBatchRow.program_id == program_id)
            .order_by(CouponBatchRow.id.desc())
            .limit(limit)
        )
        return [(_batch(row), int(n or 0)) for row, n in rows]

    def count_codes(self, batch_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count(CouponRow.id)).where(CouponRow.batch_id == batch_id)
            )
            or 0
        )

    def existing_codes(self, codes: Sequence[str]) -> dict[str, int]:
        """Which of ``codes`` are already stored, and in which batch."""
        found: dict[str, int] = {}
        for start in range(0, len(codes), _LOOKUP_CHUNK):
            chunk = codes[start : start + _LOOKUP_CHUNK]
            rows = self.session.execute(
                select(CouponRow.code, CouponRow.batch_id).where(CouponRow.code.in_(chunk))
            )
            found.update({code: batch for code, batch in rows})
        return found

    def insert_codes(
        self,
        batch_id: int,
        codes: Iterable[str],
        max_redemptions: int,
        now: datetime,
        member_id: int | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        rows = [(batch_id, code, member_id, max_redemptions, 0, expires_at, now) for code in codes]
        if not rows:
            return
        connection = self.session.connection()
        try:
            if connection.dialect.name == "postgresql":
                self._copy(connection.connection.driver_connection, rows)
            else:
                self._executemany(connection, rows)
        except (IntegrityError, psycopg.errors.UniqueViolation) as exc:
            if "unique" not in str(exc).lower():
                raise
            raise Conflict("a coupon code already exists", code="duplicate_code") from None

    @staticmethod
    def _executemany(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
        """One executemany of plain tuples; the two datetimes are converted once."""
        table = CouponRow.__table__
        assert isinstance(table, Table)
        dialect = connection.dialect
        to_db = table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        assert to_db is not None
        expires_at, created_at = (to_db(v) if v is not None else None for v in rows[0][5:])
        marks = ", ".join("?" for _ in _CODE_COLUMNS)
        statement = f"INSERT INTO coupons ({', '.join(_CODE_COLUMNS)}) VALUES ({marks})"
        connection.exec_driver_sql(statement, [(*row[:5], expires_at, created_at) for row in rows])

    @staticmethod
    def _copy(driver_connection: Any, rows: list[tuple[Any, ...]]) -> None:
        """PostgreSQL's COPY, fed one block of text: the fastest way in. Codes are
        letters, digits, '_' and '.' only, so they need no escaping."""
        statement = f"COPY coupons ({', '.join(_CODE_COLUMNS)}) FROM STDIN"

        def field(value: Any) -> str:
            if value is None:
                return "\\N"
            return value.isoformat() if isinstance(value, datetime) else str(value)

        member, uses, used, expires_at, created_at = (field(v) for v in rows[0][2:])
        tail = f"\t{member}\t{uses}\t{used}\t{expires_at}\t{created_at}\n"
        block = "".join(f"{batch}\t{code}{tail}" for batch, code, *_ in rows)
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(block)

    def by_code(self, code: str) -> Coupon | None:
        found = self.session.execute(
            select(CouponRow, CouponBatchRow)
            .join(CouponBatchRow, CouponRow.batch_id == CouponBatchRow.id)
            .where(CouponRow.code == code)
            .execution_options(populate_existing=True)
        ).first()
        return None if found is None else _coupon(found[0], found[1])

    def codes(self, batch_id: int, after_id: int, limit: int) -> list[tuple[int, str, int]]:
        """(id, code, redeemed_count) in id order, for paging through a batch."""
        rows = self.session.execute(
            select(CouponRow.id, CouponRow.code, CouponRow.redeemed_count)
            .where(CouponRow.batch_id == batch_id, CouponRow.id > after_id)
            .order_by(CouponRow.id)
            .limit(limit)
        )
        return [(i, c, n) for i, c, n in rows]

    def of_member(self, member_id: int) -> list[Coupon]:
        rows = self.session.execute(
            select(CouponRow, CouponBatchRow)
            .join(CouponBatchRow, CouponRow.batch_id == CouponBatchRow.id)
            .where(CouponRow.member_id == member_id)
            .order_by(CouponRow.id.desc())
            .limit(500)
        )
        return [_coupon(c, b) for c, b in rows]

    def use(self, coupon_id: int) -> bool:
        """One more redemption, unless the code is used up (one conditional UPDATE)."""
        result = self.session.execute(
            update(CouponRow)
            .where(CouponRow.id == coupon_id, CouponRow.redeemed_count < CouponRow.max_redemptions)
            .values(redeemed_count=CouponRow.redeemed_count + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def give_back(self, coupon_id: int) -> None:
        self.session.execute(
            update(CouponRow)
            .where(CouponRow.id == coupon_id, CouponRow.redeemed_count >= 1)
            .values(redeemed_count=CouponRow.redeemed_count - 1)
        )

    def add_redemption(self, **values: Any) -> int:
        row = CouponRedemptionRow(**values)
        self.session.add(row)
        self.session.flush()
        return row.id

    def redemption(self, redemption_id: int) -> CouponRedemptionRow:
        row = self.session.get(CouponRedemptionRow, redemption_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no coupon redemption {redemption_id}", redemption_id=redemption_id)
        return row

    def mark_reversed(self, redemption_id: int, at: datetime, by: str | None, reason: str) -> bool:
        """True when this call reversed it; False when it already was (conditional UPDATE)."""
        result = self.session.execute(
            update(CouponRedemptionRow)
            .where(
                CouponRedemptionRow.id == redemption_id, CouponRedemptionRow.reversed_at.is_(None)
            )
            .values(reversed_at=at, reversed_by=by, reverse_reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def member_redemptions(self, batch_id: int, member_id: int) -> int:
        """Redemptions of a batch by a member that were not reversed."""
        return int(
            self.session.scalar(
                select(func.count(CouponRedemptionRow.id)).where(
                    CouponRedemptionRow.batch_id == batch_id,
                    CouponRedemptionRow.member_id == member_id,
                    CouponRedemptionRow.reversed_at.is_(None),
                )
            )
            or 0
        )
