"""Training reminders, raised by a job: enrollments due soon or overdue, and
certificates due for renewal or expired.

`patronage jobs run training-reminders` (and the server's scheduler, every few
minutes) records each reminder once per (kind, enrollment) and, in the same
transaction, queues a signed ``training.reminder`` webhook for every subscriber that
wants it, so a chat bot, an HR system or a mail relay can tell the staff member and
their manager. Running it again, late, or on two servers at once reminds nobody
twice. Inactive staff are not reminded; nor is a certificate holder who has already
enrolled again to re-certify.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from patronage.clock import require_aware
from patronage.domain.training import Certificate, CertificateStatus, enrollment_reminder
from patronage.services.webhook_events import emit
from patronage.storage.training_tables import CertificateRow, EnrollmentRow
from patronage.storage.uow import UnitOfWork

DUE_SOON_DAYS = 7  # an enrollment's first reminder comes this many days before its due date


@dataclass(frozen=True)
class Reminder:
    kind: str  # due_soon, overdue, renewal_due, expired
    enrollment_id: int
    staff_row_id: int
    course_id: int
    due_at: datetime  # the enrollment's due date, or the certificate's expiry


def reminders_due(uow: UnitOfWork, as_of: datetime) -> list[Reminder]:
    """Every reminder due at ``as_of`` (inside an open unit of work), sent or not."""
    soon = uow.training.open_enrollments_due_by(as_of + timedelta(days=DUE_SOON_DAYS))
    reminders = [r for r in (_for_enrollment(e, as_of) for e in soon) if r is not None]
    for row in uow.training.latest_certificates_due(as_of):
        again = uow.training.enrollments(row.staff_row_id, row.course_id)
        if not any(e.completed_at is None for e in again):
            reminders.append(_for_certificate(row, as_of))
    active = {
        s.id
        for s in uow.training.staff_by_row_ids([r.staff_row_id for r in reminders]).values()
        if s.active
    }
    return [r for r in reminders if r.staff_row_id in active]


def _for_enrollment(row: EnrollmentRow, as_of: datetime) -> Reminder | None:
    kind = enrollment_reminder(row.due_at, row.completed_at, as_of, DUE_SOON_DAYS)
    if kind is None or row.due_at is None:
        return None
    return Reminder(kind, row.id, row.staff_row_id, row.course_id, row.due_at)


def _for_certificate(row: CertificateRow, as_of: datetime) -> Reminder:
    status = Certificate("", "", row.issued_at, row.expires_at, row.remind_at).status(as_of)
    kind = "expired" if status == CertificateStatus.EXPIRED else "renewal_due"
    return Reminder(kind, row.enrollment_id, row.staff_row_id, row.course_id, row.expires_at)


def send_training_reminders(uow: UnitOfWork, as_of: datetime) -> Counter[str]:
    """Record and announce the reminders due at ``as_of`` that were not sent before;
    counts by kind (and ``already_sent``). One transaction."""
    require_aware(as_of, "as_of")
    counts: Counter[str] = Counter()
    with uow:
        programs = [uow.programs.get(code).id for code in uow.programs.codes()]
        for reminder in reminders_due(uow, as_of):
            if not uow.training.remind_once(
                kind=reminder.kind,
                enrollment_id=reminder.enrollment_id,
                staff_row_id=reminder.staff_row_id,
                course_id=reminder.course_id,
                due_at=reminder.due_at,
                created_at=uow.clock(),
            ):
                counts["already_sent"] += 1
                continue
            counts[reminder.kind] += 1
            event = _event(uow, reminder)
            for program_id in programs:
                emit(uow, program_id, "training.reminder", None, event)
        uow.commit()
    return counts


def _event(uow: UnitOfWork, reminder: Reminder) -> dict[str, Any]:
    staff = uow.training.staff_by_row_ids([reminder.staff_row_id])[reminder.staff_row_id]
    course = uow.training.course_row(reminder.course_id)
    return {
        "kind": reminder.kind,
        "staff_id": staff.staff_id,
        "name": staff.name,
        "store": staff.store,
        "course_id": course.id,
        "course": course.code,
        "course_title": course.title,
        "enrollment_id": reminder.enrollment_id,
        "due_at": reminder.due_at.isoformat(),
    }
