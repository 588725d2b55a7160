"""A live server (uvicorn on a loopback port) for the page tests, and a signed-in client;
for the browser tests, headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

One server serves the session; each test points it at its own database and clock.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.services.staff_users import create_staff_user
from patronage.storage.db import make_engine
from patronage.storage.tables import metadata

PASSWORDS = {"admin": "admin-password-1", "staff": "staff-password-1", "analyst": "analyst-pass-1"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def web_server(server: tuple[FastAPI, str]) -> tuple[FastAPI, str]:
    """The session's live server (tests/conftest.py), shared with the API tests."""
    return server


def element_text(page: str, element_id: str) -> str:
    """The text in a page's HTML of the element with ``element_id`` (up to the first
    closing tag), unescaped and stripped."""
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', page, re.S)
    assert match, f"no #{element_id}"
    return html.unescape(match.group(1).strip())


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


def _serve(web_server: tuple[FastAPI, str], engine: Engine, clock: FixedClock) -> Iterator[Site]:
    app, base = web_server
    app.state.engine, app.state.clock = engine, clock
    result = Site(base, engine, clock)
    yield result
    result.close()


@pytest.fixture
def site(web_server: tuple[FastAPI, str], engine: Engine, clock: FixedClock) -> Iterator[Site]:
    yield from _serve(web_server, engine, clock)


@pytest.fixture
def live(web_server: tuple[FastAPI, str], tmp_path: Path, clock: FixedClock) -> Iterator[Site]:
    """The live server on a fresh SQLite file: what the browser tests drive."""
    engine = make_engine(f"sqlite:///{tmp_path}/browser.db")
    metadata.create_all(engine)
    yield from _serve(web_server, engine, clock)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(tab: Page, name: str, *, full_page: bool = True) -> None:
    """Save what the tab shows as tests/web/screenshots/<name>.png."""
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@contextmanager
def browser_tab(browser: Browser, base: str, shot: str, **options: Any) -> Iterator[Page]:
    """A tab in a context of its own (Playwright's new_context options); on leaving, a
    screenshot named `shot`, and the console and the page must have shown no errors."""
    context = browser.new_context(base_url=base, **options)
    errors: list[str] = []
    try:
        tab = context.new_page()
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
        screenshot(tab, shot)
    finally:
        context.close()
    assert errors == []


@pytest.fixture
def page(browser: Browser, live: Site, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A tab on the live server in English, screenshot named after the test."""
    with browser_tab(browser, live.base, request.node.name, locale="en-US") as tab:
        yield tab


def sign_in(tab: Page, username: str, password: str | None = None) -> None:
    """Fill in and send the sign-in form. With the user's own password (the default),
    wait until the dashboard, where a signed-in user lands, has loaded."""
    tab.goto("/login")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(password or PASSWORDS[username])
    tab.get_by_role("button", name="Sign in").click()
    if password is None:
        tab.wait_for_url("**/dashboard")
