"""Figures read for /metrics."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from patronage.storage.tables import JobRunRow, LedgerEntryRow, ProgramRow


def ledger_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(LedgerEntryRow.kind, func.count()).group_by(LedgerEntryRow.kind))
        return {kind: int(count) for kind, count in rows}


def job_progress(engine: Engine) -> dict[tuple[str, str], datetime]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(JobRunRow.name, ProgramRow.code, func.max(JobRunRow.as_of))
            .join(ProgramRow, ProgramRow.id == JobRunRow.program_id)
            .group_by(JobRunRow.name, ProgramRow.code)
        )
        found = {}
        for name, code, as_of in rows:
            if isinstance(as_of, str):  # SQLite returns max() of a timestamp as text
                as_of = datetime.fromisoformat(as_of)
            found[(name, code)] = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        return found
