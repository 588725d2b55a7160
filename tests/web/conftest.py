"""A live server (uvicorn on a loopback port) for the page tests, and a signed-in client.

One server serves the session; each test points it at its own database and clock.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.http.app import create_app
from patronage.services.staff_users import create_staff_user
from patronage.storage.db import make_engine

PASSWORDS = {"admin": "admin-password-1", "staff": "staff-password-1", "analyst": "analyst-pass-1"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def web_server() -> Iterator[tuple[FastAPI, str]]:
    app = create_app(make_engine("sqlite:///:memory:"))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield app, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=5)


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
