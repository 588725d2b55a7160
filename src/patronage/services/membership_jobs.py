"""The paid-membership job: renew due memberships from the wallet, lapse those whose
grace ran out, and hand out each plan's monthly coupons. Safe to run repeatedly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from patronage.domain.membership import LIVE, add_months
from patronage.errors import PatronageError
from patronage.services.membership import _renew
from patronage.storage.uow import UnitOfWork

RETRY_AFTER = timedelta(days=1)


@dataclass
class RenewalRun:
    renewed: int = 0
    failed: int = 0
    lapsed: int = 0
    coupons: int = 0


def _charge_wallet(u: UnitOfWork, member_id: int, amount: int, order_id: str) -> bool:
    from patronage.services.stored_value import take_money

    wallet = u.stored_value.wallet(member_id)
    if wallet is None:
        return False
    try:
        with u.savepoint():
            take_money(u, wallet, amount, order_id, "membership-renewal")
    except PatronageError:
        return False
    return True


def _renew_one(uow: UnitOfWork, member_id: int, now: datetime, run: RenewalRun) -> None:
    with uow:
        current = uow.memberships.of_member(member_id, lock=True)
        if current is None or current.status not in LIVE or current.period_end > now:
            return
        if current.effective_status(now) == "lapsed":
            uow.memberships.save(member_id, status="lapsed", updated_at=now)
            run.lapsed += 1
            uow.commit()
            return
        payments = uow.memberships.payments(current.id)
        if payments and payments[-1].outcome == "failed" and now - payments[-1].at < RETRY_AFTER:
            return
        fee = uow.memberships.plan(current.plan.id).fee_minor
        order_id = f"membership-{current.id}-{current.period_end:%Y%m%d}"
        paid = _charge_wallet(uow, member_id, fee, order_id)
        _renew(uow, member_id, paid, "wallet:" + order_id, "membership-renewal")
        if paid:
            run.renewed += 1
        else:
            run.failed += 1
        uow.commit()


def _grant_coupons(uow: UnitOfWork, member_id: int, now: datetime, run: RenewalRun) -> None:
    from patronage.services.coupons import issue_member_coupon

    month = f"{now:%Y-%m}"
    try:
        with uow:
            current = uow.memberships.of_member(member_id)
            paid = current is not None and current.status == "active" and current.covers(now)
            if current is None or not paid or not current.plan.coupon_batch_id:
                return
            count = current.plan.coupons_per_month
            if count <= 0 or uow.memberships.granted(current.id, month):
                return
            batch = uow.coupons.batch(current.plan.coupon_batch_id)
            expires = add_months(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), 1)
            for _ in range(count):
                issue_member_coupon(uow, batch, member_id, expires)
            uow.memberships.add_grant(
                membership_id=current.id, month=month, coupons=count, granted_at=now
            )
            uow.commit()
            run.coupons += count
    except IntegrityError:  # another run granted this month's coupons first
        return


def renew_due(uow: UnitOfWork, program: str = "default") -> RenewalRun:
    """One pass as of the unit of work's clock (renewals are stamped with it)."""
    run = RenewalRun()
    with uow:
        program_id = uow.programs.get(program).id or 0
        now = uow.clock()
        due = uow.memberships.due(program_id, now + timedelta(seconds=1))
    for member_id in due:
        _renew_one(uow, member_id, now, run)
    with uow:
        live = uow.memberships.live_member_ids(program_id)
    for member_id in live:
        _grant_coupons(uow, member_id, now, run)
    return run


def run_personalisation(uow: UnitOfWork, program: str, now: datetime) -> None:
    """The scheduler's pass: paid-membership renewals, and a new recommendation model
    when the newest is a day old."""
    from patronage.services.recommendations import train_if_stale

    renew_due(uow, program)
    train_if_stale(uow, program, now)
