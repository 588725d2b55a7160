"""Engines: SQLite (WAL, foreign keys, one writer at a time) or PostgreSQL."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from patronage.storage.reference import watch_reference_writes


def make_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """Create an engine with the settings the ledger relies on.

    SQLite: WAL journal, foreign keys on, and every transaction begins with
    ``BEGIN IMMEDIATE`` so that writers queue for the lock up front instead of
    failing when a read lock would have to be upgraded.
    PostgreSQL: psycopg 3, READ COMMITTED plus explicit row locks; no ping before each
    checkout (a round trip per unit of work): a connection the server dropped fails
    once and is replaced, and connections are recycled after an hour.
    ``read_only`` engines (reports, monitoring), and connections given the execution
    option ``read_only=True``, begin SQLite transactions deferred, so they read a
    snapshot without queueing behind writers.
    Every engine watches for writes to reference data (storage/reference.py).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_recycle", 3600)
        engine = create_engine(parsed, **kwargs)
        watch_reference_writes(engine)
        return engine
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if parsed.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        reading = read_only or conn.get_execution_options().get("read_only", False)
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    watch_reference_writes(engine)
    return engine


_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def reader(engine: Engine) -> Engine:
    """The engine for units of work that only read. On PostgreSQL its statements run in
    autocommit: at READ COMMITTED every statement reads its own snapshot anyway, so a
    transaction would add nothing but the BEGIN and ROLLBACK round trips. On SQLite its
    transactions begin deferred: a snapshot read that does not queue behind writers."""
    found = _READERS.get(engine)
    if found is None:
        options: dict[str, Any] = {"read_only": True}
        if is_postgres(engine):
            options["isolation_level"] = "AUTOCOMMIT"
        found = _READERS[engine] = engine.execution_options(**options)
    return found


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
