"""Messages to members and subscribers: which channel, whether to send now, signatures.

Pure domain, no I/O. A journey message goes to a member on one channel (e-mail, SMS
or WeChat) and only with that channel's consent; a webhook goes to a subscriber's
URL and needs no member consent (it is the business's own integration).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from patronage.domain.journeys import QuietHours
from patronage.errors import NotFound

MEMBER_CHANNELS = ("email", "sms", "wechat")
WEBHOOK = "webhook"

# Outbox statuses. pending -> claimed -> sending -> sent; skipped, dead and in_doubt
# are final until an operator retries (see docs/adr/0006-outbox-delivery.md).
PENDING, CLAIMED, SENDING, SENT = "pending", "claimed", "sending", "sent"
SKIPPED, DEAD, IN_DOUBT = "skipped", "dead", "in_doubt"
STATUSES = (PENDING, CLAIMED, SENDING, SENT, SKIPPED, DEAD, IN_DOUBT)

WEBHOOK_EVENTS = (
    "points.earned",
    "points.redeemed",
    "points.expiring",
    "tier.changed",
    "coupon.issued",
    "reward.redeemed",
    "training.reminder",
)


@dataclass(frozen=True)
class Contact:
    """What a message needs to know about its member."""

    member_id: int
    email: str | None
    phone: str | None
    consents: Mapping[str, Any]
    attributes: Mapping[str, Any]
    name: str | None = None
    erased: bool = False


def address(contact: Contact, channel: str) -> str | None:
    """The member's address on ``channel``: e-mail, phone, or WeChat openid."""
    if channel == "email":
        return contact.email
    if channel == "sms":
        return contact.phone
    if channel == "wechat":
        openid = contact.attributes.get("wechat_openid")
        return str(openid) if openid else None
    return None


def choose_channel(contact: Contact) -> tuple[str, str] | None:
    """The first channel, in the order e-mail, SMS, WeChat, that the member consented
    to and has an address on; None when there is none."""
    if contact.erased:
        return None
    for channel in MEMBER_CHANNELS:
        recipient = address(contact, channel)
        if recipient and contact.consents.get(channel) is True:
            return channel, recipient
    return None


@dataclass(frozen=True)
class Send:
    pass


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str


Decision = Send | Skip | Wait


def decide_member_message(
    contact: Contact,
    channel: str,
    now: datetime,
    zone: ZoneInfo,
    quiet: QuietHours | None,
    sent_this_week: int,
    weekly_cap: int,
) -> Decision:
    """Whether a journey message may go now: consent is checked again at sending
    time (it may have been withdrawn since scheduling), then quiet hours, then the cap."""
    if contact.erased:
        return Skip("member erased")
    if contact.consents.get(channel) is not True:
        return Skip(f"no {channel} consent")
    if quiet is not None and (until := quiet.ends_at(now, zone)) is not None:
        return Wait(until, "quiet hours")
    if weekly_cap > 0 and sent_this_week >= weekly_cap:
        return Skip(f"frequency cap: {sent_this_week} message(s) in the last 7 days")
    return Send()


def backoff(attempts: int, base_seconds: int, ceiling_seconds: int = 6 * 3600) -> timedelta:
    """Wait before the next attempt: base, 2 x base, 4 x base, ... at most ``ceiling``."""
    exponent = max(attempts - 1, 0)
    return timedelta(seconds=min(base_seconds * 2 ** min(exponent, 30), ceiling_seconds))


def _mac(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def sign_unsubscribe(secret: str, member_id: int, channel: str) -> str:
    """A token that withdraws one member's consent on one channel: ``id.channel.mac``."""
    return f"{member_id}.{channel}.{_mac(secret, f'unsubscribe:{member_id}:{channel}')}"


def read_unsubscribe(secret: str, token: str) -> tuple[int, str]:
    """(member id, channel) of a genuine token; anything else is not found."""
    parts = token.split(".")
    if len(parts) == 3 and parts[0].isdigit() and len(parts[0]) < 19:
        member_id, channel = int(parts[0]), parts[1]
        if channel in MEMBER_CHANNELS and hmac.compare_digest(
            _mac(secret, f"unsubscribe:{member_id}:{channel}"), parts[2]
        ):
            return member_id, channel
    raise NotFound("this unsubscribe link is not valid", field="token")


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256 of "<timestamp>." + body>``, the X-Patronage-Signature value."""
    signed = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Message:
    """One outbox row as the services see it."""

    id: int
    program_id: int
    channel: str
    recipient: str | None
    template: str
    language: str
    payload: Mapping[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    member_id: int | None = None
    journey: str | None = None
    step: str | None = None
    occurrence: str | None = None
    subscriber_id: int | None = None
    claim_id: str | None = None
    attempt_id: str | None = None
    sent_at: datetime | None = None
    last_error: str | None = None

    @property
    def at_most_once(self) -> bool:
        """Journey steps are sent at most once; webhooks at least once."""
        return self.channel != WEBHOOK
