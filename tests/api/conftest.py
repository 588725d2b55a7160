"""A real HTTP server (uvicorn on a loopback port) for the API tests.

One server serves the whole session; each test points it at its own database
and clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from patronage.clock import FixedClock
from patronage.http.guards import FailedLogins
from patronage.services.access import create_api_key
from patronage.services.programs import ensure_default_program
from patronage.storage.uow import UnitOfWork


class Api:
    """An HTTP client with a key per role, on a fresh database."""

    def __init__(self, base: str, engine: Engine, clock: FixedClock) -> None:
        self.base = base
        self.engine = engine
        self.clock = clock
        self.http = httpx.Client(base_url=base + "/api/v1", timeout=30)
        self.server_app: FastAPI | None = None
        self.keys = {
            role: create_api_key(UnitOfWork(engine, clock), role)
            for role in ("admin", "staff", "analyst")
        }

    def member_key(self, member_id: int) -> str:
        return create_api_key(UnitOfWork(self.engine, self.clock), "member", member_id)

    def request(
        self,
        method: str,
        path: str,
        role: str | None = "admin",
        key: str | None = None,
        **kwargs: object,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        token = key or (self.keys[role] if role else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]

    def member(self, external_id: str = "m1", **body: object) -> dict[str, object]:
        response = self.request("POST", "/members", json={"external_id": external_id, **body})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def buy(self, member_id: object, order_id: str, amount: str, **body: object) -> httpx.Response:
        return self.request(
            "POST",
            "/events",
            json={
                "type": "purchase",
                "member_id": member_id,
                "order_id": order_id,
                "amount": amount,
                "occurred_at": self.clock().isoformat(),
                **body,
            },
        )


@pytest.fixture
def api(server: tuple[FastAPI, str], engine: Engine, clock: FixedClock) -> Iterator[Api]:
    app, base = server
    ensure_default_program(UnitOfWork(engine, clock))
    app.state.engine, app.state.clock = engine, clock
    app.state.failed_logins = FailedLogins()
    client = Api(base, engine, clock)
    client.server_app = app
    yield client
    client.http.close()
