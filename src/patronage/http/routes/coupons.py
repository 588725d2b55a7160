"""Coupon batches (admin) and coupons at the counter (staff)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from patronage.http.deps import AdminOnly, AnyRole, IdempotencyKey, StaffOrAdmin, Uow
from patronage.http.reward_schemas import (
    BatchIn,
    BatchOut,
    CodeOut,
    CodePage,
    CodesAddedOut,
    CouponCheckOut,
    CouponRedeemIn,
    CouponRedemptionOut,
    GenerateIn,
    ImportIn,
    ReverseIn,
)
from patronage.services import coupon_batches, coupons

router = APIRouter(tags=["coupons"])
BatchId = Annotated[int, Path(ge=1, le=2**62)]
Code = Annotated[str, Path(min_length=1, max_length=80)]


@router.post("/coupon-batches", status_code=201, response_model=BatchOut)
def create_batch(
    body: BatchIn, uow: Uow, principal: AdminOnly, key: IdempotencyKey = None
) -> BatchOut:
    """A batch and, with ``count``, its generated codes (page them with GET .../codes)."""
    data = body.model_dump(exclude={"discount", "count"})
    request = coupon_batches.NewBatch(**data, discount=body.discount.to_domain())
    made = coupon_batches.create_batch(uow, request, body.count, principal.label, key)
    return BatchOut(**asdict(made))


@router.get("/coupon-batches/{batch_id}", response_model=BatchOut)
def get_batch(batch_id: BatchId, uow: Uow, principal: AnyRole) -> BatchOut:
    principal.require("admin", "analyst")
    return BatchOut(**asdict(coupon_batches.get_batch(uow, batch_id)))


@router.get("/coupon-batches/{batch_id}/codes", response_model=CodePage)
def batch_codes(
    batch_id: BatchId,
    uow: Uow,
    _: AdminOnly,
    after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> CodePage:
    rows = coupon_batches.batch_codes(uow, batch_id, after_id, limit)
    page = [CodeOut(id=i, code=c, redeemed_count=n) for i, c, n in rows]
    return CodePage(codes=page, next_after_id=page[-1].id if len(page) == limit else None)


@router.post("/coupon-batches/{batch_id}/codes", status_code=201, response_model=CodesAddedOut)
def generate(
    batch_id: BatchId, body: GenerateIn, uow: Uow, _: AdminOnly, key: IdempotencyKey = None
) -> CodesAddedOut:
    return CodesAddedOut(**asdict(coupon_batches.generate_more(uow, batch_id, body.count, key)))


@router.post("/coupon-batches/{batch_id}/import", status_code=201, response_model=CodesAddedOut)
def import_pool(
    batch_id: BatchId, body: ImportIn, uow: Uow, _: AdminOnly, key: IdempotencyKey = None
) -> CodesAddedOut:
    """An external code pool, all or nothing; codes already in this batch are skipped."""
    return CodesAddedOut(**asdict(coupon_batches.import_codes(uow, batch_id, body.codes, key)))


@router.get("/coupons/{code}/validate", response_model=CouponCheckOut)
def validate(
    code: Code,
    uow: Uow,
    _: StaffOrAdmin,
    member_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    amount_minor: Annotated[int | None, Query(ge=0, le=10**12)] = None,
) -> CouponCheckOut:
    """Whether the code may be redeemed now (``valid``, else ``reason``); writes nothing."""
    return CouponCheckOut(**asdict(coupons.validate_coupon(uow, code, member_id, amount_minor)))


@router.post("/coupons/{code}/redeem", status_code=201, response_model=CouponRedemptionOut)
def redeem(
    code: Code,
    uow: Uow,
    principal: StaffOrAdmin,
    body: CouponRedeemIn | None = None,
    key: IdempotencyKey = None,
) -> CouponRedemptionOut:
    body = body or CouponRedeemIn()
    done = coupons.redeem_coupon(
        uow, code, body.member_id, body.order_id, body.amount_minor, principal.label, key
    )
    return CouponRedemptionOut(**asdict(done))


@router.post(
    "/coupons/{code}/redemptions/{redemption_id}/reverse",
    status_code=201,
    response_model=CouponRedemptionOut,
)
def reverse(
    code: Code,
    redemption_id: BatchId,
    body: ReverseIn,
    uow: Uow,
    principal: StaffOrAdmin,
    key: IdempotencyKey = None,
) -> CouponRedemptionOut:
    done = coupons.reverse_redemption(uow, code, redemption_id, body.reason, principal.label, key)
    return CouponRedemptionOut(**asdict(done))


@router.get("/members/{member_id}/coupons", response_model=list[CouponCheckOut])
def member_coupons(member_id: BatchId, uow: Uow, principal: AnyRole) -> list[CouponCheckOut]:
    """Coupons issued to a member (by reward redemptions), newest first."""
    principal.may_see_member(member_id)
    return [CouponCheckOut(**asdict(c)) for c in coupons.member_coupons(uow, member_id)]
