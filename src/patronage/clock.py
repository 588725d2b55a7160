"""The injectable clock. Every 'now' in the platform comes from here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from patronage.errors import InvalidInput

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class FixedClock:
    """A clock for tests and replays: returns a set instant until moved."""

    def __init__(self, now: datetime) -> None:
        self.now = require_aware(now, "now")

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)


def require_aware(value: datetime, field: str) -> datetime:
    """Reject naive datetimes: a time without a zone is ambiguous."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInput(f"{field} must carry a time zone offset", field=field)
    return value
