"""SIGKILL at random points, restart: the same totals as an uninterrupted run.

Real `patronage` processes on SQLite and PostgreSQL, killed with SIGKILL once they
have done some work, then run again:
- the import and the expiry job finish with exactly the totals of a run never
  interrupted;
- the journeys job (`jobs run journeys`), killed three times, leaves the same outbox
  as an uninterrupted run on a restored copy of the same data: no step lost or twice;
- the outbox worker, killed while a real SMTP server and a real webhook receiver are
  answering, delivers every webhook at least once and records it sent once, and never
  mails a member twice (journey steps are at most once: docs/adr/0006).
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Row, select, text
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.services.complaints import NewComplaint, file_complaint
from patronage.services.imports import import_members, import_transactions
from patronage.services.journeys import run_journeys
from patronage.services.outbox import add_subscriber
from patronage.services.programs import ensure_default_program
from patronage.services.survey_responses import record_staff_response
from patronage.services.surveys import define_survey
from patronage.storage.backup import backup, restore
from patronage.storage.db import make_engine
from patronage.storage.tables import MemberRow, OutboxRow
from patronage.storage.uow import UnitOfWork

PATRONAGE = str(Path(sys.executable).parent / "patronage")
ROWS = 600
TRANSACTION_HEADER = (
    "member_external_id",
    "order_id",
    "occurred_at",
    "amount",
    "currency",
    "type",
    "original_order_id",
)
NPS_QUESTION = {"id": "nps", "type": "nps", "text": {"zh-CN": "推荐吗？", "en": "Recommend us?"}}


def write_file(path: Path) -> Path:
    rng = random.Random(5)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRANSACTION_HEADER)
        for i in range(ROWS):
            when = (start + timedelta(hours=7 * i)).isoformat()
            if i % 10 == 9:
                writer.writerow(
                    [f"c{(i - 3) % 150}", f"r{i}", when, "5.00", "CNY", "refund", f"o{i - 3}"]
                )
            else:
                writer.writerow(
                    [
                        f"c{i % 150}",
                        f"o{i}",
                        when,
                        f"{rng.randint(1000, 90000) / 100:.2f}",
                        "CNY",
                        "purchase",
                        "",
                    ]
                )
    return path


def totals(url: str) -> tuple[int, ...]:
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM ledger_entries), "
                "(SELECT COALESCE(SUM(points), 0) FROM ledger_entries), "
                "(SELECT count(*) FROM ledger_entries WHERE kind = 'expire'), "
                "(SELECT COALESCE(SUM(remaining), 0) FROM lots), "
                "(SELECT COALESCE(SUM(debt), 0) FROM members)"
            )
        ).one()
    engine.dispose()
    return tuple(int(v) for v in row)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PATRONAGE, *args], capture_output=True, text=True, check=False)


def kill_after_progress(
    args: list[str],
    url: str,
    query: str,
    minimum: int,
    rng: random.Random | None = None,
    pause: float = 0.1,
) -> None:
    """Start a command, wait until ``query`` counts at least ``minimum``, then SIGKILL it
    after a further random pause (up to ``pause`` seconds)."""
    process = subprocess.Popen(
        [PATRONAGE, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    engine = make_engine(url, read_only=True)
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(text(query)).scalar_one() >= minimum:
                    break
            time.sleep(0.05)
        time.sleep((rng or random.Random(minimum)).random() * pause)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        engine.dispose()
    assert process.returncode == -signal.SIGKILL, "the command finished before it could be killed"


@pytest.fixture
def reference(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, tuple[int, ...], tuple[int, ...]]:
    folder = tmp_path_factory.mktemp("reference")
    file = write_file(folder / "tx.csv")
    url = f"sqlite:///{folder}/ref.db"
    assert run("init", "--db", url).returncode == 0
    assert run("import", "transactions", str(file), "--db", url).returncode == 0
    imported = totals(url)
    assert run("jobs", "run", "expire", "--as-of", "2026-06-01", "--db", url).returncode == 0
    return file, imported, totals(url)


def test_import_and_expiry_survive_sigkill(empty_db_url: str, reference) -> None:  # type: ignore[no-untyped-def]
    file, imported, expired = reference
    assert run("init", "--db", empty_db_url).returncode == 0
    kill_after_progress(  # small chunks and a short pause: the kill lands in the middle
        ["import", "transactions", str(file), "--db", empty_db_url, "--batch-size", "5"],
        empty_db_url,
        "SELECT count(*) FROM events",
        50,
        pause=0.02,
    )
    assert 0 < totals(empty_db_url)[0] < ROWS
    result = run("import", "transactions", str(file), "--db", empty_db_url, "--batch-size", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    assert totals(empty_db_url) == imported

    kill_after_progress(
        ["jobs", "run", "expire", "--as-of", "2026-06-01", "--db", empty_db_url],
        empty_db_url,
        "SELECT count(*) FROM ledger_entries WHERE kind = 'expire'",
        1,
    )
    assert (
        run("jobs", "run", "expire", "--as-of", "2026-06-01", "--db", empty_db_url).returncode == 0
    )
    assert totals(empty_db_url) == expired
    assert run("check", "--db", empty_db_url).returncode == 0


# The journey scheduler: `patronage jobs run journeys` killed at random points.

AS_OF = datetime(2026, 2, 17, 4, 0, tzinfo=UTC)  # Spring Festival in Shanghai, Berlin, Auckland
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/Los_Angeles", "Pacific/Auckland")
MEMBERS = 800


def member_rows(rng: random.Random) -> list[dict[str, str]]:
    """Members reachable by e-mail, by SMS or not at all, in four time zones; a tenth
    born around the holiday, a fifth joined in the last 100 days (onboarding)."""
    rows = []
    for i in range(MEMBERS):
        born = (2, 16 + i % 3) if i % 10 == 0 else (4 + i % 7, 1 + i % 28)
        joined = (
            AS_OF - timedelta(days=rng.randint(0, 99), hours=rng.randint(0, 23))
            if i % 5 == 0
            else datetime(2024, 1 + i % 12, 1 + i % 28, tzinfo=UTC)
        )
        rows.append(
            {
                "external_id": f"j{i}",
                "email": f"j{i}@example.com",
                "phone": f"+86139{i:08d}" if i % 7 == 1 else "",
                "consent_email": "true" if i % 7 >= 2 else "false",
                "consent_sms": "true" if i % 7 == 1 else "",
                "birthday": date(1970 + i % 40, *born).isoformat(),
                "joined_at": joined.isoformat(),
                "attributes": json.dumps(
                    {"timezone": ZONES[i % 4], "language": "zh-CN" if i % 2 else "en"}
                ),
            }
        )
    return rows


def purchase_rows(members: list[dict[str, str]], rng: random.Random) -> list[list[str]]:
    """Lapsed buyers (win-back), points bought about a year ago (expiring soon), and
    new members who bought (no first-purchase nudge)."""
    rows = []
    for i, member in enumerate(members):
        joined = datetime.fromisoformat(member["joined_at"])
        times = []
        if i % 5 == 0 and i % 3 == 0:
            times.append(joined + timedelta(days=1))
        if i % 5 and i % 6 == 0:
            times.append(AS_OF - timedelta(days=91 + rng.randint(0, 25)))
        if i % 5 and i % 9 == 0:
            times.append(AS_OF - timedelta(days=336 + rng.randint(0, 27)))
        for n, when in enumerate(t for t in times if t < AS_OF):
            amount = f"{rng.randint(1000, 30000) / 100:.2f}"
            row = [member["external_id"], f"{member['external_id']}-{n}", when.isoformat()]
            rows.append([*row, amount, "CNY", "purchase", ""])
    return sorted(rows, key=lambda r: r[2])


def seed_journey_data(url: str, folder: Path) -> None:
    """Members, purchases (through the import), a webhook subscriber, open complaints
    and NPS detractors: something due on every journey at AS_OF."""
    rng = random.Random(17)
    members = member_rows(rng)
    with (folder / "members.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(members[0]))
        writer.writeheader()
        writer.writerows(members)
    with (folder / "purchases.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRANSACTION_HEADER)
        writer.writerows(purchase_rows(members, rng))
    engine = make_engine(url)
    early = UnitOfWork(engine, FixedClock(AS_OF - timedelta(days=10)))
    ensure_default_program(early)
    assert not import_members(early, folder / "members.csv").rejected
    assert not import_transactions(early, folder / "purchases.csv").rejected
    add_subscriber(early, "default", "http://127.0.0.1:9/hook", ["points.expiring"])
    survey = define_survey(
        early, "nps", {"zh-CN": "推荐", "en": "Recommend"}, [NPS_QUESTION], recontact_days=0
    )
    with early:
        program_id = early.programs.get("default").id or 0
        ids = early.members.ids_by_external_id(program_id, [m["external_id"] for m in members])
    for i in range(3, MEMBERS, 97):
        complaint = NewComplaint(ids[f"j{i}"], "service", "medium", "Cold coffee", "store")
        file_complaint(early, complaint, "staff")
    later = UnitOfWork(engine, FixedClock(AS_OF - timedelta(days=3)))
    for i in range(5, MEMBERS, 41):
        record_staff_response(later, survey.id, ids[f"j{i}"], {"nps": i % 11}, "staff")
    engine.dispose()


@pytest.fixture
def twin_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/twin.db"
        return
    admin = make_engine(db_url, isolation_level="AUTOCOMMIT")
    name = f"patronage_twin_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def outbox_rows(url: str) -> Counter[tuple[object, ...]]:
    """Every outbox message by what identifies and fills it (not its id or creation time)."""
    engine = make_engine(url)
    query = select(
        MemberRow.external_id,
        OutboxRow.journey,
        OutboxRow.step,
        OutboxRow.occurrence,
        OutboxRow.channel,
        OutboxRow.recipient,
        OutboxRow.template,
        OutboxRow.language,
        OutboxRow.payload,
        OutboxRow.status,
        OutboxRow.next_attempt_at,
    ).outerjoin(MemberRow, MemberRow.id == OutboxRow.member_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    return Counter(
        (*row[:8], json.dumps(row.payload, sort_keys=True), row.status, due(row)) for row in rows
    )


def due(row: Row[Any]) -> datetime | None:
    """Journey steps are due at the job's --as-of; webhook events when written (wall clock)."""
    return None if row.channel == "webhook" else row.next_attempt_at


