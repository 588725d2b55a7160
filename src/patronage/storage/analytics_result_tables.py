"""Results of heavy analytics (dashboard panels, the training impact report), kept so a
reload shows them at once, on the shared metadata of ``storage.tables``.

One row per (panel, filters): ``filters_key`` is a digest of the filters (date range,
store, outcome ...), kept readable in ``filters``. A row belongs to one ``data_version``
(a fingerprint of the rows the panel reads); when the data changes, the next page load
queues a new background job, points the row at it, and the job's result replaces the
old one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base, BigId


class AnalyticsResultRow(Base):
    __tablename__ = "analytics_results"
    __table_args__ = (UniqueConstraint("panel", "filters_key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    panel: Mapped[str] = mapped_column(String(32))
    filters_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of the filters, hex
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_version: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[int | None] = mapped_column(BigInteger)  # the job computing this version
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # None until it has run
    computed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
