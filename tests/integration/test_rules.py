"""Earning rules on a real database (SQLite and PostgreSQL): the earn path, caps and
budgets at their edges, stacking, custom events, versions and labels, YAML, simulation
and replay writing nothing, and the budget under concurrent events on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.errors import InvalidInput
from patronage.services import rules
from patronage.services.balances import explain_balance
from patronage.services.events import EventRequest, record_event
from patronage.services.tiers import override_tier
from patronage.storage.rules_repository import RulesRepository
from patronage.storage.rules_tables import CampaignRow
from patronage.storage.tables import LedgerEntryRow, metadata

SATURDAY = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
BAD = 'member.tier == "gold" &&\n   event.amount >'
COFFEE = [{"sku": "latte", "category": "coffee", "quantity": 1, "price": "100"}]
WEEKEND_YAML = """
program: default
campaigns:
  - code: coffee-weekend
    name: Coffee weekends
    starts_at: 2026-03-01T00:00:00+00:00
    ends_at: 2026-07-01T00:00:00+00:00
    segment: member.tier == "gold"
    caps: {month: 500}
    stacking: stack
rules:
  - code: double-weekend
    name: Double points weekend
    campaign: coffee-weekend
    event_type: purchase
    condition: event.day_of_week in [0, 6]
    action: multiplier
    value: 2
    item_filter: item.category == "coffee"
