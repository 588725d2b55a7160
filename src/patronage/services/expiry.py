"""The expiry job: lapse lots whose time has come, once each."""

from __future__ import annotations

from datetime import datetime

from patronage.storage.uow import UnitOfWork

BATCH = 500


def expire_due_lots(uow: UnitOfWork, program_code: str, as_of: datetime) -> int:
    """Write one `expire` entry per lot that reached its expiry with points left.
    Each batch is one transaction; a crash loses nothing and a rerun writes nothing
    for lots already expired. Returns the number of lots expired."""
    expired = 0
    with uow:
        program = uow.programs.get(program_code)
    while True:
        with uow:
            due = uow.ledger.due_lots(program.id or 0, as_of, BATCH)
            if not due:
                return expired
            uow.members.lock([lot.member_id for lot in due])
            for lot in due:
                fresh = uow.ledger.lot(lot.id)  # re-read after the lock
                if fresh.remaining <= 0:
                    continue
                entry_id = uow.ledger.add_entry(
                    program_id=program.id,
                    member_id=lot.member_id,
                    kind="expire",
                    points=-fresh.remaining,
                    occurred_at=lot.expires_at,
                    recorded_at=uow.clock(),
                    details={"lot_id": lot.id},
                )
                uow.ledger.allocate(entry_id, [(lot.id, -fresh.remaining)])
                expired += 1
            uow.commit()
