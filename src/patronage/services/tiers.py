"""Tier moves: upgrades after activity, the periodic review, manual overrides."""

from __future__ import annotations

from datetime import datetime

from patronage.domain import tiers as rules
from patronage.domain.members import Member
from patronage.domain.program import Program, Tier
from patronage.errors import InvalidInput, NotFound
from patronage.services.webhook_events import tier_changed
from patronage.storage.uow import UnitOfWork


def qualifying_value(uow: UnitOfWork, program: Program, member_id: int, at: datetime) -> int:
    start = rules.window_start(program, at)
    if program.tier_metric == "points":
        return uow.ledger.net_earned(member_id, start, at)
    spend, visits = uow.events.spend_and_visits(member_id, start, at)
    return spend // 100 if program.tier_metric == "spend" else visits


def _override_active(member: Member, at: datetime) -> bool:
    return member.tier_override_until is not None and member.tier_override_until > at


def current_tier(program: Program, member: Member) -> Tier:
    return program.tier(member.tier_code) if member.tier_code else program.base_tier()


def requalify_after_activity(
    uow: UnitOfWork, program: Program, member: Member, at: datetime, points: int = 0
) -> Tier:
    """Upgrade at once when the member crosses a higher threshold. ``member`` is the
    state read under the lock before the activity (its tier does not change in between)."""
    current = current_tier(program, member)
    top = max(tier.rank for tier in program.tiers)
    if current.rank == top or _override_active(member, at):
        return current
    if program.tier_metric == "points" and points <= 0:
        return current
    qualified = rules.qualifying_tier(program, qualifying_value(uow, program, member.id, at))
    decision = rules.on_activity(program, current, qualified, _override_active(member, at))
    if decision is None:
        return current
    since = max(at, member.tier_since) if member.tier_since else at
    uow.members.set_tier(member.id, _tier_id(decision.tier), since, decision.reason)
    tier_changed(uow, program.id, member.id, decision.tier.code, decision.reason)
    return decision.tier


def _tier_id(tier: Tier) -> int:
    if tier.id is None:
        raise ValueError("tier not stored")
    return tier.id


def review_member(
    uow: UnitOfWork, program: Program, member: Member, review_at: datetime
) -> Tier | None:
    current = current_tier(program, member)
    qualified = rules.qualifying_tier(program, qualifying_value(uow, program, member.id, review_at))
    decision = rules.at_review(
        program,
        current,
        qualified,
        member.tier_since or member.joined_at,
        review_at,
        member.tier_override_until,
    )
    if decision is None:
        return None
    uow.members.set_tier(member.id, _tier_id(decision.tier), review_at, decision.reason)
    tier_changed(uow, program.id, member.id, decision.tier.code, decision.reason)
    return decision.tier


def _end_expired_overrides(uow: UnitOfWork, program: Program, as_of: datetime) -> int:
    moved = 0
    for member_id in uow.members.with_expired_override(program.id or 0, as_of):
        uow.members.lock([member_id])
        member = uow.members.get(member_id)
        ended = member.tier_override_until or as_of
        qualified = rules.qualifying_tier(program, qualifying_value(uow, program, member_id, ended))
        uow.members.set_tier(member_id, _tier_id(qualified), ended, "manual override expired")
        tier_changed(uow, program.id, member_id, qualified.code, "manual override expired")
        moved += 1
    return moved


def review_tiers(uow: UnitOfWork, program_code: str, as_of: datetime) -> int:
    """End lapsed overrides and apply every review date since the last run up to
    ``as_of``, a batch of members per transaction. Running it again does nothing."""
    with uow:
        program = uow.programs.get(program_code)
        moved = _end_expired_overrides(uow, program, as_of)
        uow.commit()
        last = uow.jobs.last_as_of("tiers", program.id or 0)
    start = last or min(as_of, uow.clock()).replace(year=as_of.year - 1)
    for review_at in rules.review_dates(program, start, as_of):
        after = 0
        while True:
            with uow:
                ids = uow.members.ids_in_program(program.id or 0, after, 500)
                if not ids:
                    break
                uow.members.lock(ids)
                for member_id in ids:
                    member = uow.members.get(member_id)
                    if review_member(uow, program, member, review_at) is not None:
                        moved += 1
                uow.commit()
                after = ids[-1]
    with uow:
        if last is None or as_of > last:
            uow.jobs.record("tiers", program.id or 0, as_of, uow.clock(), moved=moved)
            uow.commit()
    return moved


def override_tier(
    uow: UnitOfWork, member_id: int, tier_code: str, until: datetime, reason: str, actor: str
) -> Member:
    """Put a member on a tier by hand until a date; afterwards the review puts them
    back on what they earned (an override is never a permanent floor)."""
    if not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    with uow:
        uow.members.lock([member_id])
        member = uow.members.get(member_id)
        program = uow.programs.get_by_id(member.program_id)
        try:
            tier = program.tier(tier_code)
        except KeyError:
            raise NotFound(f"no tier {tier_code!r}", field="tier", tier=tier_code) from None
        now = uow.clock()
        if until <= now:
            raise InvalidInput("override must end in the future", field="until")
        uow.members.set_tier(
            member.id,
            _tier_id(tier),
            now,
            f"manual override: {reason}",
            actor,
            override_until=until,
        )
        tier_changed(uow, program.id, member.id, tier.code, f"manual override: {reason}")
        uow.audit.add(
            at=now,
            actor=actor,
            action="tier_override",
            target_type="member",
            target_id=str(member.id),
            before={"tier": member.tier_code},
            after={"tier": tier_code, "until": until.isoformat()},
            reason=reason,
        )
        uow.commit()
        return uow.members.get(member.id)
