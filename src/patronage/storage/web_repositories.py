"""Staff users, sign-in attempts and portal codes for the web app."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from patronage.storage.tables import EventRow, PortalCodeRow, SignInAttemptRow, StaffUserRow


class StaffUserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, username: str, password_hash: str, role: str, now: datetime) -> StaffUserRow:
        row = StaffUserRow(
            username=username, password_hash=password_hash, role=role, created_at=now
        )
        self.session.add(row)
        self.session.flush()
        return row

    def by_username(self, username: str) -> StaffUserRow | None:
        return self.session.scalars(
            select(StaffUserRow).where(StaffUserRow.username == username)
        ).first()

    def get(self, user_id: int) -> StaffUserRow | None:
        return self.session.get(StaffUserRow, user_id)

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.session.execute(
            update(StaffUserRow)
            .where(StaffUserRow.id == user_id)
            .values(password_hash=password_hash, disabled_at=None)
        )

    def signed_in(self, user_id: int, at: datetime) -> None:
        self.session.execute(
            update(StaffUserRow).where(StaffUserRow.id == user_id).values(last_sign_in_at=at)
        )


class SignInAttemptRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, who: str, at: datetime, succeeded: bool) -> None:
        self.session.add(SignInAttemptRow(who=who, at=at, succeeded=succeeded))
        self.session.flush()

    def failures_since(self, who: str, since: datetime) -> tuple[int, datetime | None]:
        """Failed attempts after ``since`` and after the last success; and the latest one."""
        last_success = self.session.scalar(
            select(func.max(SignInAttemptRow.at)).where(
                SignInAttemptRow.who == who, SignInAttemptRow.succeeded.is_(True)
            )
        )
        start = max(since, last_success) if last_success is not None else since
        count, latest = self.session.execute(
            select(func.count(), func.max(SignInAttemptRow.at)).where(
                SignInAttemptRow.who == who,
                SignInAttemptRow.succeeded.is_(False),
                SignInAttemptRow.at > start,
            )
        ).one()
        return int(count), latest


class PortalCodeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, member_id: int, code_hash: str, now: datetime, expires_at: datetime) -> None:
        self.session.add(
            PortalCodeRow(
                member_id=member_id, code_hash=code_hash, created_at=now, expires_at=expires_at
            )
        )
        self.session.flush()

    def usable(self, member_id: int, code_hash: str, now: datetime) -> PortalCodeRow | None:
        return self.session.scalars(
            select(PortalCodeRow)
            .where(
                PortalCodeRow.member_id == member_id,
                PortalCodeRow.code_hash == code_hash,
                PortalCodeRow.used_at.is_(None),
                PortalCodeRow.expires_at > now,
            )
            .with_for_update()
        ).first()

    def use(self, code_id: int, at: datetime) -> bool:
        """Mark a code used; False when another request used it first."""
        result = self.session.execute(
            update(PortalCodeRow)
            .where(PortalCodeRow.id == code_id, PortalCodeRow.used_at.is_(None))
            .values(used_at=at)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def recent_events(session: Session, member_id: int, limit: int) -> list[EventRow]:
    """A member's latest events (purchases, refunds, custom), newest first."""
    return list(
        session.scalars(
            select(EventRow)
            .where(EventRow.member_id == member_id)
            .order_by(EventRow.occurred_at.desc(), EventRow.id.desc())
            .limit(limit)
        )
    )
