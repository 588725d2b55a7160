"""Personal data under PIPL and GDPR: consents with history, export, erasure, retention.

Erasure removes or irreversibly replaces personal fields (name, phone, e-mail,
birthday, attributes, consents, the external id) and keeps amounts, points and dates,
so ledger totals, `patronage check` and analytics stay consistent.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from patronage.config import get_settings
from patronage.domain.members import check_consents
from patronage.errors import InvalidInput, RuleViolation
from patronage.storage.uow import UnitOfWork


def change_consents(
    uow: UnitOfWork, member_id: int, changes: dict[str, bool], source: str
) -> dict[str, bool]:
    """Grant or withdraw consent per channel; every change is kept in the history."""
    check_consents(changes)
    if not changes:
        raise InvalidInput("give at least one channel", field="consents")
    with uow:
        uow.members.lock([member_id])
        member = uow.members.get(member_id)
        if member.erased_at is not None:
            raise RuleViolation("the member's personal data was erased", code="member_erased")
        now = uow.clock()
        consents = {**member.consents, **changes}
        for channel, granted in changes.items():
            if member.consents.get(channel) != granted:
                uow.privacy.record_consent(member_id, channel, granted, now, source)
        uow.privacy.set_consents(member_id, consents)
        uow.audit.add(
            at=now,
            actor=source,
            action="consents_changed",
            target_type="member",
            target_id=str(member_id),
            before={"consents": member.consents},
            after={"consents": consents},
            reason=None,
        )
        uow.commit()
        return consents


def export_member(uow: UnitOfWork, member_id: int) -> dict[str, Any]:
    """All personal data and history of one member, JSON-ready."""
    with uow:
        uow.members.get(member_id)
        data = uow.privacy.export(member_id)
    return json.loads(json.dumps(data, default=str))  # type: ignore[no-any-return]


def pseudonym(member_id: int, external_id: str) -> str:
    """A keyed hash: irreversible without the secret, unique per member row."""
    digest = hashlib.sha256(f"{get_settings().secret_key}:{member_id}:{external_id}".encode())
    return f"erased-{digest.hexdigest()[:20]}"


def erase_member(uow: UnitOfWork, member_id: int, actor: str, reason: str) -> None:
    """Erase one member's personal data (idempotent)."""
    if not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    with uow:
        uow.members.lock([member_id])
        _erase(uow, member_id, actor, reason)
        uow.commit()


def _erase(uow: UnitOfWork, member_id: int, actor: str, reason: str) -> None:
    member = uow.members.get(member_id)
    if member.erased_at is not None:
        return
    now = uow.clock()
    uow.privacy.erase(member_id, pseudonym(member.id, member.external_id), now)
    uow.audit.add(
        at=now,
        actor=actor,
        action="member_erased",
        target_type="member",
        target_id=str(member_id),
        before=None,
        after=None,
        reason=reason,
    )


def apply_retention(uow: UnitOfWork, program_code: str, as_of: datetime, days: int) -> int:
    """Erase members with no activity for ``days`` days; 0 keeps everyone."""
    if days <= 0:
        return 0
    erased = 0
    while True:
        with uow:
            program = uow.programs.get(program_code)
            ids = uow.privacy.inactive_members(program.id or 0, as_of - timedelta(days=days), 200)
            if not ids:
                return erased
            uow.members.lock(ids)
            for member_id in ids:
                _erase(uow, member_id, "retention", f"no activity for {days} days")
            uow.commit()
            erased += len(ids)


def audit_trail(
    uow: UnitOfWork, target_type: str | None, target_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Manual and administrative changes, newest first."""
    with uow:
        return [
            {
                c: getattr(row, c)
                for c in (
                    "id",
                    "at",
                    "actor",
                    "action",
                    "target_type",
                    "target_id",
                    "before",
                    "after",
                    "reason",
                )
            }
            for row in uow.audit.list(target_type, target_id, limit)
        ]
