"""Setting up a database: the default program and its tiers."""

from __future__ import annotations

from patronage.domain.program import Program, default_program
from patronage.storage.uow import UnitOfWork


def ensure_default_program(uow: UnitOfWork) -> Program:
    """Create the 'default' program if the database has none of that name."""
    with uow:
        if uow.programs.exists("default"):
            return uow.programs.get("default")
        program = uow.programs.add(default_program(), uow.clock())
        uow.commit()
        return program


def create_program(uow: UnitOfWork, program: Program) -> Program:
    with uow:
        created = uow.programs.add(program, uow.clock())
        uow.commit()
        return created
