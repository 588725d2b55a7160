"""Care journeys on a real database (SQLite and PostgreSQL): scheduling across time
zones, consent changed between scheduling and sending, quiet hours, frequency caps.
SMS goes through a recording provider: the only test double, at the provider edge."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.domain.journeys import QuietHours
from patronage.domain.members import Member
from patronage.domain.messages import Message
from patronage.journeys.channels import Channels, Envelope
from patronage.services.delivery import DeliveryPolicy, deliver_due
from patronage.services.journeys import JourneyConfig, run_journeys
from patronage.services.outbox import add_subscriber, unsubscribe
from patronage.services.privacy import change_consents

QUIET = QuietHours.parse("21:00-08:00")


class RecordingSms:
    """An SMS provider that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)


class NoWebhooks:
    def post(self, url: str, secret: str, event: str, delivery_id: int, body: bytes) -> None:
        raise AssertionError("no webhook expected")


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    return Shop(engine, clock)


def texting(shop: Shop, external_id: str, **profile: object) -> Member:
    """A member reachable by SMS only."""
    defaults: dict[str, object] = {"phone": "+8613800000001", "consents": {"sms": True}}
    return shop.member(external_id, **{**defaults, **profile})


def messages(shop: Shop, member: Member) -> list[Message]:
    uow = shop.uow()
    with uow:
        return uow.outbox.for_member(member.id)


def deliver(shop: Shop, sms: RecordingSms, **policy: object) -> Counter[str]:
    settings: dict[str, object] = {"quiet_hours": QUIET, "weekly_cap": 3, "secret_key": "k"}
    channels = Channels(members={"sms": sms}, webhooks=NoWebhooks())
    return deliver_due(
        shop.engine, channels, DeliveryPolicy(**{**settings, **policy}), 50, shop.clock
    )


def test_birthday_on_the_members_own_day(shop: Shop, clock: FixedClock) -> None:
    clock.now = datetime(2025, 3, 1, tzinfo=UTC)  # joined long ago: no onboarding
    birthday = date(1990, 3, 10)
    shanghai = texting(shop, "sh", birthday=birthday, attributes={"timezone": "Asia/Shanghai"})
    new_york = texting(shop, "ny", birthday=birthday, attributes={"timezone": "America/New_York"})
    same_instant = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 Shanghai, 22:00 on 9 March NY
    run_journeys(shop.uow(), "default", same_instant)
    assert [(m.journey, m.occurrence) for m in messages(shop, shanghai)] == [("birthday", "2026")]
    assert messages(shop, new_york) == []

    run_journeys(shop.uow(), "default", same_instant + timedelta(hours=1))
    assert len(messages(shop, shanghai)) == 1  # once a year, however often the job runs
    run_journeys(shop.uow(), "default", datetime(2026, 3, 10, 15, 0, tzinfo=UTC))
    assert [m.step for m in messages(shop, new_york)] == ["greeting"]
    run_journeys(shop.uow(), "default", datetime(2027, 3, 10, 4, 0, tzinfo=UTC))
    assert [m.occurrence for m in messages(shop, shanghai)] == ["2026", "2027"]


