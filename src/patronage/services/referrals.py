"""Referrals: a member's code brings in a new member; the referee's first qualifying
purchase rewards both sides, once, with limits and checks against self-referral."""

from __future__ import annotations

from dataclasses import dataclass

from patronage.config import get_settings
from patronage.domain.coupon_codes import new_code, normalize
from patronage.domain.members import Member
from patronage.errors import Conflict, NotFound, RuleViolation
from patronage.services.postings import credit
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Referral:
    id: int
    referrer_id: int
    referee_id: int
    status: str


def referral_code(uow: UnitOfWork, member_id: int) -> str:
    """The member's code, made on first request."""
    with uow:
        uow.members.lock([member_id])
        uow.members.get(member_id)
        code = uow.engagement.referral_code(member_id)
        if code is None:
            code = new_code(8)
            uow.engagement.add_referral_code(member_id, code, uow.clock())
            uow.commit()
        return code


def _same_person(referrer: Member, referee: Member) -> bool:
    pairs = ((referrer.phone, referee.phone), (referrer.email, referee.email))
    return any(a and b and a.strip().lower() == b.strip().lower() for a, b in pairs)


def refer(uow: UnitOfWork, referee_id: int, code: str) -> Referral:
    """Record that ``referee_id`` joined with ``code``; refuses self-referral, a second
    referral of the same member, members who already bought, duplicate identities
    (same phone or e-mail) and referrers over the limit."""
    settings = get_settings()
    with uow:
        referrer_id = uow.engagement.member_with_code(normalize(code))
        if referrer_id is None:
            raise NotFound("no such referral code", field="code")
        uow.members.lock([referrer_id, referee_id])
        referrer, referee = uow.members.get(referrer_id), uow.members.get(referee_id)
        _check(uow, referrer, referee, settings.referral_limit)
        referral_id = uow.engagement.add_referral(
            referee.program_id, referrer_id, referee_id, uow.clock()
        )
        uow.commit()
        return Referral(referral_id, referrer_id, referee_id, "pending")


def _check(uow: UnitOfWork, referrer: Member, referee: Member, limit: int) -> None:
    referrer_id, referee_id = referrer.id, referee.id
    if referrer_id == referee_id:
        raise RuleViolation("a member cannot refer themselves", code="self_referral")
    if referrer.program_id != referee.program_id:
        raise RuleViolation("members belong to different programs", code="program_mismatch")
    if _same_person(referrer, referee):
        raise RuleViolation(
            "referrer and referee share a phone or e-mail", code="duplicate_identity"
        )
    if uow.engagement.referral_of(referee_id) is not None:
        raise Conflict("this member was already referred", code="already_referred")
    back = uow.engagement.referral_of(referrer_id)
    if back is not None and back.referrer_id == referee_id:
        raise RuleViolation("two members cannot refer each other", code="mutual_referral")
    if uow.events.spend_and_visits(referee_id, referee.joined_at, uow.clock())[1]:
        raise RuleViolation("only members who have not bought yet can be referred", code="not_new")
    if uow.engagement.referrals_by(referrer_id) >= limit:
        raise RuleViolation(f"a member may refer at most {limit} members", code="referral_limit")


def reward_referrals(uow: UnitOfWork, program_code: str) -> int:
    """Reward both sides of every referral whose referee has made a qualifying
    purchase; each referral in its own transaction, exactly once."""
    settings = get_settings()
    rewarded = 0
    with uow:
        program = uow.programs.get(program_code)
        due = [
            (r.id, r.referrer_id, r.referee_id)
            for r in uow.engagement.due_referrals(
                program.id or 0, settings.referral_min_amount, 500
            )
        ]
    for referral_id, referrer_id, referee_id in due:
        with uow:
            uow.members.lock([referrer_id, referee_id])
            order_id = uow.engagement.first_qualifying_order(
                referee_id, settings.referral_min_amount
            )
            if not uow.engagement.mark_rewarded(referral_id, uow.clock(), order_id):
                continue
            for member_id, points, side in (
                (referrer_id, settings.referral_referrer_points, "referrer"),
                (referee_id, settings.referral_referee_points, "referee"),
            ):
                if points > 0:
                    credit(
                        uow,
                        program,
                        uow.members.get(member_id),
                        "earn",
                        points,
                        uow.clock(),
                        reason=f"referral bonus ({side})",
                        details={"referral_id": referral_id, "order_id": order_id},
                    )
            uow.commit()
            rewarded += 1
    return rewarded
