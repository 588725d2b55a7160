"""Care journeys and messages: the pure rules (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from patronage.domain.journeys import (
    MID_AUTUMN,
    SPRING_FESTIVAL,
    Holiday,
    QuietHours,
    holidays_on,
    is_birthday,
    member_language,
    member_zone,
    onboarding_steps_due,
    parse_holidays,
)
from patronage.domain.messages import (
    Contact,
    Send,
    Skip,
    Wait,
    backoff,
    choose_channel,
    decide_member_message,
    read_unsubscribe,
    sign_unsubscribe,
    webhook_signature,
)
from patronage.errors import InvalidInput, NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
QUIET = QuietHours(time(21), time(8))


def contact(**kw: object) -> Contact:
    values: dict[str, object] = {
        "member_id": 7,
        "email": "li@example.com",
        "phone": "+8613800000000",
        "consents": {"email": True},
        "attributes": {},
    }
    values.update(kw)
    return Contact(**values)  # type: ignore[arg-type]


def test_lunar_holidays_fall_on_the_published_dates() -> None:
    assert SPRING_FESTIVAL[2026] == date(2026, 2, 17) and MID_AUTUMN[2026] == date(2026, 9, 25)
    assert holidays_on(date(2027, 2, 6)) == ["spring_festival"]
    assert holidays_on(date(2030, 9, 12)) == ["mid_autumn"]
    assert holidays_on(date(2026, 2, 16)) == []
    assert sorted(SPRING_FESTIVAL) == list(range(2025, 2031)) == sorted(MID_AUTUMN)


def test_configured_holidays_yearly_and_once() -> None:
    configured = parse_holidays("national_day:10-01, anniversary:2026-06-18")
    assert configured == (Holiday("national_day", 10, 1), Holiday("anniversary", 6, 18, 2026))
    assert holidays_on(date(2027, 10, 1), configured) == ["national_day"]
    assert holidays_on(date(2026, 6, 18), configured) == ["anniversary"]
    assert holidays_on(date(2027, 6, 18), configured) == []


@pytest.mark.parametrize("spec", ["national_day", "x:13-01", "bad code:10-01", "y:2026-02-30"])
def test_bad_holiday_settings_are_refused(spec: str) -> None:
    with pytest.raises(InvalidInput):
        parse_holidays(spec)


def test_birthdays_and_the_29th_of_february() -> None:
    assert is_birthday(date(1990, 3, 10), date(2026, 3, 10))
    assert not is_birthday(date(1990, 3, 10), date(2026, 3, 11))
    assert is_birthday(date(2000, 2, 29), date(2026, 2, 28))
    assert not is_birthday(date(2000, 2, 29), date(2028, 2, 28))
    assert is_birthday(date(2000, 2, 29), date(2028, 2, 29))


def test_onboarding_days_and_the_first_purchase_nudge() -> None:
    joined = date(2026, 1, 1)
    assert onboarding_steps_due(joined, joined, False) == ["welcome"]
    assert onboarding_steps_due(joined, date(2026, 1, 8), False) == ["first_purchase"]
    assert onboarding_steps_due(joined, date(2026, 1, 8), True) == []
    assert onboarding_steps_due(joined, date(2026, 1, 31), True) == ["check_in_30"]
    assert onboarding_steps_due(joined, date(2026, 4, 1), True) == ["check_in_90"]
    assert onboarding_steps_due(joined, date(2026, 4, 20), True) == []


def test_time_zone_and_language_of_a_member() -> None:
    assert member_zone({"timezone": "Asia/Shanghai"}, "UTC") == SHANGHAI
    assert member_zone({"timezone": "Mars/Olympus"}, "America/New_York") == NEW_YORK
    assert member_zone({}, "nonsense") == ZoneInfo("UTC")
    assert member_language({"language": "zh-CN"}) == "zh-CN"
    assert member_language({"language": "zh"}) == "zh-CN"
    assert member_language({"language": "fr"}) == "en"
    assert member_language({}) == "en"


def test_quiet_hours_span_midnight_in_the_members_zone() -> None:
    late = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai, 11:00 in New York
    assert QUIET.ends_at(late, SHANGHAI) == datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)
    assert QUIET.ends_at(late, NEW_YORK) is None
    early = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)  # 06:00 on the 11th in Shanghai
    assert QUIET.ends_at(early, SHANGHAI) == datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)
    day = QuietHours(time(12), time(14))
    assert day.ends_at(datetime(2026, 3, 10, 4, 30, tzinfo=UTC), SHANGHAI) is not None
    assert QuietHours.parse("") is None
    with pytest.raises(InvalidInput):
        QuietHours.parse("late")


def test_a_message_waits_is_skipped_or_goes() -> None:
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    c = contact()
    assert decide_member_message(c, "email", now, NEW_YORK, QUIET, 0, 3) == Send()
    waiting = decide_member_message(c, "email", now, SHANGHAI, QUIET, 0, 3)
    assert isinstance(waiting, Wait) and waiting.until == datetime(2026, 3, 11, tzinfo=UTC)
    capped = decide_member_message(c, "email", now, NEW_YORK, QUIET, 3, 3)
    assert isinstance(capped, Skip) and "frequency cap" in capped.reason
    assert decide_member_message(c, "email", now, NEW_YORK, None, 99, 0) == Send()
    withdrawn = contact(consents={"email": False})
    assert decide_member_message(withdrawn, "email", now, SHANGHAI, QUIET, 0, 3) == Skip(
        "no email consent"
    )


def test_channel_is_the_first_consented_one_with_an_address() -> None:
    assert choose_channel(contact()) == ("email", "li@example.com")
    assert choose_channel(contact(consents={"sms": True, "email": False})) == (
        "sms",
        "+8613800000000",
    )
    wechat = contact(consents={"wechat": True}, attributes={"wechat_openid": "o-123"})
    assert choose_channel(wechat) == ("wechat", "o-123")
    assert choose_channel(contact(email=None, consents={"email": True})) is None
    assert choose_channel(contact(erased=True)) is None


def test_backoff_doubles_up_to_a_ceiling() -> None:
    assert [backoff(n, 30).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(40, 30) == timedelta(hours=6)


def test_unsubscribe_tokens_cannot_be_forged_or_re_pointed() -> None:
    token = sign_unsubscribe("secret", 42, "email")
    assert read_unsubscribe("secret", token) == (42, "email")
    forged = token.replace("42.", "43.", 1)
    for bad in (forged, token.replace("email", "sms"), "42.email.x", "nonsense"):
        with pytest.raises(NotFound):
            read_unsubscribe("secret", bad)
    with pytest.raises(NotFound):
        read_unsubscribe("other secret", token)


def test_webhook_signature_covers_timestamp_and_body() -> None:
    signature = webhook_signature("s3cret", 1_700_000_000, b'{"a":1}')
    assert signature.startswith("v1=") and len(signature) == 67
    assert signature != webhook_signature("s3cret", 1_700_000_001, b'{"a":1}')
    assert signature != webhook_signature("s3cret", 1_700_000_000, b'{"a":2}')
