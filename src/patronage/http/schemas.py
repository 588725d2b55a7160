"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Text = Field(default=None, max_length=200)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(BaseModel):
    error: ErrorDetail


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: str = Field(min_length=1, max_length=128)
    program: str = Field(default="default", max_length=64)
    name: str | None = Text
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    birthday: date | None = None
    joined_at: AwareDatetime | None = None
    consents: dict[str, bool] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=dict)


class MemberOut(BaseModel):
    id: int
    program_id: int
    external_id: str
    name: str | None
    phone: str | None
    email: str | None
    birthday: date | None
    joined_at: datetime
    consents: dict[str, bool]
    attributes: dict[str, Any]
    tier: str | None
    tier_since: datetime | None
    tier_override_until: datetime | None
    debt: int
    erased_at: datetime | None = None


class Item(BaseModel):
    sku: str = Field(max_length=128)
    category: str | None = Field(default=None, max_length=128)
    quantity: Decimal = Field(default=Decimal(1), gt=0, le=Decimal(10**9))
    price: Decimal | None = Field(default=None, ge=0, le=Decimal(10**13))


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=64, examples=["purchase"])
    occurred_at: AwareDatetime
    program: str = Field(default="default", max_length=64)
    member_id: int | None = Field(default=None, ge=1, le=2**62)
    member_external_id: str | None = Field(default=None, min_length=1, max_length=128)
    order_id: str | None = Field(default=None, min_length=1, max_length=128)
    original_order_id: str | None = Field(default=None, min_length=1, max_length=128)
    amount: Decimal | None = Field(default=None, gt=0, le=Decimal(10**11), decimal_places=2)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    store: str | None = Field(default=None, max_length=128)
    channel: str | None = Field(default=None, max_length=64)
    staff_id: str | None = Field(default=None, max_length=128)
    items: list[Item] | None = Field(default=None, max_length=1000)
    attributes: dict[str, Any] = Field(default_factory=dict)


class EventOut(BaseModel):
    event_id: int
    member_id: int
    type: str
    order_id: str | None
    points_earned: int
    points_reversed: int
    debt_repaid: int
    debt_added: int
    tier: str | None
    cashback_minor: int = Field(
        default=0, description="Cashback paid into the wallet for this event (minor units)"
    )
    cashback_reversed_minor: int = Field(
        default=0, description="Cashback this refund took back from the wallet (minor units)"
    )


class ExpiringLot(BaseModel):
    lot_id: int
    points: int
    expires_at: datetime


class BalanceOut(BaseModel):
    member_id: int
    unit: str
    available: int
    pending: int
    debt: int
    balance: int
    tier: str | None
    expiring_30_days: int
    expiring: list[ExpiringLot]
    as_of: datetime


class EntryOut(BaseModel):
    id: int
    kind: str
    points: int
    occurred_at: datetime
    recorded_at: datetime
    order_id: str | None
    reason: str | None
    actor: str | None
    counterparty_id: int | None
    details: dict[str, Any] | None


class LedgerPage(BaseModel):
    entries: list[EntryOut]
    next_before_id: int | None = Field(description="Pass as before_id for the next page.")


class RedemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: int = Field(gt=0, le=10**12)
    reward_id: str | None = Field(default=None, max_length=128)


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: int = Field(ge=-(10**12), le=10**12)
    reason: str = Field(min_length=1, max_length=500)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_member_id: int = Field(ge=1, le=2**62)
    to_member_id: int = Field(ge=1, le=2**62)
    points: int = Field(gt=0, le=10**12)


class LotMove(BaseModel):
    lot_id: int
    points: int


class PointsOut(BaseModel):
    entry_id: int
    member_id: int
    points: int
    balance: int
    available: int
    lots: list[LotMove]
    debt_repaid: int
    counterparty_entry_id: int | None


class LotView(BaseModel):
    lot_id: int
    earned: int
    remaining: int
    status: str
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    source: dict[str, Any]


class ExplanationOut(BaseModel):
    member_id: int
    as_of: datetime
    available: int
    pending: int
    debt: int
    balance: int
    lots: list[LotView]
    reductions: list[dict[str, Any]]
    debt_from: list[dict[str, Any]]


class ConsentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    consents: dict[str, bool] = Field(min_length=1, max_length=10)


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
