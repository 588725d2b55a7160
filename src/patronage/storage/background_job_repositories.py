"""Reads and writes of background jobs. Nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patronage.errors import NotFound
from patronage.storage.background_job_tables import BackgroundJobRow


class BackgroundJobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, kind: str, params: dict[str, Any], actor: str, now: datetime) -> BackgroundJobRow:
        row = BackgroundJobRow(
            kind=kind,
            status="queued",
            params=params,
            done=0,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, job_id: int) -> BackgroundJobRow:
        row = self.session.get(BackgroundJobRow, job_id)
        if row is None:
            raise NotFound(f"no job {job_id}", job_id=job_id)
        return row

    def recent(self, limit: int) -> list[BackgroundJobRow]:
        query = select(BackgroundJobRow).order_by(BackgroundJobRow.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def claim(self, job_id: int, now: datetime) -> bool:
        """Queued to running, once: a second runner of the same job gets False."""
        result = self.session.execute(
            update(BackgroundJobRow)
            .where(BackgroundJobRow.id == job_id, BackgroundJobRow.status == "queued")
            .values(status="running", started_at=now, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_total(self, job_id: int, total: int, now: datetime) -> None:
        self.session.execute(
            update(BackgroundJobRow)
            .where(BackgroundJobRow.id == job_id)
            .values(total=total, updated_at=now)
        )

    def advance(self, job_id: int, units: int, now: datetime) -> None:
        """One atomic increment of the units done, and the heartbeat."""
        self.session.execute(
            update(BackgroundJobRow)
            .where(BackgroundJobRow.id == job_id)
            .values(done=BackgroundJobRow.done + units, updated_at=now)
        )

    def finish(
        self,
        job_id: int,
        now: datetime,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        counted: tuple[int, int] | None = None,
    ) -> None:
        """Succeeded with ``result``, or failed with ``error``; ``counted`` sets the
        final (done, total)."""
        values: dict[str, Any] = {
            "status": "failed" if error is not None else "succeeded",
            "result": result,
            "error": error,
            "finished_at": now,
            "updated_at": now,
        }
        if counted is not None:
            values["done"], values["total"] = counted
        self.session.execute(
            update(BackgroundJobRow).where(BackgroundJobRow.id == job_id).values(**values)
        )
