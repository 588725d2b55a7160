"""Outbox delivery against real receivers on loopback: an SMTP server (aiosmtpd), an
HTTP server for webhooks, and a `patronage worker` process killed with SIGKILL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.config import Settings
from patronage.errors import Conflict
from patronage.journeys.channels import Channels, HttpWebhooks, SmtpEmail
from patronage.services.delivery import DeliveryPolicy, deliver_due
from patronage.services.journeys import run_journeys
from patronage.services.outbox import add_subscriber, dead_letters, retry_message
from patronage.storage.db import make_engine
from patronage.storage.tables import metadata
from patronage.storage.uow import UnitOfWork


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd handler: keeps every message; ``delay`` makes it a slow receiver."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop: a slow receiver
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Receiver(BaseHTTPRequestHandler):
    statuses: list[int] = []
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[type[Receiver], str]]:
    handler = type("Hook", (Receiver,), {"statuses": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


POLICY = DeliveryPolicy(max_attempts=3, backoff_seconds=60, quiet_hours=None, secret_key="k")


def channels(port: int = 9) -> Channels:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, webhook_timeout_seconds=5)
    return Channels(members={"email": SmtpEmail(settings)}, webhooks=HttpWebhooks(5))


def test_email_reaches_a_real_smtp_server(
    engine: Engine, clock: FixedClock, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    shop = Shop(engine, clock)
    shop.member("e1", name="Li Lei", email="li@example.com", consents={"email": True})
    run_journeys(shop.uow(), "default", clock.now)
    assert deliver_due(engine, channels(port), POLICY, 10, clock) == Counter(sent=1)
    [(recipients, content)] = inbox.received
    assert recipients == ["li@example.com"]
    assert "Subject: Welcome to" in content and "/api/v1/unsubscribe/" in content
    assert deliver_due(engine, channels(port), POLICY, 10, clock) == Counter()


def test_unreachable_smtp_is_retried_with_backoff_then_dead(
    engine: Engine, clock: FixedClock
) -> None:
    shop = Shop(engine, clock)
    shop.member("e1", email="li@example.com", consents={"email": True})
    run_journeys(shop.uow(), "default", clock.now)
    port = free_port()  # nobody listens: certainly not delivered, safe to retry
    assert deliver_due(engine, channels(port), POLICY, 10, clock) == Counter(retry=1)
    assert deliver_due(engine, channels(port), POLICY, 10, clock) == Counter()  # backing off
    clock.advance(seconds=60)
    assert deliver_due(engine, channels(port), POLICY, 10, clock) == Counter(retry=1)
    clock.advance(seconds=120)
    assert deliver_due(engine, channels(port), POLICY, 10, clock) == Counter(dead=1)
    [dead] = dead_letters(shop.uow())
    assert dead.attempts == 3 and "SMTP connection failed" in (dead.last_error or "")


def purchase_with_subscriber(engine: Engine, clock: FixedClock, url: str) -> tuple[Shop, str]:
    shop = Shop(engine, clock)
    secret = add_subscriber(shop.uow(), "default", url, ["points.earned"]).secret
    assert secret is not None
    shop.buy(shop.member("w1"), "88.80", order_id="A-1")
    return shop, secret


def verify(headers: dict[str, str], body: bytes, secret: str) -> None:
    signed = headers["X-Patronage-Timestamp"].encode() + b"." + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Patronage-Signature"], expected)


def test_signed_webhook_retried_after_a_500(
    engine: Engine, clock: FixedClock, receiver: tuple[type[Receiver], str]
) -> None:
    hook, url = receiver
    hook.statuses = [500]
    _, secret = purchase_with_subscriber(engine, clock, url)
    assert deliver_due(engine, channels(), POLICY, 10, clock) == Counter(retry=1)
    clock.advance(seconds=60)
    assert deliver_due(engine, channels(), POLICY, 10, clock) == Counter(sent=1)
    assert len(hook.received) == 2
    for headers, body in hook.received:
        verify(headers, body, secret)
    first, second = (h["X-Patronage-Delivery"] for h, _ in hook.received)
    assert first == second  # the same delivery id: receivers can drop duplicates
    event = json.loads(hook.received[1][1])
    assert event["type"] == "points.earned" and event["data"]["points"] == 88
    assert event["data"]["order_id"] == "A-1"
    with pytest.raises(AssertionError):
        verify(hook.received[0][0], hook.received[0][1] + b" ", secret)


def test_webhook_dead_after_max_attempts_then_retried_by_hand(
    engine: Engine, clock: FixedClock, receiver: tuple[type[Receiver], str]
) -> None:
    hook, url = receiver
    hook.statuses = [500, 500, 500]
    shop, _ = purchase_with_subscriber(engine, clock, url)
    outcomes: Counter[str] = Counter()
    for _ in range(3):
        outcomes += deliver_due(engine, channels(), POLICY, 10, clock)
        clock.advance(hours=1)
    assert outcomes == Counter(retry=2, dead=1)
    [dead] = dead_letters(shop.uow())
    assert dead.last_error == f"HTTP 500 from {url}"
    retry_message(shop.uow(), dead.id)
    assert deliver_due(engine, channels(), POLICY, 10, clock) == Counter(sent=1)
    assert len(hook.received) == 4


def test_nothing_is_queued_for_a_rolled_back_change(
    engine: Engine, clock: FixedClock, receiver: tuple[type[Receiver], str]
) -> None:
    from patronage.services.events import EventRequest, record_event

    hook, url = receiver
    shop, _ = purchase_with_subscriber(engine, clock, url)
    member = shop.member("w2")
    duplicate = EventRequest(
        type="purchase",
        member_id=member.id,
        order_id="A-1",
        amount=Decimal("5"),
        occurred_at=clock.now,
    )
    with pytest.raises(Conflict):
        record_event(shop.uow(), duplicate)
    uow = shop.uow()
    with uow:
        assert uow.outbox.counts() == {"pending": 1}  # only the first purchase


def test_worker_killed_mid_batch_sends_no_journey_step_twice(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/crash.db"
    engine = make_engine(url)
    metadata.create_all(engine)
    now = datetime.now(UTC)
    shop = Shop(engine, FixedClock(now))
    for n in range(6):
        shop.member(f"c{n}", email=f"c{n}@example.com", consents={"email": True})
    run_journeys(shop.uow(), "default", now)  # six welcome messages
    engine.dispose()
    inbox, port = Inbox(delay=0.4), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        **os.environ,
        "PATRONAGE_SMTP_HOST": "127.0.0.1",
        "PATRONAGE_SMTP_PORT": str(port),
        "PATRONAGE_QUIET_HOURS": "",
        "PATRONAGE_MESSAGES_PER_WEEK": "0",
        "PATRONAGE_OUTBOX_LEASE_SECONDS": "1",
    }
    command = [str(Path(sys.executable).parent / "patronage"), "worker", "--db", url]
    try:
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(inbox.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        received_before = len(inbox.received)
        assert 2 <= received_before < 6  # killed mid-batch
        time.sleep(1.5)  # the dead worker's lease lapses
        subprocess.run(
            [*command, "--once"], env=env, check=True, timeout=120, stdout=subprocess.DEVNULL
        )
    finally:
        controller.stop()
    recipients = Counter(r for rcpts, _ in inbox.received for r in rcpts)
    assert max(recipients.values()) == 1  # nobody welcomed twice
    engine = make_engine(url)
    uow = UnitOfWork(engine)
    with uow:
        counts = uow.outbox.counts()
    engine.dispose()
    assert counts.get("sent", 0) + counts.get("in_doubt", 0) == 6
    assert counts.get("in_doubt", 0) <= 1
    assert len(recipients) >= counts.get("sent", 0)
