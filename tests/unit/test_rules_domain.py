"""Earning rules without a database: CEL checks with positions, actions, stacking, periods."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from patronage.domain.rules import (
    Campaign,
    CampaignTrace,
    Rule,
    action_cashback,
    action_points,
    check_expression,
    choose,
    distribute,
    evaluate,
    event_context,
    period_start,
    validate_campaign,
    validate_rule,
)
from patronage.errors import InvalidInput

SAT = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)  # a Saturday
ITEMS = [
    {"sku": "latte", "category": "coffee", "quantity": 2, "price": "30"},
    {"sku": "bagel", "category": "food", "quantity": 1, "price": "40"},
]


def event(amount: str = "100", items: list[dict[str, object]] | None = None) -> dict[str, object]:
    return event_context(
        "purchase", SAT, "UTC", Decimal(amount), ITEMS if items is None else items, "app", "s1", {}
    )


def rule(action: str, value: str, item_filter: str | None = None, **kw: object) -> Rule:
    return Rule("r", "R", "true", action, Decimal(value), item_filter=item_filter, **kw)  # type: ignore[arg-type]


def test_syntax_error_has_line_and_column() -> None:
    problem = check_expression("event.amount >\n  && 3", ("event", "member"))
    assert problem is not None
    assert (problem.line, problem.column) == (2, 3)


def test_unknown_name_and_function_are_located() -> None:
    problem = check_expression('member.tier == "gold" && evnt.amount > 1', ("event", "member"))
    assert problem is not None and "evnt" in problem.message
    assert (problem.line, problem.column) == (1, 26)
    problem = check_expression("isWeekend(event.occurred_at)", ("event", "member"))
    assert problem is not None and "isWeekend" in problem.message


def test_macro_variables_are_allowed_and_results_must_be_bool() -> None:
    assert check_expression('event.items.exists(i, i.category == "coffee")', ("event",)) is None
    problem = check_expression("event.amount", ("event",))
    assert problem is not None and "true or false" in problem.message
    problem = check_expression("event.amount + 1 > 2", ("event",))
    assert problem is not None and "type error" in problem.message


def test_validate_rule_reports_field_and_position() -> None:
    bad = Rule("r", "R", "event.amount >", "bonus", Decimal(5))
    with pytest.raises(InvalidInput) as raised:
        validate_rule(bad, "rules[0].")
    assert raised.value.details["field"] == "rules[0].condition"
    assert raised.value.details["line"] == 1 and raised.value.details["column"] == 15
    with pytest.raises(InvalidInput) as raised:
        validate_rule(Rule("r", "R", "true", "per_item", Decimal(1), item_filter="item.x >"))
    assert raised.value.details["field"] == "item_filter"
    with pytest.raises(InvalidInput):
        validate_rule(Rule("r", "R", "true", "tenfold", Decimal(1)))
    with pytest.raises(InvalidInput):
        validate_rule(Rule("r", "R", "true", "multiplier", Decimal(2), on="check_in"))
    with pytest.raises(InvalidInput) as raised:
        validate_campaign(Campaign("c", "C", segment="member.tier ==", stacking="stack"))
    assert raised.value.details["field"] == "segment"
    with pytest.raises(InvalidInput):
        validate_campaign(Campaign("c", "C", stacking="sometimes"))
    with pytest.raises(InvalidInput):
        validate_campaign(Campaign("c", "C", caps={"hour": 5}))


def test_evaluation_errors_do_not_fire() -> None:
    outcome = evaluate("member.attributes.vip == true", {"member": {"attributes": {}}})
    assert outcome.value is False and outcome.error is not None
    assert evaluate("1 / 0 == 1", {}).value is False


def test_each_action() -> None:
    ev = event()
    assert action_points(rule("per_unit", "2"), ev, 100) == (200, None)
    assert action_points(rule("per_unit", "1", 'item.category == "coffee"'), ev, 100) == (60, None)
    assert action_points(rule("multiplier", "2"), ev, 150) == (150, None)
    assert action_points(rule("multiplier", "3", 'item.category == "coffee"'), ev, 100) == (
        120,
        None,
    )
    assert action_points(rule("bonus", "50"), ev, 0) == (50, None)
    assert action_points(rule("per_item", "5", 'item.category == "coffee"'), ev, 0) == (10, None)
    assert action_points(rule("per_item", "5"), ev, 0) == (15, None)
    points, error = action_points(rule("per_item", "5", "item.nope == 1"), ev, 0)
    assert points == 0 and error is not None


def test_rounding_is_down() -> None:
    assert action_points(rule("per_unit", "0.5"), event("9.99"), 9) == (4, None)
    assert action_points(rule("multiplier", "1.5"), event("9.99"), 9) == (4, None)


def trace(code: str, stacking: str, points: int, priority: int = 0) -> CampaignTrace:
    c = CampaignTrace(code, code, stacking, priority)
    c.points = points
    return c


def test_stacking_stack_all() -> None:
    a, b = trace("a", "stack", 10), trace("b", "stack", 20)
    choose([a, b])
    assert a.decision.startswith("earns") and b.decision.startswith("earns")


def test_stacking_exclusive_wins_alone_by_priority() -> None:
    a, b, c = trace("a", "stack", 10), trace("b", "exclusive", 5, 1), trace("c", "exclusive", 50)
    choose([a, b, c])
    assert b.decision == "earns (exclusive)"
    assert "excluded" in a.decision and "excluded" in c.decision


def test_stacking_best_of_keeps_the_largest() -> None:
    a, b, c = trace("a", "best_of", 10), trace("b", "best_of", 30), trace("s", "stack", 1)
    choose([a, b, c])
    assert b.decision == "earns (best of)" and "not the best" in a.decision
    assert c.decision == "earns (stacks)"


def test_distribute_caps_in_priority_order() -> None:
    from patronage.domain.rules import RuleTrace

    one, two = RuleTrace("a", 1, "A", "c", "active"), RuleTrace("b", 1, "B", "c", "active")
    one.points, two.points = 300, 300
    distribute(500, [one, two])
    assert (one.awarded, two.awarded) == (300, 200)


def test_periods_in_program_time_zone() -> None:
    at = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)  # Sunday 04:00 in Shanghai
    assert period_start("day", at, "Asia/Shanghai", None) == datetime(2026, 3, 14, 16, tzinfo=UTC)
    assert period_start("week", at, "UTC", None) == datetime(2026, 3, 9, tzinfo=UTC)
    assert period_start("month", at, "UTC", None) == datetime(2026, 3, 1, tzinfo=UTC)
    campaign = Campaign("c", "C", starts_at=datetime(2026, 3, 2, tzinfo=UTC))
    assert period_start("campaign", at, "UTC", campaign) == campaign.starts_at
    ev = event_context("purchase", at, "Asia/Shanghai", None, None, None, None, None)
    assert ev["day_of_week"] == 0 and ev["hour"] == 4


def test_cashback_is_rounded_down_in_minor_units_and_capped() -> None:
    assert action_cashback(rule("cashback", "3"), event("88.85")) == (266, None)  # 2.6655
    assert action_cashback(rule("cashback", "10", cap_minor=500), event("100")) == (500, None)
    coffee = rule("cashback", "10", item_filter='item.category == "coffee"')
    assert action_cashback(coffee, event("100")) == (600, None)  # 60.00 of coffee
    assert action_cashback(coffee, event("50")) == (500, None)  # never above the amount
    assert action_cashback(rule("cashback_fixed", "250"), event("1")) == (250, None)
    broken = rule("cashback", "5", item_filter="item.missing == 1")
    minor, error = action_cashback(broken, event("100"))
    assert minor == 0 and error is not None


def test_cashback_rules_are_checked_naming_the_field() -> None:
    validate_rule(rule("cashback", "100", cap_minor=1))
    for bad, field in (
        (rule("cashback", "100.5"), "value"),
        (rule("cashback_fixed", "1.5"), "value"),
        (rule("multiplier", "2", cap_minor=10), "cap_minor"),
        (rule("cashback", "5", cap_minor=10**13), "cap_minor"),
        (rule("cashback", "5", on="review_written"), "action"),
        (rule("cashback_fixed", "5", item_filter="true"), "item_filter"),
    ):
        with pytest.raises(InvalidInput) as refused:
            validate_rule(bad, "rules[3].")
        assert refused.value.details["field"] == f"rules[3].{field}"
