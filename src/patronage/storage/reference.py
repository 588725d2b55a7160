"""Reference data read once per process and reused until it changes.

Programs with their tiers, API keys, webhook subscribers, and whether a program has
any rule or paid plan are read on nearly every request but change rarely. Each engine
keeps them in a ``ReferenceCache``. Every write to a reference table, from any process
and through any code path, also sets a new random ``token`` in the one-row
``config_state`` table, in the same transaction (``watch_reference_writes`` hooks the
engine's statements). A unit of work reads the token once, one single-row read, and
uses the cached values only while the token is the one they were read under.

So a change is seen by every process from its next unit of work on. A missing
``config_state`` row (an emptied database) never matches, so nothing is cached then;
a unit of work that has itself written reference data neither uses nor fills the
cache until its transaction ends (it could hold data that is rolled back).
"""

from __future__ import annotations

import re
import secrets
import threading
import weakref
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

T = TypeVar("T")

REFERENCE_TABLES = frozenset(
    {
        "programs",
        "tiers",
        "rules",
        "campaigns",
        "api_keys",
        "webhook_subscribers",
        "membership_plans",
    }
)
# Counters kept on reference rows and moved by the earn path: not a change of definition.
COUNTERS = {"campaigns": frozenset({"spent"})}

_VERB = r"(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?"
_WRITE = re.compile(r"\s*" + _VERB, re.IGNORECASE)  # a statement that is a write
_NESTED_WRITE = re.compile(r"\b" + _VERB, re.IGNORECASE)  # the writes of a WITH
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_SET_COLUMN = re.compile(r"(?:^|,)\s*(\w+)\s*=")
_SET = re.compile(r"\sSET\s", re.IGNORECASE)
_SET_END = re.compile(r"\s(?:WHERE|FROM|RETURNING)\s", re.IGNORECASE)
_TOKEN = text("SELECT token FROM config_state WHERE id = 1")
_WRITTEN = "patronage_reference_written"


@lru_cache(maxsize=4096)
def changes_reference(statement: str) -> bool:
    """Does this SQL statement write a reference table (other than its counters)? A
    data-modifying WITH is looked through: each INSERT, UPDATE or DELETE it holds counts.
    Kept per statement text: the statements of requests are built once, so each is read
    once per process."""
    if _WITH.match(statement):
        writes = list(_NESTED_WRITE.finditer(statement))
    else:
        found = _WRITE.match(statement)
        writes = [found] if found else []
    return any(_writes_reference(statement, write) for write in writes)


def _writes_reference(statement: str, write: re.Match[str]) -> bool:
    table = write.group(2).lower()
    if table not in REFERENCE_TABLES:
        return False
    if write.group(1).upper() != "UPDATE" or table not in COUNTERS:
        return True
    assignments = _SET_END.split(_SET.split(statement[write.end() :], 1)[-1], 1)[0]
    return not set(_SET_COLUMN.findall(assignments)) <= COUNTERS[table]


def watch_reference_writes(engine: Engine) -> None:
    """Give ``config_state`` a new token in every transaction that writes reference data."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before(
        conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if not changes_reference(statement):
            return
        conn.info[_WRITTEN] = True
        token = secrets.randbits(62)  # our own integer, safe to write as a literal
        bump = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            bump.execute(
                f"INSERT INTO config_state (id, token) VALUES (1, {token}) "
                "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
            )
        finally:
            bump.close()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ended(conn: Connection) -> None:
        conn.info.pop(_WRITTEN, None)

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_WRITTEN, None)


class ReferenceCache:
    """Values of one database, valid while its ``config_state`` token is unchanged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: int | None = None
        self._values: dict[Any, Any] = {}

    def values_for(self, token: int | None) -> dict[Any, Any]:
        """The shared values under ``token`` (emptied when the token moved on); a
        private, throw-away dict when there is no token."""
        if token is None:
            return {}
        with self._lock:
            if token != self._token:
                self._token, self._values = token, {}
            return self._values


_CACHES: weakref.WeakKeyDictionary[Any, ReferenceCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_of(engine: Engine) -> ReferenceCache:
    """The engine's cache (shared by the engines made from it with execution options,
    which share its pool)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(engine.pool)
        if cache is None:
            cache = _CACHES[engine.pool] = ReferenceCache()
        return cache


def read_token(engine: Engine) -> int | None:
    """The current token, read outside any transaction of ours (no write lock taken)."""
    from patronage.storage.db import reader

    with reader(engine).connect() as conn:
        value = conn.execute(_TOKEN).scalar()
    return None if value is None else int(value)


class Reference:
    """The cache as one unit of work sees it: the token is read on first use, inside
    the unit's transaction, so a unit of work always sees what committed before it;
    then every value is loaded at most once per token. A unit of work may instead be
    given the token its caller has just read (the API key check, one round trip saved):
    it then sees reference data as of that read, as if it had run a moment earlier."""

    def __init__(
        self,
        session: Session,
        cache: ReferenceCache,
        token: int | None = None,
        read_only: bool = False,
    ):
        self._session = session
        self._cache = cache
        self._given = token
        self._read_only = read_only
        self._values: dict[Any, Any] | None = None

    def get(self, key: Any, load: Callable[[], T]) -> T:
        # a read-only unit of work cannot have written reference data: what the cache
        # holds needs no connection
        if not self._read_only:
            connection = self._session.connection()
            if connection.info.get(_WRITTEN):
                return load()  # our own uncommitted reference writes: no sharing
        if self._values is None:
            token = self._given
            if token is None:
                value = self._session.connection().execute(_TOKEN).scalar()
                token = None if value is None else int(value)
            self._values = self._cache.values_for(token)
        try:
            found: T = self._values[key]
        except KeyError:
            found = self._values[key] = load()
        return found
