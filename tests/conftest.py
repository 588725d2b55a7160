"""Fixtures shared by every test: databases (SQLite and PostgreSQL) and a fixed clock.

PostgreSQL tests run when PATRONAGE_TEST_POSTGRES_URL is set or a server answers on
127.0.0.1:5432. In CI (CI=true) a missing server is a failure, never a skip.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text

from patronage.clock import FixedClock
from patronage.http.app import create_app
from patronage.storage.db import make_engine
from patronage.storage.tables import metadata

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def postgres_admin_url() -> str | None:
    url = os.environ.get("PATRONAGE_TEST_POSTGRES_URL")
    if url:
        return url
    if _postgres_answers():
        return DEFAULT_PG
    if os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL must be reachable in CI (127.0.0.1:5432)")
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private database for this test session, dropped at the end."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("no PostgreSQL server (set PATRONAGE_TEST_POSTGRES_URL)")
    name = f"patronage_test_{uuid.uuid4().hex[:10]}"
    admin_engine = make_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_engine.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture(scope="session")
def _postgres_schema(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _truncate_postgres(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A database URL with an empty schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/patronage.db"
        engine = make_engine(url)
        metadata.create_all(engine)
        engine.dispose()
        yield url
    else:
        engine = request.getfixturevalue("_postgres_schema")
        _truncate_postgres(engine)
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 10, 15, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A database with no tables at all, for migrations and `patronage init`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("no PostgreSQL server")
    name = f"patronage_empty_{uuid.uuid4().hex[:10]}"
    admin_engine = make_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_engine.url.set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server() -> Iterator[tuple[FastAPI, str]]:
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
