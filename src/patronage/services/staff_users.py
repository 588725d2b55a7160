"""Staff users of the web app: creation, password checks and lock-out after failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from patronage.errors import Conflict, InvalidInput, RuleViolation, Unauthorized
from patronage.storage.uow import UnitOfWork

STAFF_ROLES = ("admin", "staff", "analyst")
MAX_FAILURES = 5
LOCK_OUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
# scrypt with n=2**14, r=8, p=1: about 16 MiB and tens of milliseconds per check.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    params = "$".join(str(_SCRYPT[k]) for k in ("n", "r", "p"))
    encoded = "$".join(base64.b64encode(part).decode() for part in (salt, digest))
    return f"scrypt${params}${encoded}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_DECOY = hash_password(secrets.token_urlsafe(16))  # checked for unknown names: same timing


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"the password needs at least {MIN_PASSWORD} characters", field="password"
        )


def create_staff_user(uow: UnitOfWork, username: str, password: str, role: str) -> StaffUser:
    if role not in STAFF_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(STAFF_ROLES)}", field="role")
    if not _USERNAME.match(username):
        raise InvalidInput(
            "username: 2-64 letters, digits or . _ @ -", field="username", username=username
        )
    check_new_password(password)
    with uow:
        if uow.staff_users.by_username(username) is not None:
            raise Conflict(
                f"a user named {username!r} exists", code="duplicate_user", username=username
            )
        row = uow.staff_users.add(username, hash_password(password), role, uow.clock())
        uow.commit()
        return StaffUser(row.id, row.username, row.role)


def locked_until(uow: UnitOfWork, who: str, now: datetime) -> datetime | None:
    """Inside a transaction: the end of a lock-out, or None when attempts are allowed."""
    failures, latest = uow.sign_in_attempts.failures_since(who, now - LOCK_OUT)
    if failures >= MAX_FAILURES and latest is not None:
        return latest + LOCK_OUT
    return None


def refuse_if_locked(uow: UnitOfWork, who: str, now: datetime) -> None:
    until = locked_until(uow, who, now)
    if until is not None:
        raise RuleViolation(
            "too many failed attempts; try again later",
            code="locked_out",
            retry_after_seconds=max(1, int((until - now).total_seconds())),
        )


def sign_in(uow: UnitOfWork, username: str, password: str) -> StaffUser:
    """The user when the password matches; every attempt is recorded, and after
    five failures in a row the name is locked for 15 minutes."""
    with uow:
        now = uow.clock()
        refuse_if_locked(uow, username, now)
        row = uow.staff_users.by_username(username)
        matches = password_matches(password, row.password_hash if row else _DECOY)
        ok = row is not None and matches and row.disabled_at is None
        uow.sign_in_attempts.add(username, now, ok)
        if row is None or not ok:
            uow.commit()
            raise Unauthorized("wrong username or password", code="bad_credentials")
        uow.staff_users.signed_in(row.id, now)
        uow.commit()
        return StaffUser(row.id, row.username, row.role)


def get_staff_user(uow: UnitOfWork, user_id: int) -> StaffUser | None:
    with uow:
        row = uow.staff_users.get(user_id)
        if row is None or row.disabled_at is not None:
            return None
        return StaffUser(row.id, row.username, row.role)


def ensure_demo_admin(uow: UnitOfWork, username: str = "admin") -> str:
    """Create (or give a fresh password to) the demo's admin user; return the password."""
    password = secrets.token_urlsafe(12)
    with uow:
        row = uow.staff_users.by_username(username)
        if row is None:
            uow.staff_users.add(username, hash_password(password), "admin", uow.clock())
        else:
            uow.staff_users.set_password(row.id, hash_password(password))
        uow.commit()
    return password
