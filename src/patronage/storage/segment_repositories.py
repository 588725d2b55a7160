"""Reads and writes for saved segments and their member snapshots."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patronage.domain.segments import RfmFigures, SavedSegment, SegmentMember
from patronage.errors import Conflict
from patronage.storage.segment_tables import SegmentMemberRow, SegmentRow
from patronage.storage.tables import MemberRow

CHUNK = 1000  # ids per IN (...) and rows per INSERT: far below both databases' limits
_SEGMENT_FIELDS = (
    "id",
    "program_id",
    "code",
    "name",
    "description",
    "source",
    "definition",
    "as_of",
    "member_count",
    "revenue_minor",
    "total_revenue_minor",
    "created_by",
    "created_at",
    "refreshed_at",
)
_RFM_FIELDS = ("recency_days", "frequency", "monetary_minor", "r_score", "f_score", "m_score")


def _segment(row: SegmentRow) -> SavedSegment:
    return SavedSegment(**{name: getattr(row, name) for name in _SEGMENT_FIELDS})


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class SegmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, program_id: int, code: str, lock: bool = False) -> SavedSegment | None:
        query = select(SegmentRow).where(
            SegmentRow.program_id == program_id, SegmentRow.code == code
        )
        row = self.session.scalar(query.with_for_update() if lock else query)
        return None if row is None else _segment(row)

    def in_program(self, program_id: int) -> list[SavedSegment]:
        query = select(SegmentRow).where(SegmentRow.program_id == program_id)
        return [_segment(row) for row in self.session.scalars(query.order_by(SegmentRow.code))]

    def add(self, **values: Any) -> SavedSegment:
        row = SegmentRow(**values)
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            raise Conflict(
                f"a segment {values['code']!r} already exists", code=values["code"]
            ) from None
        return _segment(row)

    def update(self, segment_id: int, **values: Any) -> None:
        self.session.execute(update(SegmentRow).where(SegmentRow.id == segment_id).values(values))

    def replace_members(self, segment_id: int, members: Sequence[dict[str, Any]]) -> None:
        """The new snapshot instead of the old one (the caller's transaction makes it atomic)."""
        self.session.execute(
            delete(SegmentMemberRow).where(SegmentMemberRow.segment_id == segment_id)
        )
        for chunk in _chunks(members):
            self.session.execute(
                insert(SegmentMemberRow), [{**m, "segment_id": segment_id} for m in chunk]
            )

    def delete(self, segment_id: int) -> None:
        self.session.execute(
            delete(SegmentMemberRow).where(SegmentMemberRow.segment_id == segment_id)
        )
        self.session.execute(delete(SegmentRow).where(SegmentRow.id == segment_id))

    def members(self, segment_id: int, with_names: bool) -> Iterator[SegmentMember]:
        """The snapshot in member id order; names only when asked for."""
        query = (
            select(SegmentMemberRow, MemberRow.external_id, MemberRow.name)
            .join(MemberRow, MemberRow.id == SegmentMemberRow.member_id)
            .where(SegmentMemberRow.segment_id == segment_id)
            .order_by(SegmentMemberRow.member_id)
            .execution_options(yield_per=CHUNK)
        )
        for row, external_id, name in self.session.execute(query):
            rfm = None
            if row.rfm_segment is not None:
                rfm = RfmFigures(row.rfm_segment, *(getattr(row, f) for f in _RFM_FIELDS))
            yield SegmentMember(row.member_id, external_id, name if with_names else None, rfm)

    def count_members(self, segment_id: int) -> int:
        query = select(func.count()).where(SegmentMemberRow.segment_id == segment_id)
        return int(self.session.scalar(query) or 0)

    def ids_by_external_id(self, program_id: int, external_ids: Sequence[str]) -> dict[str, int]:
        """Members of the program by external id; erased members are not found."""
        found: dict[str, int] = {}
        for chunk in _chunks(external_ids):
            query = select(MemberRow.external_id, MemberRow.id).where(
                MemberRow.program_id == program_id,
                MemberRow.erased_at.is_(None),
                MemberRow.external_id.in_(chunk),
            )
            found.update({ext: mid for ext, mid in self.session.execute(query)})
        return found

    def existing_ids(self, program_id: int, member_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for chunk in _chunks(member_ids):
            query = select(MemberRow.id).where(
                MemberRow.program_id == program_id,
                MemberRow.erased_at.is_(None),
                MemberRow.id.in_(chunk),
            )
            found.update(self.session.scalars(query))
        return found

    def codes_of_member(self, member_id: int) -> list[str]:
        """The codes of the saved segments whose snapshot holds the member."""
        query = (
            select(SegmentRow.code)
            .join(SegmentMemberRow, SegmentMemberRow.segment_id == SegmentRow.id)
            .where(SegmentMemberRow.member_id == member_id)
            .order_by(SegmentRow.code)
        )
        return list(self.session.scalars(query))
