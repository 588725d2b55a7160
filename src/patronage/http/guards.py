"""Guards in front of every request: body size, and repeated failed authentication."""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patronage.http.errors import error_body

MAX_BODY_BYTES = 1_000_000


class FailedLogins:
    """Counts failed authentications per client address in a sliding window."""

    def __init__(self, limit: int = 20, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.limit

    def record(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())


class BodyLimit:
    """ASGI middleware: refuse bodies over the limit (413), declared or streamed, and
    NUL characters anywhere in the request (422: PostgreSQL text cannot hold them)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("raw_path", b"") or b"%00" in scope.get("query_string", b""):
            await self._refuse(scope, receive, send, 422, "text may not contain NUL characters")
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
        if b"\\u0000" in body or b"\x00" in body:
            await self._refuse(scope, receive, send, 422, "text may not contain NUL characters")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int = 413, message: str = ""
    ) -> None:
        code = "body_too_large" if status == 413 else "invalid_input"
        message = message or f"request bodies are limited to {self.limit} bytes"
        await JSONResponse(error_body(code, message), status)(scope, receive, send)


class FailedAuthGuard:
    """ASGI middleware: a client with too many failed authentications (401s) in the
    window gets 429 until the window has passed (the app's ``state.failed_logins``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        failed_logins: FailedLogins = scope["app"].state.failed_logins
        client = scope["client"][0] if scope.get("client") else "unknown"
        if failed_logins.blocked(client):
            message = "too many failed authentications; wait a minute"
            headers = {"Retry-After": str(int(failed_logins.window))}
            response = JSONResponse(error_body("too_many_failed_attempts", message), 429, headers)
            await response(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                failed_logins.record(client)
            await send(message)

        await self.app(scope, receive, watch)


def install(app: FastAPI, failed_logins: FailedLogins) -> None:
    app.state.failed_logins = failed_logins
    app.add_middleware(BodyLimit)
    app.add_middleware(FailedAuthGuard)
