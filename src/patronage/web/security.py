"""Signed cookies (HMAC-SHA256 over PATRONAGE_SECRET_KEY) and CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from fastapi import Request, Response

SESSION_COOKIE = "patronage_session"
PORTAL_COOKIE = "patronage_portal"
CSRF_COOKIE = "patronage_csrf"
LANG_COOKIE = "patronage_lang"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"patronage-web:{purpose}".encode(), "sha256").digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, Any], secret: str, purpose: str) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(token: str | None, secret: str, purpose: str) -> dict[str, Any] | None:
    """The payload when the signature is good, else None."""
    if not token or "." not in token:
        return None
    body, _, mac = token.partition(".")
    expected = hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", path="/", secure=False
    )


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token (double-submit: a signed cookie and a form field)."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token:
        return token
    secret: str = request.app.state.web_secret
    payload = unsign(request.cookies.get(CSRF_COOKIE), secret, "csrf")
    token = str(payload["t"]) if payload and "t" in payload else secrets.token_urlsafe(24)
    request.state.csrf_token = token
    return token


def csrf_valid(request: Request, submitted: str | None) -> bool:
    secret: str = request.app.state.web_secret
    payload = unsign(request.cookies.get(CSRF_COOKIE), secret, "csrf")
    if not payload or not submitted:
        return False
    return hmac.compare_digest(str(payload.get("t", "")), submitted)


def remember_csrf(request: Request, response: Response) -> None:
    secret: str = request.app.state.web_secret
    set_cookie(response, CSRF_COOKIE, sign({"t": csrf_token(request)}, secret, "csrf"))
