"""Long operations started from the web pages (imports, replays), on the shared metadata of
``storage.tables``. Progress lives here, not in the server's memory, so any page load on
any server process sees it, and a reload never loses it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patronage.storage.tables import Base, BigId


class BackgroundJobRow(Base):
    """One run of a long operation: queued, running, then succeeded or failed.
    ``done`` of ``total`` units (rows, events) so far; ``updated_at`` is the heartbeat."""

    __tablename__ = "background_jobs"
    __table_args__ = (Index("ix_background_jobs_created_at", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total: Mapped[int | None] = mapped_column(BigInteger)
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
