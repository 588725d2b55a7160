"""Dependencies shared by the routes: the unit of work and the calling principal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy import Engine

from patronage.services.access import Principal, authenticate
from patronage.storage.reference import read_token
from patronage.storage.uow import UnitOfWork


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_uow(request: Request) -> UnitOfWork:
    """The request's unit of work; the API key check, when the route has one, hands it
    the reference token it read (storage/reference.py), sparing it a round trip."""
    uow = UnitOfWork(
        request.app.state.engine,
        request.app.state.clock,
        reference_token=getattr(request.state, "reference_token", None),
    )
    request.state.uow = uow
    return uow


async def current_principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    """Runs on the event loop, as do the short reads of one member's points: one
    autocommit read of the reference token, which never waits for a lock on either
    database, costs less than the hop to a worker thread and back (ADR 0009)."""
    key = None
    if authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    engine = request.app.state.engine
    # one round trip when the key is cached (storage/reference.py)
    request.state.reference_token = read_token(engine)
    pending = getattr(request.state, "uow", None)
    if pending is not None:  # made before this check (dependencies run in order)
        pending.reference_token = request.state.reference_token
    uow = UnitOfWork(
        engine,
        request.app.state.clock,
        read_only=True,
        reference_token=request.state.reference_token,
    )
    principal = authenticate(uow, key)
    request.state.principal = principal
    return principal


async def get_read_uow(
    request: Request, _: Annotated[Principal, Depends(current_principal)]
) -> UnitOfWork:
    """For handlers that only read (storage.db.reader), given the reference token the
    API key check has just read (so it is checked first)."""
    return UnitOfWork(
        request.app.state.engine,
        request.app.state.clock,
        read_only=True,
        reference_token=request.state.reference_token,
    )


def require_role(*roles: str) -> Callable[..., Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        principal.require(*roles)
        return principal

    return dependency


Uow = Annotated[UnitOfWork, Depends(get_uow)]
ReadUow = Annotated[UnitOfWork, Depends(get_read_uow)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=300, description="Retry-safe key for this write."),
]
AnyRole = Annotated[Principal, Depends(require_role("admin", "staff", "analyst", "member"))]
StaffOrAdmin = Annotated[Principal, Depends(require_role("admin", "staff"))]
AdminOnly = Annotated[Principal, Depends(require_role("admin"))]

# Ids in paths: bounded so no number can overflow a database integer.
MemberPath = Annotated[int, Path(ge=1, le=2**62, description="Member id.")]
