"""What the program designer adds to the services, on SQLite and PostgreSQL: changing a
tier (whole ladder checked, audited), repricing a reward, listing coupon batches and
generating codes in steps that each run once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.domain.coupons import Discount
from patronage.domain.program import Tier
from patronage.domain.tiers import check_ladder
from patronage.errors import InvalidInput, NotFound, RuleViolation
from patronage.services.background_jobs import (
    job_view,
    queue_coupon_codes,
    recent_jobs,
    run_job,
)
from patronage.services.coupon_batches import (
    NewBatch,
    create_batch,
    generate_in_steps,
    get_batch,
    list_batches,
)
from patronage.services.reward_pricing import revise_reward
from patronage.services.rewards import NewReward, add_reward, get_reward
from patronage.services.tier_ladder import change_tier, program_ladder
from patronage.storage.tables import AuditRow, CouponRow


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    return Shop(engine, clock)


def _audit(shop: Shop, action: str) -> list[AuditRow]:
    with shop.engine.connect() as conn:
        return list(conn.execute(select(AuditRow).where(AuditRow.action == action)).all())


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([Tier("a", "A", 0, 10), Tier("b", "B", 1, 20)], "tiers.a.threshold"),
        ([Tier("a", "A", 0, 0), Tier("b", "B", 1, 0)], "tiers.b.threshold"),
        ([Tier("a", "A", 0, 0, Decimal("0.5"))], "tiers.a.multiplier"),
        ([Tier("a", "A", 0, 0, Decimal("1.00001"))], "tiers.a.multiplier"),
        ([Tier("a", "A", 0, 0, Decimal("NaN"))], "tiers.a.multiplier"),
        ([Tier("a", "A", 0, 0), Tier("b", "B", 1, 10**13)], "tiers.b.threshold"),
    ],
)
def test_a_ladder_that_cannot_be_climbed_is_refused(tiers: list[Tier], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_ladder(tiers)
    assert refused.value.details["field"] == field


def test_changing_a_tier_is_stored_and_audited(shop: Shop) -> None:
    program = change_tier(shop.uow(), "silver", 1500, Decimal("1.3"), "web:ann", "more silver")
    assert (program.tier("silver").threshold, program.tier("silver").multiplier) == (
        1500,
        Decimal("1.3"),
    )
    assert program_ladder(shop.uow()).tier("silver").threshold == 1500
    (entry,) = _audit(shop, "tier_changed")
    assert entry.before["threshold"] == 1000 and entry.after == {
        "threshold": 1500,
        "multiplier": "1.3",
    }
    change_tier(shop.uow(), "silver", 1500, Decimal("1.30"), "web:ann", "same again")
    assert len(_audit(shop, "tier_changed")) == 1  # nothing changed, nothing recorded


def test_a_refused_tier_change_leaves_the_ladder_alone(shop: Shop) -> None:
    with pytest.raises(InvalidInput) as above:
        change_tier(shop.uow(), "silver", 5000, Decimal("1.25"), "web:ann", "too high")
    assert above.value.details["field"] == "tiers.gold.threshold"
    with pytest.raises(InvalidInput):
        change_tier(shop.uow(), "silver", 900, Decimal("1.25"), "web:ann", "  ")
    with pytest.raises(NotFound):
        change_tier(shop.uow(), "platinum", 9000, Decimal(2), "web:ann", "new")
    assert program_ladder(shop.uow()).tier("silver").threshold == 1000
    assert _audit(shop, "tier_changed") == []


def test_repricing_a_reward_checks_it_like_a_new_one(shop: Shop) -> None:
    reward = add_reward(
        shop.uow(),
        NewReward(code="mug", name="Mug", points=500, discount=Discount("percent", 5)),
        "test",
    )
    ends = shop.clock() + timedelta(days=30)
    revised = revise_reward(shop.uow(), reward.id, "web:ann", 450, {"gold": 400}, None, ends)
    assert (revised.points, revised.tier_prices, revised.valid_to) == (450, {"gold": 400}, ends)
    assert len(_audit(shop, "reward_revised")) == 1
    with pytest.raises(InvalidInput) as unknown:
        revise_reward(shop.uow(), reward.id, "web:ann", 450, {"diamond": 1}, None, None)
    assert unknown.value.details["field"] == "tier_prices.diamond"
    with pytest.raises(InvalidInput):
        revise_reward(shop.uow(), reward.id, "web:ann", 0, {}, None, None)
    assert get_reward(shop.uow(), reward.id).points == 450
    assert len(_audit(shop, "reward_revised")) == 1


def test_codes_generated_in_steps_are_added_once_per_key(shop: Shop) -> None:
    batch = create_batch(shop.uow(), NewBatch(name="Launch", discount=Discount("percent", 10)))
    assert generate_in_steps(shop.uow(), batch.id, 25, "form-1", step=10) == 25
    assert get_batch(shop.uow(), batch.id).codes == 25
    assert generate_in_steps(shop.uow(), batch.id, 25, "form-1", step=10) == 25  # replayed
    assert get_batch(shop.uow(), batch.id).codes == 25
    generate_in_steps(shop.uow(), batch.id, 5, "form-2", step=10)
    with shop.engine.connect() as conn:
        codes = conn.scalar(select(func.count(func.distinct(CouponRow.code))))
    assert codes == 30
    with pytest.raises(InvalidInput):
        generate_in_steps(shop.uow(), batch.id, 0, "form-3")


def test_batches_are_listed_newest_first_with_their_code_counts(shop: Shop) -> None:
    assert list_batches(shop.uow()) == []
    first = create_batch(shop.uow(), NewBatch(name="A", discount=Discount("fixed", 500)), 3)
    second = create_batch(shop.uow(), NewBatch(name="B", discount=Discount("percent", 10)))
    listed = list_batches(shop.uow())
    assert [(b.id, b.codes) for b in listed] == [(second.id, 0), (first.id, 3)]
    assert listed[1] == get_batch(shop.uow(), first.id)


def test_a_coupon_codes_job_makes_the_codes_and_reports_progress(shop: Shop) -> None:
    batch = create_batch(shop.uow(), NewBatch(name="Launch", discount=Discount("percent", 10)))
    job = queue_coupon_codes(shop.uow(), batch.id, 12, "form-9", "web:ann")
    assert (job.kind, job.status, job.done) == ("coupon_codes", "queued", 0)
    run_job(shop.uow(), job.id)
    done = job_view(shop.uow(), job.id)
    assert (done.status, done.done, done.total) == ("succeeded", 12, 12)
    assert done.result == {"batch_id": batch.id, "codes": 12}
    assert get_batch(shop.uow(), batch.id).codes == 12
    again = queue_coupon_codes(shop.uow(), batch.id, 12, "form-9", "web:ann")  # resubmitted
    run_job(shop.uow(), again.id)
    assert get_batch(shop.uow(), batch.id).codes == 12


def test_a_coupon_codes_job_is_refused_for_a_reward_or_a_missing_batch(shop: Shop) -> None:
    add_reward(
        shop.uow(),
        NewReward(code="mug", name="Mug", points=5, discount=Discount("percent", 5)),
        "test",
    )
    (reward_batch,) = list_batches(shop.uow())
    with pytest.raises(RuleViolation):
        queue_coupon_codes(shop.uow(), reward_batch.id, 10, "k", "web:ann")
    with pytest.raises(NotFound):
        queue_coupon_codes(shop.uow(), 999_999, 10, "k", "web:ann")
    with pytest.raises(InvalidInput):
        queue_coupon_codes(shop.uow(), reward_batch.id, 0, "k", "web:ann")
    assert recent_jobs(shop.uow()) == []
