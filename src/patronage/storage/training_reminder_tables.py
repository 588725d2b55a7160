"""Training reminders already raised, on the shared metadata of ``storage.tables``.

One row per (kind, enrollment): the reminders job inserts with ON CONFLICT DO
NOTHING, so a rerun, a late run or two servers at once remind nobody twice. For
``renewal_due`` and ``expired`` the enrollment is the one that earned the certificate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base, BigId


class TrainingReminderRow(Base):
    __tablename__ = "training_reminders"
    __table_args__ = (UniqueConstraint("kind", "enrollment_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # due_soon, overdue, renewal_due, expired
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"))
    staff_row_id: Mapped[int] = mapped_column(ForeignKey("training_staff.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    due_at: Mapped[datetime]  # the enrollment's due date, or the certificate's expiry
    created_at: Mapped[datetime]
