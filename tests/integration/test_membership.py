"""Paid membership on both databases: sign-up, earning, renewals, grace, refunds, report."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.domain.coupons import Discount
from patronage.errors import Conflict, NotFound, PatronageError, RuleViolation
from patronage.services import membership
from patronage.services.coupon_batches import NewBatch, create_batch
from patronage.services.coupons import member_coupons
from patronage.services.membership_jobs import renew_due
from patronage.services.membership_report import spend_report
from patronage.services.wallet import credit_wallet, wallet_view
from patronage.storage.tables import LedgerEntryRow
from patronage.storage.uow import UnitOfWork

ANNUAL = membership.NewPlan("prime", "Prime", "annual", 36500, Decimal(2), free_delivery=True)


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    shop = Shop(engine, clock)
    membership.add_plan(shop.uow(), ANNUAL)
    return shop


def test_paid_members_earn_the_plan_multiplier(shop: Shop) -> None:
    paid, unpaid = shop.member("paid"), shop.member("unpaid")
    view = membership.sign_up(shop.uow(), paid.id, "prime", "psp-1")
    assert view.status == "active" and view.fee_paid_minor == 36500 and view.free_delivery
    assert view.period_end == view.period_start.replace(year=view.period_start.year + 1)
    assert shop.buy(paid, "100").points_earned == 2 * shop.buy(unpaid, "100").points_earned
    with shop.engine.connect() as conn:
        details = conn.scalars(
            select(LedgerEntryRow.details).where(LedgerEntryRow.member_id == paid.id)
        ).one()
    assert details["paid_plan"] == "prime" and Decimal(details["paid_multiplier"]) == 2


def test_sign_up_refusals(shop: Shop) -> None:
    member = shop.member()
    with pytest.raises(NotFound):
        membership.sign_up(shop.uow(), member.id, "no-such-plan")
    with pytest.raises(NotFound):
        membership.sign_up(shop.uow(), 999_999, "prime")
    membership.sign_up(shop.uow(), member.id, "prime")
    with pytest.raises(Conflict) as caught:
        membership.sign_up(shop.uow(), member.id, "prime")
    assert caught.value.code == "already_member"
    with pytest.raises(Conflict):
        membership.add_plan(shop.uow(), ANNUAL)


def test_renewal_only_when_due_and_idempotent(shop: Shop, clock: FixedClock) -> None:
    member = shop.member()
    first = membership.sign_up(shop.uow(), member.id, "prime")
    with pytest.raises(Conflict) as caught:
        membership.renew(shop.uow(), member.id)
    assert caught.value.code == "renewal_not_due"
    clock.advance(days=360)
    renewed = membership.renew(shop.uow(), member.id, reference="psp-2", idempotency_key="r-1")
    assert renewed.period_start == first.period_end  # no gap, no overlap
    again = membership.renew(shop.uow(), member.id, reference="psp-2", idempotency_key="r-1")
    assert again == renewed
    with pytest.raises(Conflict):
        membership.renew(shop.uow(), member.id, reference="psp-3")


def test_concurrent_renewals_extend_once(shop: Shop, clock: FixedClock) -> None:
    member = shop.member()
    first = membership.sign_up(shop.uow(), member.id, "prime")
    clock.advance(days=364)

    def renew(n: int) -> str:
        try:
            membership.renew(UnitOfWork(shop.engine, clock), member.id, reference=f"psp-{n}")
        except PatronageError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(renew, range(8)))
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "renewal_not_due"}
    view = membership.get_membership(shop.uow(), member.id)
    assert view.period_start == first.period_end
    assert view.period_end == first.period_end.replace(year=first.period_end.year + 1)


def test_failed_renewal_grace_then_lapse(shop: Shop, clock: FixedClock) -> None:
    member = shop.member()
    first = membership.sign_up(shop.uow(), member.id, "prime")
    clock.advance(days=366)  # one day past the paid period
    graced = membership.renew(shop.uow(), member.id, succeeded=False, reference="declined")
    assert graced.status == "grace" and graced.grace_until == first.period_end + timedelta(days=7)
    assert graced.last_payment == "renewal:failed"
    assert shop.buy(member, "100").points_earned == 200  # benefits continue in grace
    clock.advance(days=7)
    assert membership.get_membership(shop.uow(), member.id).status == "lapsed"
    assert renew_due(shop.uow()).lapsed == 1
    assert shop.buy(member, "100").points_earned == 100
    with pytest.raises(RuleViolation):
        membership.renew(shop.uow(), member.id)
    assert membership.sign_up(shop.uow(), member.id, "prime").status == "active"


def test_cancellation_refunds_unused_whole_days(shop: Shop, clock: FixedClock) -> None:
    member = shop.member()
    view = membership.sign_up(shop.uow(), member.id, "prime")
    clock.advance(days=100, hours=5)
    cancelled = membership.cancel(shop.uow(), member.id, "wallet", idempotency_key="c-1")
    days = (view.period_end - view.period_start).days
    unused = (view.period_end - clock()).days
    assert cancelled.refund_minor == 36500 * unused // days
    assert cancelled.status == "cancelled"
    assert wallet_view(shop.uow(), member.id, 10, None).balance_minor == cancelled.refund_minor
    assert membership.cancel(shop.uow(), member.id, "wallet", idempotency_key="c-1") == cancelled
    with pytest.raises(RuleViolation):
        membership.cancel(shop.uow(), member.id)


def test_renew_due_charges_the_wallet_and_grants_monthly_coupons(
    shop: Shop, clock: FixedClock
) -> None:
    batch = create_batch(shop.uow(), NewBatch("prime coffee", Discount("free_item", sku="COF")))
    plan = membership.NewPlan(
        "monthly", "Monthly", "monthly", 1500, coupon_batch_id=batch.id, coupons_per_month=2
    )
    membership.add_plan(shop.uow(), plan)
    rich, poor = shop.member("rich"), shop.member("poor")
    for member in (rich, poor):
        membership.sign_up(shop.uow(), member.id, "monthly")
    credit_wallet(shop.uow(), rich.id, 2000, "top_up")
    assert renew_due(shop.uow()).coupons == 4
    assert renew_due(shop.uow()).coupons == 0  # once a month
    clock.advance(days=32)
    run = renew_due(shop.uow())
    assert (run.renewed, run.failed, run.coupons) == (1, 1, 2)
    assert wallet_view(shop.uow(), rich.id, 10, None).balance_minor == 500
    assert membership.get_membership(shop.uow(), poor.id).status == "grace"
    assert len(member_coupons(shop.uow(), rich.id)) == 4
    assert renew_due(shop.uow()).renewed == 0  # nothing twice


def test_report_matches_on_prior_spend(shop: Shop, clock: FixedClock) -> None:
    start = clock()
    members = []
    for n in range(12):  # pairs of alike members; the paid one of each pair spends more after
        member = shop.member(f"m{n}", joined_at=start - timedelta(days=400))
        members.append(member)
        shop.buy(member, str(100 + 50 * (n // 2)), at=start - timedelta(days=60))
    for n in range(0, 12, 2):
        membership.sign_up(shop.uow(), members[n].id, "prime")
    for n, member in enumerate(members):
        shop.buy(member, str(300 if n % 2 == 0 else 100), at=start + timedelta(days=10))
    clock.advance(days=91)
    report = spend_report(UnitOfWork(shop.engine, clock))
    assert (report.paid_members, report.pairs) == (6, 6)
    assert report.paid_prior_mean_minor == report.matched_prior_mean_minor
    assert report.difference_minor == 20000
    assert report.bootstrap_ci_minor == (20000, 20000)
