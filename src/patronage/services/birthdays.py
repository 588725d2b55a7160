"""Birthday bonus points: in the birthday month (or on the day), once a year, for
members who agreed to hear from the program on at least one channel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from patronage.config import get_settings
from patronage.errors import InvalidInput
from patronage.services.postings import credit
from patronage.storage.uow import UnitOfWork


def award_birthday_points(uow: UnitOfWork, program_code: str, as_of: datetime) -> int:
    """Award the bonus to every member whose birthday falls in the window at ``as_of``
    (program time zone) and who has no bonus for that year yet. Safe to repeat."""
    settings = get_settings()
    if settings.birthday_window not in ("month", "day"):
        raise InvalidInput(
            "PATRONAGE_BIRTHDAY_WINDOW must be month or day", field="birthday_window"
        )
    if settings.birthday_points <= 0:
        return 0
    with uow:
        program = uow.programs.get(program_code)
        local = as_of.astimezone(ZoneInfo(program.timezone)).date()
        day = local.day if settings.birthday_window == "day" else None
        candidates = uow.engagement.birthday_members(program.id or 0, local.month, day, local.year)
    awarded = 0
    for member_id in candidates:
        with uow:
            uow.members.lock([member_id])
            member = uow.members.get(member_id)
            if not any(member.consents.values()) or uow.engagement.has_birthday_reward(
                member_id, local.year
            ):
                continue
            posting = credit(
                uow,
                program,
                member,
                "earn",
                settings.birthday_points,
                as_of,
                reason=f"birthday bonus {local.year}",
                details={"birthday": local.year},
            )
            uow.engagement.record_birthday(member_id, local.year, posting.entry_id, uow.clock())
            uow.commit()
            awarded += 1
    return awarded