def test_journey_scheduler_survives_repeated_sigkill(
    db_url: str, twin_url: str, tmp_path: Path
) -> None:
    seed_journey_data(db_url, tmp_path)
    engine = make_engine(db_url)
    backup(engine, tmp_path / "seeded.bak")
    engine.dispose()
    restore(twin_url, tmp_path / "seeded.bak")
    job = ["jobs", "run", "journeys", "--as-of", AS_OF.isoformat()]
    result = run(*job, "--db", twin_url)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = outbox_rows(twin_url)
    total = sum(expected.values())
    assert {key[1] for key in expected} == {
        "birthday",
        "holiday",
        "onboarding",
        "winback",
        "points_expiring",
        "webhook",
    }
    assert max(expected.values()) == 1

    rng = random.Random(8)
    progress = "SELECT count(*) FROM outbox"
    for threshold in sorted(rng.sample(range(total // 10, total * 7 // 10), 3)):
        kill_after_progress([*job, "--db", db_url], db_url, progress, threshold, rng)
        assert threshold <= sum(outbox_rows(db_url).values()) < total
    result = run(*job, "--db", db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert outbox_rows(db_url) == expected


# The outbox worker: `patronage worker` killed while it talks to real receivers.


class SlowInbox:
    """An SMTP server's handler that records each message, then answers slowly."""

    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.recipients.extend(envelope.rcpt_tos)
        time.sleep(0.25)  # blocks the server: the worker waits for "250 OK"
        return "250 OK"


class SlowHook(BaseHTTPRequestHandler):
    """A webhook receiver that records each delivery id, then answers slowly."""

    deliveries: list[int] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.deliveries.append(int(self.headers["X-Patronage-Delivery"]))
        time.sleep(0.25)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receivers() -> Iterator[tuple[SlowInbox, int, type[SlowHook], str]]:
    inbox = SlowInbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    hook = type("Hook", (SlowHook,), {"deliveries": []})
    http = ThreadingHTTPServer(("127.0.0.1", 0), hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield inbox, smtp_port, hook, f"http://127.0.0.1:{http.server_address[1]}/hook"
    http.shutdown()
    http.server_close()
    controller.stop()


def seed_messages(url: str, hook_url: str) -> None:
    """Eight welcome e-mails (journey steps) and eight points.earned webhooks."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    shop = Shop(engine, FixedClock(now))
    add_subscriber(shop.uow(), "default", hook_url, ["points.earned"])
    members = [
        shop.member(f"w{n}", email=f"w{n}@example.com", consents={"email": True}) for n in range(8)
    ]
    run_journeys(shop.uow(), "default", now)
    for member in members:
        shop.buy(member, "25.00")
    engine.dispose()


def outbox_state(url: str) -> list[tuple[int, str, str, str | None]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(OutboxRow.id, OutboxRow.channel, OutboxRow.status, OutboxRow.recipient)
        ).all()
    engine.dispose()
    return [(i, channel, status, recipient) for i, channel, status, recipient in rows]


def test_worker_killed_while_sending_delivers_webhooks_at_least_once_and_mail_at_most_once(
    db_url: str, receivers: tuple[SlowInbox, int, type[SlowHook], str]
) -> None:
    inbox, smtp_port, hook, hook_url = receivers
    seed_messages(db_url, hook_url)
    env = {
        **os.environ,
        "PATRONAGE_SMTP_HOST": "127.0.0.1",
        "PATRONAGE_SMTP_PORT": str(smtp_port),
        "PATRONAGE_QUIET_HOURS": "",
        "PATRONAGE_MESSAGES_PER_WEEK": "0",
        "PATRONAGE_OUTBOX_LEASE_SECONDS": "1",
        "PATRONAGE_WORKER_POLL_SECONDS": "0.2",
    }
    worker = [PATRONAGE, "worker", "--db", db_url, "--batch", "3"]
    rng = random.Random(11)
    # the e-mails go first (ids 1-8), then the webhooks: one kill among each, one later
    for threshold in (rng.randint(2, 6), rng.randint(9, 11), rng.randint(12, 14)):
        process = subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(inbox.recipients) + len(hook.deliveries) < threshold:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.random() * 0.3)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        time.sleep(1.2)  # the dead worker's lease lapses
    for _ in range(20):
        if not {s for _, _, s, _ in outbox_state(db_url)} & {"pending", "claimed", "sending"}:
            break
        result = subprocess.run([*worker, "--once"], env=env, capture_output=True, check=False)
        assert result.returncode == 0, result.stderr
        time.sleep(1.2)
    state = outbox_state(db_url)
    webhooks = [(i, status) for i, channel, status, _ in state if channel == "webhook"]
    mails = [(r, status) for _, channel, status, r in state if channel == "email"]
    assert len(webhooks) == 8 and len(mails) == 8
    assert {status for _, status in webhooks} == {"sent"}  # each recorded sent, once
    assert {i for i, _ in webhooks} == set(hook.deliveries)  # each delivered at least once
    assert max(Counter(inbox.recipients).values()) == 1  # no member mailed twice
    assert {status for _, status in mails} <= {"sent", "in_doubt"}
    assert {r for r, status in mails if status == "sent"} <= set(inbox.recipients)
    assert sum(status == "in_doubt" for _, status in mails) <= 3  # at most one per kill
