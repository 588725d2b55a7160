"""API keys: created once and shown once, stored as hashes, checked on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from patronage.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from patronage.storage.uow import UnitOfWork

ROLES = ("admin", "staff", "analyst", "member")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, and for member keys the one member they may see."""

    key_id: int
    role: str
    member_id: int | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return f"apikey:{self.key_id}" + (f" ({self.name})" if self.name else "")

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"role {self.role!r} may not do this", role=self.role)

    def may_see_member(self, member_id: int) -> None:
        if self.role == "member" and self.member_id != member_id:
            raise Forbidden("a member key may only see its own member")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    uow: UnitOfWork, role: str, member_id: int | None = None, name: str | None = None
) -> str:
    """Return the new key; only its hash is stored."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if (role == "member") != (member_id is not None):
        raise InvalidInput("a member key needs --member, and only a member key", field="member")
    prefix = secrets.token_hex(6)
    key = f"pat_{prefix}_{secrets.token_urlsafe(32)}"
    with uow:
        if member_id is not None:
            uow.members.get(member_id)
        uow.keys.add(
            prefix=prefix,
            key_hash=_hash(key),
            role=role,
            member_id=member_id,
            name=name,
            created_at=uow.clock(),
        )
        uow.commit()
    return key


def authenticate(uow: UnitOfWork, key: str | None) -> Principal:
    if not key:
        raise Unauthorized("an API key is required (Authorization: Bearer KEY)")
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "pat":
        raise Unauthorized("the API key is not valid")
    with uow:
        row = uow.keys.credentials(parts[1])
        if row is None or not hmac.compare_digest(row.key_hash, _hash(key)):
            raise Unauthorized("the API key is not valid")
        if row.revoked_at is not None:
            raise Unauthorized("the API key was revoked")
        return Principal(key_id=row.id, role=row.role, member_id=row.member_id, name=row.name)


def revoke_api_key(uow: UnitOfWork, prefix: str) -> None:
    """Revoke a key; requests with it are refused (401) from the next request on."""
    with uow:
        if uow.keys.by_prefix(prefix) is None:
            raise NotFound(f"no API key with prefix {prefix!r}", prefix=prefix)
        now = uow.clock()
        if uow.keys.revoke(prefix, now):
            uow.audit.add(
                at=now,
                actor="cli",
                action="apikey_revoked",
                target_type="api_key",
                target_id=prefix,
                before=None,
                after=None,
                reason=None,
            )
        uow.commit()
