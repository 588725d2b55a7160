"""Purchases, refunds and custom events."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from patronage.http.deps import IdempotencyKey, StaffOrAdmin, Uow
from patronage.http.schemas import EventIn, EventOut
from patronage.services.events import EventRequest, record_event

router = APIRouter(tags=["events"])


@router.post("/events", status_code=201, response_model=EventOut)
def post_event(body: EventIn, uow: Uow, _: StaffOrAdmin, key: IdempotencyKey = None) -> EventOut:
    data = body.model_dump()
    if data["items"] is not None:
        data["items"] = [
            {
                k: (str(v) if v is not None and k in ("quantity", "price") else v)
                for k, v in i.items()
            }
            for i in data["items"]
        ]
    result = record_event(uow, EventRequest(**data), key)
    return EventOut(**asdict(result))
