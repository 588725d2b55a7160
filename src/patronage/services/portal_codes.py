"""One-time codes members sign in to the portal with (shown by staff or the CLI for now;
a hook to send them by SMS or e-mail can come later)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from patronage.domain.members import Member
from patronage.errors import Unauthorized
from patronage.services.staff_users import refuse_if_locked
from patronage.storage.uow import UnitOfWork

CODE_LIFETIME = timedelta(minutes=10)


def _hash(member_id: int, code: str) -> str:
    return hashlib.sha256(f"{member_id}:{code}".encode()).hexdigest()


def issue_portal_code(uow: UnitOfWork, member_id: int) -> str:
    """A new six-digit code for the member, valid ten minutes, usable once."""
    code = f"{secrets.randbelow(10**6):06d}"
    with uow:
        uow.members.get(member_id)
        now = uow.clock()
        uow.portal_codes.add(member_id, _hash(member_id, code), now, now + CODE_LIFETIME)
        uow.commit()
    return code


def _find_member(uow: UnitOfWork, program_id: int, identifier: str) -> Member | None:
    found = uow.members.by_external_id(program_id, identifier)
    if found is None and any(ch.isdigit() for ch in identifier):
        matches = uow.members.find(program_id, phone=identifier)
        found = matches[0] if len(matches) == 1 else None
    return found


def sign_in_with_code(uow: UnitOfWork, identifier: str, code: str, program: str = "default") -> int:
    """The member id when the code is theirs, unused and unexpired. Five failures lock
    the member's portal sign-in for 15 minutes."""
    identifier, code = identifier.strip(), code.strip()
    with uow:
        now = uow.clock()
        prog = uow.programs.get(program)
        member = _find_member(uow, prog.id or 0, identifier) if identifier else None
        who = f"member:{member.id if member else identifier[:120]}"
        refuse_if_locked(uow, who, now)
        row = uow.portal_codes.usable(member.id, _hash(member.id, code), now) if member else None
        ok = row is not None and uow.portal_codes.use(row.id, now)
        uow.sign_in_attempts.add(who, now, ok)
        uow.commit()
        if not ok or member is None:
            raise Unauthorized("the code is wrong or has expired", code="bad_code")
        return member.id
