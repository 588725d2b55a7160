"""Members of a program and the checks on their personal data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from patronage.errors import InvalidInput

CONSENT_CHANNELS = ("email", "sms", "phone", "post", "wechat", "app")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")


@dataclass(frozen=True)
class Member:
    id: int
    program_id: int
    external_id: str
    joined_at: datetime
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    birthday: date | None = None
    consents: dict[str, bool] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    tier_code: str | None = None
    tier_since: datetime | None = None
    tier_override_until: datetime | None = None
    debt: int = 0
    erased_at: datetime | None = None


def check_contact(phone: str | None, email: str | None) -> None:
    if email is not None and not _EMAIL.match(email):
        raise InvalidInput("email is not a valid address", field="email")
    if phone is not None and not _PHONE.match(phone):
        raise InvalidInput("phone must be digits, optionally with a leading +", field="phone")


def check_consents(consents: dict[str, bool]) -> None:
    for channel in consents:
        if channel not in CONSENT_CHANNELS:
            raise InvalidInput(
                f"unknown consent channel {channel!r}; "
                f"expected one of {', '.join(CONSENT_CHANNELS)}",
                field=f"consents.{channel}",
            )
