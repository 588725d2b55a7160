"""Channels that carry messages out: e-mail over SMTP, webhooks over HTTP, and the
pluggable SMS and WeChat template-message providers.

A channel either returns (delivered), raises ``NotDelivered`` when it knows the
message did not get through (refused connection, an error reply, an HTTP error
status: safe to try again), or raises anything else when it cannot know (a timeout
after the message was handed over). The worker treats the last case as "maybe sent".
"""

from __future__ import annotations

import importlib
import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from patronage.config import Settings
from patronage.domain.messages import webhook_signature


class NotDelivered(Exception):
    """The message certainly did not reach its recipient. ``permanent``: retrying
    cannot help (no provider configured, for example)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class Envelope:
    """A rendered journey message, ready for a member channel."""

    message_id: int
    recipient: str
    subject: str
    body: str
    template: str
    language: str
    unsubscribe_url: str
    data: Mapping[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    """A way to reach members: e-mail, SMS, WeChat template messages. SMS and WeChat
    providers implement this and are named in PATRONAGE_SMS_PROVIDER and
    PATRONAGE_WECHAT_PROVIDER as ``module:factory`` (the factory takes the Settings)."""

    def send(self, envelope: Envelope) -> None: ...


class WebhookSender(Protocol):
    def post(self, url: str, secret: str, event: str, delivery_id: int, body: bytes) -> None: ...


class SmtpEmail:
    """Plain-text e-mail through an SMTP server (STARTTLS when the server offers it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, envelope: Envelope) -> None:
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.smtp_from
        mail["To"] = envelope.recipient
        mail["Subject"] = envelope.subject
        mail["Message-ID"] = make_msgid(f"outbox-{envelope.message_id}", domain="patronage")
        mail["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
        mail.set_content(envelope.body)
        try:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.webhook_timeout_seconds)
        except OSError as exc:
            raise NotDelivered(f"SMTP connection failed: {exc}") from exc
        with smtp:
            try:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
            except (smtplib.SMTPException, OSError) as exc:
                raise NotDelivered(f"SMTP session failed before sending: {exc}") from exc
            try:
                smtp.send_message(mail)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                raise NotDelivered(f"SMTP server refused the message: {exc}") from exc


class HttpWebhooks:
    """POST the event as JSON, signed with the subscriber's secret:
    ``X-Patronage-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds

    def post(self, url: str, secret: str, event: str, delivery_id: int, body: bytes) -> None:
        timestamp = int(time.time())
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "patronage-webhooks",
                "X-Patronage-Event": event,
                "X-Patronage-Delivery": str(delivery_id),
                "X-Patronage-Timestamp": str(timestamp),
                "X-Patronage-Signature": webhook_signature(secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            raise NotDelivered(f"HTTP {exc.code} from {url}") from exc
        except urllib.error.URLError as exc:
            raise NotDelivered(f"cannot reach {url}: {exc.reason}") from exc


def webhook_body(delivery_id: int, event: str, created_at: str, data: Mapping[str, Any]) -> bytes:
    document = {"id": delivery_id, "type": event, "created_at": created_at, "data": dict(data)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


class Unconfigured:
    """Stands in for a provider that is not configured: every message is dead-lettered."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, envelope: Envelope) -> None:
        raise NotDelivered(f"no {self.channel} provider configured", permanent=True)


def load_provider(spec: str, channel: str, settings: Settings) -> Channel:
    """``module:factory`` -> the provider the factory builds from the settings."""
    if not spec:
        return Unconfigured(channel)
    module_name, _, attribute = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute or "provider")
    provider: Channel = factory(settings)
    return provider


@dataclass(frozen=True)
class Channels:
    """Everything the worker can send through."""

    members: Mapping[str, Channel]
    webhooks: WebhookSender


def channels_from_settings(settings: Settings) -> Channels:
    return Channels(
        members={
            "email": SmtpEmail(settings),
            "sms": load_provider(settings.sms_provider, "sms", settings),
            "wechat": load_provider(settings.wechat_provider, "wechat", settings),
        },
        webhooks=HttpWebhooks(settings.webhook_timeout_seconds),
    )
