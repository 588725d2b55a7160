"""Purchases, refunds and custom events.

Recording an event runs on the event loop (``async def``): a few short statements,
cheaper than a hop to a worker thread and back, and not starved of the GIL by the
reads that also run there (ADR 0009)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from patronage.http.deps import IdempotencyKey, StaffOrAdmin, Uow
from patronage.http.schemas import EventIn, EventOut
from patronage.services.events import EventRequest, record_event

router = APIRouter(tags=["events"])


@router.post("/events", status_code=201, response_model=EventOut)
async def post_event(
    body: EventIn, uow: Uow, _: StaffOrAdmin, key: IdempotencyKey = None
) -> EventOut:
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
