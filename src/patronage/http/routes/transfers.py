"""Moving points between members."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from patronage.http.deps import AnyRole, IdempotencyKey, Uow
from patronage.http.schemas import PointsOut, TransferIn
from patronage.services.points import transfer_points

router = APIRouter(tags=["points"])


@router.post("/transfers", status_code=201, response_model=PointsOut)
def transfer(
    body: TransferIn, uow: Uow, principal: AnyRole, key: IdempotencyKey = None
) -> PointsOut:
    principal.require("admin", "staff", "member")
    principal.may_see_member(body.from_member_id)
    result = transfer_points(
        uow, body.from_member_id, body.to_member_id, body.points, principal.label, key
    )
    return PointsOut(**asdict(result))
