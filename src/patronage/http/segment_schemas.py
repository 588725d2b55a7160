"""Request and response bodies for saved segments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CsvText = Field(
    default=None,
    max_length=5_000_000,
    description="CSV text with a header and an external_id (or member_id) column.",
)


class SegmentIn(BaseModel):
    """``source: rfm`` takes ``rfm_segments`` and ``as_of`` (default: the last purchase
    day); ``source: list`` takes ``csv``. Unknown ids in the list refuse it, by row."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN, examples=["champions_nov"])
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    source: Literal["rfm", "list"]
    rfm_segments: list[str] | None = Field(
        default=None, max_length=20, examples=[["Champions", "Loyal"]]
    )
    as_of: date | None = None
    csv: str | None = CsvText


class RefreshIn(BaseModel):
    """RFM segments: optionally a new ``as_of``. List segments: the new ``csv``."""

    model_config = ConfigDict(extra="forbid")
    as_of: date | None = None
    csv: str | None = CsvText


class SegmentOut(BaseModel):
    id: int
    program_id: int
    code: str
    name: str
    description: str | None
    source: str
    definition: dict[str, Any]
    as_of: date | None
    member_count: int
    revenue_minor: int | None
    total_revenue_minor: int | None
    revenue_share: float | None
    created_by: str
    created_at: datetime
    refreshed_at: datetime
