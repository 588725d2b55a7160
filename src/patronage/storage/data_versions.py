"""Fingerprints of the rows heavy analytics read (read-only, SQLite and PostgreSQL).

A fingerprint is the largest id and the number of rows of each table read: a new row
raises both, a deleted one lowers the count. Kept results (``analytics_results``)
belong to one fingerprint; another one means the result must be computed again.
Each is a couple of index lookups and one count, cheap next to the analytics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from patronage.storage.tables import ComplaintRow, EventRow, SurveyResponseRow
from patronage.storage.training_tables import EnrollmentRow


@dataclass(frozen=True)
class DataVersion:
    text: str  # stored with a kept result
    events: int  # how many events the analytics read: their size


def _mark(session: Session, name: str, table: Any, *where: ColumnElement[bool]) -> str:
    latest, count = session.execute(
        select(func.max(table.id), func.count(table.id)).where(*where)
    ).one()
    return f"{name}:{latest or 0}:{count}"


def _events(mark: str) -> int:
    return int(mark.rsplit(":", 1)[1])


def events_version(session: Session, program_id: int) -> DataVersion:
    """The program's events (purchases and refunds are what the dashboard's heavy
    panels read)."""
    mark = _mark(session, "events", EventRow, EventRow.program_id == program_id)
    return DataVersion(mark, _events(mark))


def training_version(session: Session) -> DataVersion:
    """What the training impact report reads: every purchase (with the staff member who
    served it), survey responses, complaints, and completed enrollments (completions
    are updates, so the latest completion time is part of it)."""
    events = _mark(session, "events", EventRow)
    completed = EnrollmentRow.completed_at.is_not(None)
    latest = session.scalar(select(func.max(EnrollmentRow.completed_at)).where(completed))
    marks = [
        events,
        _mark(session, "responses", SurveyResponseRow),
        _mark(session, "complaints", ComplaintRow),
        _mark(session, "completed", EnrollmentRow, completed),
        f"last:{latest.isoformat() if latest else '-'}",
    ]
    return DataVersion(" ".join(marks), _events(events))