"""


@pytest.fixture
def shop(engine: Engine) -> Shop:
    return Shop(engine, FixedClock(SATURDAY))


def campaign(shop: Shop, **body: Any) -> dict[str, Any]:
    return rules.save_campaign(shop.uow(), {"name": body["code"].title(), **body}, "test")


def entries(shop: Shop) -> list[dict[str, Any]]:
    """The details of every ledger entry, oldest first."""
    with shop.uow() as uow:
        query = select(LedgerEntryRow.details).order_by(LedgerEntryRow.id)
        return [dict(d or {}) for d in uow.session.scalars(query)]


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def spent(shop: Shop, code: str) -> int:
    with shop.uow() as uow:
        return uow.session.scalars(select(CampaignRow.spent).where(CampaignRow.code == code)).one()


def test_no_rules_keeps_the_default_program(shop: Shop) -> None:
    result = shop.buy(shop.member(), "100.00")
    assert result.points_earned == 100
    assert "rules" not in entries(shop)[0]


def test_double_points_weekend_for_gold_capped_at_500_a_month(shop: Shop) -> None:
    report = rules.import_yaml(shop.uow(), WEEKEND_YAML)
    assert (report.created, report.updated) == (2, 0)
    gold = shop.member("g1")
    override_tier(shop.uow(), gold.id, "gold", SATURDAY + timedelta(days=400), "vip", "test")
    plain = shop.member("m1")
    # gold: base 150 for 100.00 of coffee; the rule adds one more base
    assert shop.buy(gold, "100.00", items=COFFEE).points_earned == 300
    assert shop.buy(plain, "100.00", items=COFFEE).points_earned == 100  # not in segment
    # on a weekday the rule does not fire
    monday = SATURDAY + timedelta(days=2)
    assert shop.buy(gold, "100.00", items=COFFEE, at=monday).points_earned == 150
    # the cap: 150 used; 300 more, then 50 (the edge), then nothing
    assert shop.buy(gold, "200.00", items=COFFEE * 2).points_earned == 300 + 300
    assert shop.buy(gold, "100.00", items=COFFEE).points_earned == 150 + 50
    assert shop.buy(gold, "100.00", items=COFFEE).points_earned == 150
    # a new month, a new cap
    april = datetime(2026, 4, 4, 12, tzinfo=UTC)
    assert shop.buy(gold, "100.00", items=COFFEE, at=april).points_earned == 300
    lots = explain_balance(shop.uow(), gold.id)["lots"]
    assert lots[0]["source"]["rules"] == ["+150: Double points weekend (v1)"]
    earn = entries(shop)[0]
    assert earn["rules"] == [
        {
            "rule": "double-weekend",
            "version": 1,
            "points": 150,
            "label": "Double points weekend (v1)",
            "campaign": "coffee-weekend",
        }
    ]
    assert earn["base_points"] == 150


def test_versions_and_labels(shop: Shop) -> None:
    member = shop.member()
    shop.rule(code="bonus", name="Welcome bonus", action="bonus", value=10)
    shop.buy(member, "10.00")
    v2 = rules.save_rule(
        shop.uow(),
        {"name": "Welcome bonus", "condition": "true", "action": "bonus", "value": 25},
        "test",
        code="bonus",
    )
    assert v2["version"] == 2
    shop.buy(member, "10.00")
    labels = [s["source"]["rules"] for s in explain_balance(shop.uow(), member.id)["lots"]]
    assert labels == [["+10: Welcome bonus (v1)"], ["+25: Welcome bonus (v2)"]]
    old = rules.get_rule(shop.uow(), "bonus", version=1)
    assert old["value"] == 10 and [v["version"] for v in old["versions"]] == [1, 2]
    rules.disable_rule(shop.uow(), "bonus", "test")
    assert shop.buy(member, "10.00").points_earned == 10
    assert rules.get_rule(shop.uow(), "bonus")["version"] == 3


def test_each_action_through_the_earn_path(shop: Shop) -> None:
    member = shop.member()
    shop.rule(code="unit", action="per_unit", value="0.5")
    shop.rule(code="mult", action="multiplier", value=2)
    shop.rule(code="fixed", action="bonus", value=7)
    shop.rule(code="items", action="per_item", value=3, item_filter='item.category == "coffee"')
    items = [{"sku": "latte", "category": "coffee", "quantity": 2, "price": "20"}]
    result = shop.buy(member, "40.00", items=items)
    assert result.points_earned == 40 + 20 + 40 + 7 + 6
    got = {r["rule"]: r["points"] for r in entries(shop)[0]["rules"]}
    assert got == {"unit": 20, "mult": 40, "fixed": 7, "items": 6}
    # a refund claws back the bonus points in proportion too
    assert shop.refund(member, "o1", "40.00").points_reversed == 113


def test_stacking_modes(shop: Shop) -> None:
    member = shop.member()
    campaign(shop, code="s", stacking="stack")
    campaign(shop, code="b1", stacking="best_of")
    campaign(shop, code="b2", stacking="best_of")
    shop.rule(code="r-s", campaign="s", action="bonus", value=1)
    shop.rule(code="r-b1", campaign="b1", action="bonus", value=10)
    shop.rule(code="r-b2", campaign="b2", action="bonus", value=20)
    assert shop.buy(member, "1.00").points_earned == 1 + 1 + 20
    campaign(shop, code="x", stacking="exclusive", priority=5)
    shop.rule(code="r-x", campaign="x", action="bonus", value=3)
    assert shop.buy(member, "1.00").points_earned == 1 + 3
    # an exclusive campaign that does not fire excludes nothing
    rules.save_rule(
        shop.uow(),
        {"name": "X", "condition": "event.amount > 100.0", "action": "bonus", "value": 3,
         "campaign": "x"},
        "test",
        code="r-x",
    )  # fmt: skip
    assert shop.buy(member, "1.00").points_earned == 1 + 1 + 20


def test_budget_at_its_edge(shop: Shop) -> None:
    member = shop.member()
    campaign(shop, code="small", budget=25)
    shop.rule(code="ten", campaign="small", action="bonus", value=10)
    assert [shop.buy(member, "1.00").points_earned for _ in range(4)] == [11, 11, 6, 1]
    assert spent(shop, "small") == 25


def test_budgets_of_two_campaigns_spent_together(shop: Shop) -> None:
    member = shop.member()
    campaign(shop, code="a", budget=15)
    campaign(shop, code="b", budget=100)
    shop.rule(code="ten-a", campaign="a", action="bonus", value=10)
    shop.rule(code="ten-b", campaign="b", action="bonus", value=10)
    assert [shop.buy(member, "1.00").points_earned for _ in range(3)] == [21, 16, 11]
    assert (spent(shop, "a"), spent(shop, "b")) == (15, 30)


def statements_of_a_purchase(shop: Shop, member: Any) -> list[str]:
    """The SQL statements one purchase sends (after one more to warm the caches)."""
    shop.buy(member, "1.00")
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(shop.engine, "before_cursor_execute", note)
    try:
        shop.buy(member, "1.00")
    finally:
        event.remove(shop.engine, "before_cursor_execute", note)
    return sent


def test_rules_add_a_read_and_a_write_to_a_purchase(shop: Shop) -> None:
    """ADR 0010: the campaigns' state is read by one statement, and the awards and the
    budgets of both campaigns are written by the last one (PostgreSQL; SQLite
    writes awards and budgets one after the other)."""
    member = shop.member()
    plain = statements_of_a_purchase(shop, member)
    campaign(shop, code="a", budget=1000, caps={"day": 500})
    campaign(shop, code="b", budget=1000)
    shop.rule(code="ten-a", campaign="a", action="bonus", value=10)
    shop.rule(code="ten-b", campaign="b", action="bonus", value=10)
    with_rules = statements_of_a_purchase(shop, member)
    on_postgres = shop.engine.dialect.name == "postgresql"
    assert len(with_rules) - len(plain) == (2 if on_postgres else 3)
    if on_postgres:
        last = " ".join(with_rules[-1].split())
        assert last.startswith("WITH awarded0 AS (INSERT INTO rule_awards")
        assert "UPDATE campaigns SET spent" in last
    assert (spent(shop, "a"), spent(shop, "b")) == (20, 20)


def test_spending_budgets_grants_what_is_left(shop: Shop) -> None:
    campaign(shop, code="a", budget=5)
    campaign(shop, code="b", budget=50)
    with shop.uow() as uow:
        ids = list(uow.session.scalars(select(CampaignRow.id).order_by(CampaignRow.code)))
        repo = RulesRepository(uow.session)
        assert not repo.award_and_spend([], {ids[0]: 10, ids[1]: 10})
        uow.rollback()
        assert repo.spend_budgets({ids[0]: 10, ids[1]: 10, 999: 0}) == {
            ids[0]: 5,
            ids[1]: 10,
            999: 0,
        }
        assert repo.award_and_spend([], {ids[1]: 40})
        assert not repo.award_and_spend([], {ids[1]: 1})
        uow.commit()
    assert (spent(shop, "a"), spent(shop, "b")) == (5, 50)


def test_caps_per_day_week_and_campaign(shop: Shop) -> None:
    member = shop.member()
    campaign(shop, code="c", caps={"day": 15, "week": 25, "campaign": 30})
    shop.rule(code="ten", campaign="c", action="bonus", value=10)
    day = SATURDAY - timedelta(days=5)  # Monday
    got = [shop.buy(member, "1.00", at=day + timedelta(hours=h)).points_earned for h in (0, 1)]
    assert got == [11, 6]  # 15 a day
    assert (
        shop.buy(member, "1.00", at=day + timedelta(days=1)).points_earned == 11
    )  # week 25 left 10
    assert shop.buy(member, "1.00", at=day + timedelta(days=2)).points_earned == 1  # week full
    assert shop.buy(member, "1.00", at=day + timedelta(days=7)).points_earned == 6  # campaign 30


def test_campaign_dates_and_drafts(shop: Shop) -> None:
    member = shop.member()
    campaign(shop, code="later", starts_at="2026-04-01T00:00:00+00:00")
    shop.rule(code="later-bonus", campaign="later", action="bonus", value=5)
    shop.rule(code="draft-bonus", action="bonus", value=5, status="draft")
    assert shop.buy(member, "1.00").points_earned == 1
    assert shop.buy(member, "1.00", at=datetime(2026, 4, 2, tzinfo=UTC)).points_earned == 6


def test_custom_events_earn_with_a_frequency_limit(shop: Shop) -> None:
    member = shop.member()
    shop.rule(
        code="check-in",
        event_type="check_in",
        action="bonus",
        value=5,
        limit={"count": 2, "per": "day"},
    )
    shop.rule(code="review", event_type="review_written", action="bonus", value=20)

    def custom(kind: str, at: datetime) -> int:
        request = EventRequest(type=kind, member_id=member.id, occurred_at=at)
        return record_event(shop.uow(), request).points_earned

    assert [custom("check_in", SATURDAY + timedelta(minutes=m)) for m in range(3)] == [5, 5, 0]
    assert custom("check_in", SATURDAY + timedelta(days=1)) == 5
    assert custom("review_written", SATURDAY) == 20
    assert custom("app_opened", SATURDAY) == 0


def test_errors_at_event_time_do_not_fire_and_bad_rules_are_refused(shop: Shop) -> None:
    member = shop.member()
    shop.rule(code="vip", condition="member.attributes.vip == true", action="bonus", value=5)
    assert shop.buy(member, "1.00").points_earned == 1
    with pytest.raises(InvalidInput) as raised:
        shop.rule(code="bad", condition=BAD, action="bonus", value=1)
    assert raised.value.details["field"] == "condition"
    assert (raised.value.details["line"], raised.value.details["column"]) == (2, 18)
    with pytest.raises(InvalidInput) as raised:
        rules.import_yaml(shop.uow(), WEEKEND_YAML + "  - {code: x}\n")
    assert raised.value.details["field"].startswith("rules[1].")
    assert rules.list_rules(shop.uow()) != [] and len(rules.list_campaigns(shop.uow())) == 0


def test_yaml_round_trip(shop: Shop) -> None:
    rules.import_yaml(shop.uow(), WEEKEND_YAML)
    shop.rule(code="check-in", event_type="check_in", action="bonus", value=5,
        limit={"count": 1, "per": "day"})  # fmt: skip
    exported = rules.export_yaml(shop.uow())
    again = rules.import_yaml(shop.uow(), exported)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert rules.export_yaml(shop.uow()) == exported
    changed = rules.import_yaml(shop.uow(), exported.replace("value: 2", "value: 3"))
    assert changed.updated == 1
    assert rules.get_rule(shop.uow(), "double-weekend")["version"] == 2


def test_simulate_explains_and_writes_nothing(shop: Shop, engine: Engine) -> None:
    rules.import_yaml(shop.uow(), WEEKEND_YAML)
    member = shop.member()
    shop.buy(member, "100.00", items=COFFEE)
    before = counts(engine)
    result = rules.simulate(
        shop.uow(),
        {
            "event": {"amount": "400", "items": [{**COFFEE[0], "price": "400"}]},
            "member": {"tier": "gold"},
        },
    )
    assert result["base_points"] == 600 and result["rule_points"] == 500
    (trace,) = result["rules"]
    assert trace["condition"] is True and trace["decision"] == "capped: 500 of 600"
    assert result["campaigns"][0]["caps"]["month"] == {"cap": 500, "used": 0, "left": 500}
    stored = rules.simulate(shop.uow(), {"event": {"amount": "10"}, "member_id": member.id})
    assert stored["rules"][0]["decision"] == "member not in the campaign's segment"
    assert counts(engine) == before


def test_replay_reports_and_writes_nothing(shop: Shop, engine: Engine) -> None:
    members = [shop.member(f"m{i}") for i in range(3)]
    for i, m in enumerate(members):
        shop.buy(m, "100.00", items=COFFEE)  # Saturday
        shop.buy(m, "50.00", at=SATURDAY + timedelta(days=2 + i))  # weekdays
    campaign(shop, code="wk", caps={"month": 500}, budget=250, status="draft")
    shop.rule(code="dbl", campaign="wk", action="multiplier", value=2,
        condition="event.day_of_week in [0, 6]", status="draft")  # fmt: skip
    before = counts(engine)
    report = rules.replay(
        shop.uow(),
        "wk",
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
        point_value=Decimal("0.02"),
    )
    assert (report.events, report.events_earning) == (6, 3)
    assert report.points == 250 and report.budget_exhausted
    assert report.members == 3 and report.cost == Decimal("5.00")
    assert counts(engine) == before


def buy_concurrently(shop: Shop, prefix: str, members: int = 8, each: int = 5) -> None:
    """``members`` new members buy ``each`` times at 1.00, one thread per member."""
    buyers = [shop.member(f"{prefix}{i}") for i in range(members)]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for j in range(each):
                shop.buy(buyers[n], "1.00", order_id=f"{prefix}{n}-{j}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(members)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_budget_is_never_overspent_under_concurrency(engine: Engine) -> None:
    shop = Shop(engine, FixedClock(SATURDAY))
    campaign(shop, code="tiny", budget=95)
    shop.rule(code="seven", campaign="tiny", action="bonus", value=7)
    buy_concurrently(shop, "t")
    with shop.uow() as uow:
        issued = uow.session.scalar(text("SELECT coalesce(sum(points), 0) FROM rule_awards"))
    assert issued == 95 == spent(shop, "tiny")


def test_two_budgets_under_concurrency_never_overspent_nor_deadlocked(engine: Engine) -> None:
    shop = Shop(engine, FixedClock(SATURDAY))
    campaign(shop, code="one", budget=60)
    campaign(shop, code="two", budget=95)
    shop.rule(code="five", campaign="one", action="bonus", value=5)
    shop.rule(code="seven", campaign="two", action="bonus", value=7)
    buy_concurrently(shop, "d")
    with shop.uow() as uow:
        issued = uow.session.scalar(text("SELECT coalesce(sum(points), 0) FROM rule_awards"))
    assert (spent(shop, "one"), spent(shop, "two")) == (60, 95)
    assert issued == 60 + 95


def test_budget_taken_meanwhile_is_decided_again(engine: Engine) -> None:
    """The event spends budgets by its last statement: when a concurrent event took what
    its decision counted on, it is recorded again and gets what is left."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing is taken meanwhile")
    shop = Shop(engine, FixedClock(SATURDAY))
    member = shop.member()
    campaign(shop, code="small", budget=25)
    shop.rule(code="ten", campaign="small", action="bonus", value=10)
    taken: list[str] = []

    def take_meanwhile(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO orders") and not taken:  # decided, not spent
            taken.append(statement)
            with engine.connect() as other:  # a concurrent event's spend, committed
                other.execute(text("UPDATE campaigns SET spent = 20 WHERE code = 'small'"))
                other.commit()

    event.listen(engine, "before_cursor_execute", take_meanwhile)
    try:
        result = shop.buy(member, "1.00")
    finally:
        event.remove(engine, "before_cursor_execute", take_meanwhile)
    assert taken and result.points_earned == 1 + 5
    assert spent(shop, "small") == 25
    with shop.uow() as uow:
        assert uow.session.scalar(text("SELECT sum(points) FROM rule_awards")) == 5
        assert uow.session.scalar(text("SELECT count(*) FROM orders")) == 1
