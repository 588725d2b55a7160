"""Enrolling and looking up members."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from patronage.clock import require_aware
from patronage.domain.members import Member, check_consents, check_contact
from patronage.domain.program import Program
from patronage.errors import Conflict, InvalidInput, NotFound
from patronage.services.idempotency import run_once
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class NewMember:
    external_id: str
    program: str = "default"
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    birthday: date | None = None
    joined_at: datetime | None = None
    consents: dict[str, bool] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


def add_member(
    uow: UnitOfWork, program: Program, external_id: str, joined_at: datetime, **profile: Any
) -> Member:
    """Insert a member on the program's base tier, inside the caller's transaction."""
    if not external_id or len(external_id) > 128:
        raise InvalidInput("external_id is required (at most 128 characters)", field="external_id")
    if uow.members.by_external_id(program.id or 0, external_id) is not None:
        raise Conflict(
            f"a member with external id {external_id!r} exists",
            code="duplicate_member",
            external_id=external_id,
        )
    base = program.base_tier()
    member = Member(
        id=0, program_id=program.id or 0, external_id=external_id, joined_at=joined_at, **profile
    )
    added = uow.members.add(member, base.id or 0, uow.clock())
    for channel, granted in added.consents.items():
        uow.privacy.record_consent(added.id, channel, granted, joined_at, "enrolment")
    return added


def enroll_member(
    uow: UnitOfWork, request: NewMember, idempotency_key: str | None = None
) -> Member:
    check_contact(request.phone, request.email)
    check_consents(request.consents)
    if request.joined_at is not None:
        require_aware(request.joined_at, "joined_at")

    def operation(u: UnitOfWork) -> Member:
        program = u.programs.get(request.program)
        profile = {
            k: v
            for k, v in asdict(request).items()
            if k not in ("external_id", "program", "joined_at")
        }
        return add_member(
            u, program, request.external_id, request.joined_at or u.clock(), **profile
        )

    return run_once(
        uow,
        f"{request.program}:members",
        idempotency_key,
        asdict(request),
        operation,
        _decode_member,
    )


def _decode_member(data: dict[str, Any]) -> Member:
    for name in ("joined_at", "tier_since", "tier_override_until", "erased_at"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    if data.get("birthday"):
        data["birthday"] = date.fromisoformat(data["birthday"])
    return Member(**data)


def get_member(uow: UnitOfWork, member_id: int) -> Member:
    with uow:
        return uow.members.get(member_id)


def find_member(uow: UnitOfWork, program: str, external_id: str) -> Member:
    with uow:
        prog = uow.programs.get(program)
        member = uow.members.by_external_id(prog.id or 0, external_id)
        if member is None:
            raise NotFound(f"no member with external id {external_id!r}", external_id=external_id)
        return member


def search_members(
    uow: UnitOfWork, program: str, phone: str | None = None, email: str | None = None
) -> list[Member]:
    with uow:
        prog = uow.programs.get(program)
        return uow.members.find(prog.id or 0, phone=phone, email=email)
