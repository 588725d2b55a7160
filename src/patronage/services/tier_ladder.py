"""The tier ladder as designed: reading a program's tiers and changing a tier's
qualifying threshold and points multiplier (checked as a whole ladder, audited).

A new threshold applies from the next qualification onwards: upgrades after activity
and the periodic review use it; nobody is moved by the change itself.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from patronage.domain.program import Program
from patronage.domain.tiers import check_ladder
from patronage.errors import InvalidInput, NotFound
from patronage.storage.uow import UnitOfWork


def program_ladder(uow: UnitOfWork, program_code: str = "default") -> Program:
    """The program with its tiers, lowest rank first."""
    with uow:
        return uow.programs.get(program_code)


def change_tier(
    uow: UnitOfWork,
    tier_code: str,
    threshold: int,
    multiplier: Decimal,
    actor: str,
    reason: str,
    program_code: str = "default",
) -> Program:
    """Set one tier's threshold and multiplier; refused (nothing stored) when the ladder
    it makes could not be climbed. Returns the program as stored afterwards."""
    if not reason.strip() or len(reason) > 500:
        raise InvalidInput("a reason is required (at most 500 characters)", field="reason")
    with uow:
        program = uow.programs.get(program_code)
        try:
            before = program.tier(tier_code)
        except KeyError:
            raise NotFound(f"no tier {tier_code!r}", field="tier", tier=tier_code) from None
        after = replace(before, threshold=threshold, multiplier=multiplier)
        check_ladder([after if t.code == tier_code else t for t in program.tiers])
        if (before.threshold, before.multiplier) == (threshold, multiplier):
            return program
        uow.programs.change_tier(program.id or 0, tier_code, threshold, multiplier)
        uow.audit.add(
            at=uow.clock(),
            actor=actor,
            action="tier_changed",
            target_type="tier",
            target_id=f"{program.code}:{tier_code}",
            before={"threshold": before.threshold, "multiplier": str(before.multiplier)},
            after={"threshold": threshold, "multiplier": str(multiplier)},
            reason=reason.strip(),
        )
        uow.commit()
    return program_ladder(uow, program_code)  # read afresh, as every later request will
