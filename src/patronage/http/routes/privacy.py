"""Consents, data export and erasure of one member; the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from patronage.http.deps import AdminOnly, AnyRole, MemberPath, Uow
from patronage.http.schemas import AuditOut, ConsentsIn, ErasureIn
from patronage.services import privacy

router = APIRouter(tags=["privacy"])


@router.put("/members/{member_id}/consents")
def put_consents(
    member_id: MemberPath, body: ConsentsIn, uow: Uow, principal: AnyRole
) -> dict[str, bool]:
    principal.require("admin", "staff", "member")
    principal.may_see_member(member_id)
    return privacy.change_consents(uow, member_id, body.consents, principal.label)


@router.get("/members/{member_id}/export")
def export(member_id: MemberPath, uow: Uow, principal: AnyRole) -> dict[str, Any]:
    principal.require("admin", "member")
    principal.may_see_member(member_id)
    return privacy.export_member(uow, member_id)


@router.post("/members/{member_id}/erasure", status_code=204)
def erase(member_id: MemberPath, body: ErasureIn, uow: Uow, principal: AdminOnly) -> None:
    privacy.erase_member(uow, member_id, principal.label, body.reason)


@router.get("/audit", response_model=list[AuditOut])
def audit(
    uow: Uow,
    _: AdminOnly,
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    return [AuditOut(**row) for row in privacy.audit_trail(uow, target_type, target_id, limit)]
