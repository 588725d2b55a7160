"""A campaign targeting a saved segment (``"code" in member.segments``) on both
databases: only the segment's members earn its bonus, a refresh changes who does, and
simulation takes the member's segments inline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from tests.factories import Shop
from tests.segment_data import AS_OF, five_customers

from patronage.clock import FixedClock
from patronage.domain.members import Member
from patronage.services import rules, segments
from patronage.services.segments import NewSegment

BONUS = 250


def _target_champions(shop: Shop) -> None:
    segments.save_from_rfm(shop.uow(), NewSegment("champions_mar"), ["Champions"], AS_OF, "t")
    rules.save_campaign(
        shop.uow(),
        {"code": "vip", "name": "VIP", "segment": '"champions_mar" in member.segments'},
        "t",
    )
    rules.save_rule(
        shop.uow(),
        {"code": "vip-bonus", "name": "VIP bonus", "campaign": "vip", "condition": "true"}
        | {"action": "bonus", "value": BONUS},
        "t",
    )


def _earned(shop: Shop, external_id: str) -> int:
    with shop.uow() as uow:
        program_id = uow.programs.get("default").id or 0
        member = uow.members.by_external_id(program_id, external_id)
    assert isinstance(member, Member)
    return shop.buy(member, "10.00").points_earned


def test_only_the_segments_members_earn_the_campaign_bonus(
    engine: Engine, clock: FixedClock
) -> None:
    shop = Shop(engine, clock)
    five_customers(shop)
    _target_champions(shop)
    plain = 10  # 10.00 at the default one point per 1.00
    assert {x: _earned(shop, x) for x in "abcde"} == {
        "a": plain + BONUS,
        "b": plain + BONUS,
        "c": plain,
        "d": plain,
        "e": plain,
    }
    # Refreshed on the last purchase day (today), when everyone has just bought: all
    # tie on recency and score R = 1, so nobody is a Champion and nobody gets the bonus.
    refreshed = segments.refresh_segment(shop.uow(), "default", "champions_mar", "t")
    assert refreshed.member_count == 0
    assert _earned(shop, "a") == plain


def test_simulate_takes_segments_inline_and_from_the_stored_member(
    engine: Engine, clock: FixedClock
) -> None:
    shop = Shop(engine, clock)
    ids = five_customers(shop)
    _target_champions(shop)
    event = {"type": "purchase", "amount": "10.00"}

    def bonus(**who: Any) -> int:
        result = rules.simulate(shop.uow(), {"event": event, **who})
        return int(result["rule_points"])

    assert bonus(member={"tier": "member", "segments": ["champions_mar"]}) == BONUS
    assert bonus(member={"tier": "member", "segments": ["other"]}) == 0
    assert bonus(member={"tier": "member"}) == 0
    assert bonus(member_id=ids["a"]) == BONUS
    assert bonus(member_id=ids["c"]) == 0
