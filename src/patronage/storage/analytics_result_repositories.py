"""Reads and writes of kept analytics results. Nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patronage.storage.analytics_result_tables import AnalyticsResultRow


class AnalyticsResultRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, panel: str, filters_key: str) -> AnalyticsResultRow | None:
        query = select(AnalyticsResultRow).where(
            AnalyticsResultRow.panel == panel, AnalyticsResultRow.filters_key == filters_key
        )
        return self.session.scalars(query).one_or_none()

    def locked(
        self, panel: str, filters_key: str, filters: dict[str, Any], now: datetime
    ) -> AnalyticsResultRow:
        """The row of (panel, filters), made if missing, locked until the transaction ends
        (on SQLite every writing transaction holds the database lock anyway)."""
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        self.session.execute(
            dialect.insert(AnalyticsResultRow)
            .values(
                panel=panel,
                filters_key=filters_key,
                filters=filters,
                data_version="",
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        query = (
            select(AnalyticsResultRow)
            .where(AnalyticsResultRow.panel == panel, AnalyticsResultRow.filters_key == filters_key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(query).one()

    def store(
        self,
        panel: str,
        filters_key: str,
        job_id: int,
        result: dict[str, Any],
        now: datetime,
    ) -> bool:
        """The result of ``job_id``, kept unless the row has since moved to another job
        (newer data); False then."""
        done = self.session.execute(
            update(AnalyticsResultRow)
            .where(
                AnalyticsResultRow.panel == panel,
                AnalyticsResultRow.filters_key == filters_key,
                AnalyticsResultRow.job_id == job_id,
            )
            .values(result=result, computed_at=now, updated_at=now)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]
