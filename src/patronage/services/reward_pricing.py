"""Changing what a catalog reward costs and when it is on offer: the list price, the
tier prices and the validity window, checked like a new reward and audited.

Stock and switching a reward on or off stay with :func:`rewards.change_reward`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from patronage.domain.rewards import check_reward
from patronage.errors import InvalidInput
from patronage.services.rewards import RewardView, view
from patronage.storage.uow import UnitOfWork


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def revise_reward(
    uow: UnitOfWork,
    reward_id: int,
    actor: str,
    points: int,
    tier_prices: dict[str, int],
    valid_from: datetime | None,
    valid_to: datetime | None,
    reason: str | None = None,
) -> RewardView:
    """Store the reward's new prices and validity window; nothing changes when any value
    is refused. Redemptions already made keep the price they were made at."""
    if reason is not None and len(reason) > 500:
        raise InvalidInput("reason is at most 500 characters", field="reason")
    with uow:
        before = uow.rewards.get(reward_id)
        program = uow.programs.get_by_id(before.program_id)
        after = replace(
            before,
            points=points,
            tier_prices=dict(tier_prices),
            valid_from=valid_from,
            valid_to=valid_to,
        )
        check_reward(after, tuple(t.code for t in program.tiers))
        fields = ("points", "tier_prices", "valid_from", "valid_to")
        old = {name: getattr(before, name) for name in fields}
        new = {name: getattr(after, name) for name in fields}
        if old != new:
            uow.rewards.change(reward_id, **new)
            uow.audit.add(
                at=uow.clock(),
                actor=actor,
                action="reward_revised",
                target_type="reward",
                target_id=str(reward_id),
                before={k: _plain(v) for k, v in old.items()},
                after={k: _plain(v) for k, v in new.items()},
                reason=reason or None,
            )
            uow.commit()
        return view(uow.rewards.get(reward_id), uow.clock())
