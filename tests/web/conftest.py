"""A live server (uvicorn on a loopback port) for the page tests, and a signed-in client.

One server serves the session; each test points it at its own database and clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.services.staff_users import create_staff_user

PASSWORDS = {"admin": "admin-password-1", "staff": "staff-password-1", "analyst": "analyst-pass-1"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def web_server(server: tuple[FastAPI, str]) -> tuple[FastAPI, str]:
    """The session's live server (tests/conftest.py), shared with the API tests."""
    return server


class Site:
    """The shop's database behind the live server, with one user per staff role."""

    def __init__(self, base: str, engine: Engine, clock: FixedClock) -> None:
        self.base = base
        self.shop = Shop(engine, clock)
        for role, password in PASSWORDS.items():
            create_staff_user(self.shop.uow(), role, password, role)
        self.clients: list[httpx.Client] = []

    def client(self, **headers: str) -> httpx.Client:
        client = httpx.Client(base_url=self.base, timeout=30, headers=headers)
        self.clients.append(client)
        return client

    @staticmethod
    def csrf(client: httpx.Client, path: str) -> str:
        match = CSRF.search(client.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, role: str = "admin", **headers: str) -> httpx.Client:
        client = self.client(**headers)
        token = self.csrf(client, "/login")
        response = client.post(
            "/login",
            data={"username": role, "password": PASSWORDS[role], "csrf_token": token},
        )
        assert response.status_code == 303, response.text
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()


@pytest.fixture
def site(web_server: tuple[FastAPI, str], engine: Engine, clock: FixedClock) -> Iterator[Site]:
    app, base = web_server
    app.state.engine, app.state.clock = engine, clock
    result = Site(base, engine, clock)
    yield result
    result.close()