def test_spring_festival_greeting_in_chinese(shop: Shop, clock: FixedClock) -> None:
    clock.now = datetime(2025, 1, 1, tzinfo=UTC)
    member = texting(shop, "zh", attributes={"language": "zh-CN", "timezone": "Asia/Shanghai"})
    silent = shop.member("no-consent", phone="+8613800000002")
    clock.now = datetime(2026, 2, 17, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    counts = run_journeys(shop.uow(), "default", clock.now)
    assert counts["holiday"] == 1 and counts["no_channel"] >= 1
    assert messages(shop, silent) == []
    sms = RecordingSms()
    assert deliver(shop, sms)["sent"] == 1
    assert sms.sent[0].subject == "春节快乐！" and "退订" in sms.sent[0].body
    assert [m.status for m in messages(shop, member)] == ["sent"]


def test_consent_withdrawn_after_scheduling_skips_the_message(
    shop: Shop, clock: FixedClock
) -> None:
    member = texting(shop, "m1", attributes={"timezone": "America/New_York"})
    run_journeys(shop.uow(), "default", clock.now)  # day 0: welcome
    assert [m.step for m in messages(shop, member)] == ["welcome"]
    change_consents(shop.uow(), member.id, {"sms": False}, "test")
    sms = RecordingSms()
    assert deliver(shop, sms) == Counter(skipped=1)
    assert sms.sent == []
    [message] = messages(shop, member)
    assert message.status == "skipped" and message.last_error == "no sms consent"
    run_journeys(shop.uow(), "default", clock.now)
    assert len(messages(shop, member)) == 1  # skipped is final: the step stays done


def test_quiet_hours_hold_a_message_until_morning(shop: Shop, clock: FixedClock) -> None:
    member = texting(shop, "late", attributes={"timezone": "Asia/Shanghai"})  # 23:00 there
    run_journeys(shop.uow(), "default", clock.now)
    sms = RecordingSms()
    assert deliver(shop, sms) == Counter(waiting=1)
    [message] = messages(shop, member)
    assert message.status == "pending"
    assert message.next_attempt_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 08:00 local
    clock.advance(hours=8, minutes=59)
    assert deliver(shop, sms) == Counter()
    clock.advance(minutes=1)
    assert deliver(shop, sms) == Counter(sent=1) and len(sms.sent) == 1


def test_frequency_cap_skips_what_exceeds_it(shop: Shop, clock: FixedClock) -> None:
    clock.now = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 10:00 UTC, not quiet
    member = texting(shop, "busy", birthday=date(1990, 3, 10))
    run_journeys(shop.uow(), "default", clock.now)  # welcome and birthday on the same day
    sms = RecordingSms()
    assert deliver(shop, sms, weekly_cap=1) == Counter(sent=1, skipped=1)
    statuses = sorted((m.status, m.last_error or "") for m in messages(shop, member))
    assert statuses[0][0] == "sent" and statuses[1][0] == "skipped"
    assert statuses[1][1].startswith("frequency cap")


def test_onboarding_nudge_only_without_a_purchase(shop: Shop, clock: FixedClock) -> None:
    buyer = texting(shop, "buyer")
    idle = texting(shop, "idle", phone="+8613800000003")
    shop.buy(buyer, "10.00")
    for day in range(0, 8):
        run_journeys(shop.uow(), "default", clock.now + timedelta(days=day))
    assert [m.step for m in messages(shop, buyer)] == ["welcome"]
    assert [m.step for m in messages(shop, idle)] == ["welcome", "first_purchase"]


def test_expiring_points_remind_once_per_lot_and_tell_subscribers(
    shop: Shop, clock: FixedClock
) -> None:
    member = texting(shop, "saver")
    add_subscriber(shop.uow(), "default", "http://127.0.0.1:9/hook", ["points.expiring"])
    shop.buy(member, "120.00")
    later = clock.now + timedelta(days=350)
    for _ in range(2):
        run_journeys(shop.uow(), "default", later)
    reminders = [m for m in messages(shop, member) if m.journey == "points_expiring"]
    assert len(reminders) == 1 and reminders[0].payload["points"] == 120
    webhooks = [m for m in messages(shop, member) if m.channel == "webhook"]
    assert [m.template for m in webhooks] == ["points.expiring"]


def test_winback_after_a_lapse_and_care_after_a_complaint_left_open(
    shop: Shop, clock: FixedClock
) -> None:
    from patronage.domain.coupons import Discount
    from patronage.services.rewards import NewReward, add_reward

    member = texting(shop, "gone")
    shop.buy(member, "30.00")
    add_reward(
        shop.uow(),
        NewReward(
            code="cake", name="Free cake", points=20, discount=Discount("free_item", sku="cake")
        ),
        "admin",
    )
    config = JourneyConfig(winback_days=90)
    run_journeys(shop.uow(), "default", clock.now + timedelta(days=89), config)
    assert "winback" not in {m.journey for m in messages(shop, member)}
    for days in (91, 95):
        run_journeys(shop.uow(), "default", clock.now + timedelta(days=days), config)
    winback = [m for m in messages(shop, member) if m.journey == "winback"]
    assert [m.step for m in winback] == ["lapsed"]
    assert winback[0].payload["offer"] == "Free cake"  # the next best offer rides along


def test_unsubscribe_link_withdraws_consent(shop: Shop, clock: FixedClock) -> None:
    from patronage.config import get_settings
    from patronage.domain.messages import sign_unsubscribe

    member = texting(shop, "bye")
    token = sign_unsubscribe(get_settings().secret_key, member.id, "sms")
    assert unsubscribe(shop.uow(), token) == (member.id, "sms")
    uow = shop.uow()
    with uow:
        assert uow.members.get(member.id).consents == {"sms": False}
