"""The unsubscribe link in every journey message: public, the signed token is the key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from patronage.http.deps import Uow
from patronage.services.outbox import unsubscribe

router = APIRouter(tags=["messages"])


class UnsubscribedOut(BaseModel):
    channel: str
    subscribed: bool


@router.get("/unsubscribe/{token}", response_model=UnsubscribedOut)
def unsubscribe_link(
    token: Annotated[str, Path(min_length=5, max_length=80)], uow: Uow
) -> UnsubscribedOut:
    """Withdraw the consent for the channel the message came by (no login needed;
    opening the link again changes nothing)."""
    _, channel = unsubscribe(uow, token)
    return UnsubscribedOut(channel=channel, subscribed=False)
