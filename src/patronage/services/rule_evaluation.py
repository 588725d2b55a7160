"""Earning rules on the earn path: the awards of one purchase or custom event.

:func:`awards_for` runs once per event, with the member's row already locked: caps and
frequency limits are counted under that lock, and campaign budgets are spent by one
conditional UPDATE that can never pass them, as the event's last statement when the
caller defers it (docs/adr/0010-campaign-budgets-spent-last.md). The awards are written
by that same statement (:func:`record_awards`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from patronage.domain.members import Member
from patronage.domain.program import Program
from patronage.domain.rules import (
    CAP_PERIODS,
    MemberFacts,
    cap_starts,
    event_context,
    member_context,
)
from patronage.services.cashback import pay_cashback
from patronage.services.rule_decisions import Award, AwardTotals, decide
from patronage.storage.rules_repository import Candidates, RulesRepository
from patronage.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Awards(AwardTotals):
    awards: tuple[Award, ...] = ()
    budgets: dict[int, int] = field(default_factory=dict)
    """Points still to take from each campaign's budget (:func:`record_awards`)."""
    rows: tuple[dict[str, Any], ...] = ()
    """The award rows still to write (:func:`record_awards`)."""

    @property
    def details(self) -> dict[str, Any]:
        """What goes into the earn entry's details: the rules that gave points (nothing
        when none did; cashback is explained by the wallet's entries)."""
        giving = [a.detail() for a in self.awards if a.points]
        return {"rules": giving} if giving else {}


NO_AWARDS = Awards()


class LiveState:
    """Caps and limits counted from the stored awards (under the member's lock); budgets
    as read then (the conditional UPDATE at spending time has the last word). The spent
    budget and the cap usage of every campaign with a budget or caps are read by one
    query, when the decision first needs either."""

    def __init__(
        self,
        repo: RulesRepository,
        candidates: Candidates,
        member_id: int,
        at: datetime,
        timezone: str,
    ) -> None:
        self.repo = repo
        self.member_id = member_id
        self.at = at
        self.timezone = timezone
        self.campaigns = sorted(
            {c.id or 0 for _, c in candidates if c is not None and (c.caps or c.budget is not None)}
        )
        self.spent: dict[int, int] | None = None
        self.usage: dict[int, dict[str, int]] = {}

    def _read(self, starts: dict[str, datetime]) -> dict[int, int]:
        if self.spent is None:
            read = self.repo.campaign_state(self.member_id, self.campaigns, starts)
            self.spent, self.usage = read
        return self.spent

    def cap_usage(
        self, member_id: int, campaign_ids: Sequence[int], starts: dict[str, datetime]
    ) -> dict[int, dict[str, int]]:
        assert member_id == self.member_id
        self._read(starts)
        return {cid: self.usage.get(cid, dict.fromkeys(CAP_PERIODS, 0)) for cid in campaign_ids}

    def award_count(self, member_id: int, rule_code: str, since: datetime) -> int:
        return self.repo.award_count(member_id, rule_code, since)

    def budget(self, campaign_id: int) -> tuple[int | None, int]:
        spent = self._read(cap_starts(self.at, self.timezone))
        return None, spent.get(campaign_id, 0)


def load_candidates(
    uow: UnitOfWork, program: Program, event_type: str, statuses: Sequence[str] = ("active",)
) -> Candidates:
    """The rules that may fire, with their campaigns."""
    return RulesRepository(uow.session).live(program.id or 0, event_type, list(statuses))


# --- the earn path ------------------------------------------------------------------------------


def member_facts(
    uow: UnitOfWork,
    member: Member,
    tier: str,
    count_purchases: bool = True,
    with_segments: bool = True,
) -> MemberFacts:
    """What conditions know about a stored member."""
    purchases = RulesRepository(uow.session).purchase_count(member.id) if count_purchases else 0
    segments = tuple(uow.segments.codes_of_member(member.id)) if with_segments else ()
    return MemberFacts(
        tier=tier,
        attributes=dict(member.attributes),
        birthday=member.birthday,
        joined_at=member.joined_at,
        purchase_count=purchases,
        id=member.id,
        segments=segments,
    )


def _mentions(candidates: Candidates, fact: str) -> bool:
    """Whether any condition names ``fact``: the purchase path loads only what is used."""
    return any(
        fact in rule.condition or (campaign is not None and fact in (campaign.segment or ""))
        for rule, campaign in candidates
    )


class BudgetTakenMeanwhile(Exception):  # noqa: N818 - names what happened
    """A concurrent event took budget this event's decision counted on: the event must
    run again, with ``defer_budgets`` False."""


def awards_for(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    request: Any,
    event_id: int,
    base_points: int,
    defer_budgets: bool = False,
) -> Awards:
    """The points the program's active rules add to this event, within caps and
    campaign budgets; and the cashback they pay, credited to the member's wallet in this
    same transaction. Called with the member's row locked.

    The caller writes the awards with :func:`record_awards` as its last write. With
    ``defer_budgets`` the budgets are only read here and spent by that same write, so the
    campaign rows stay locked for the commit only (concurrent events earning from one
    campaign wait for each other); without, they are spent here."""
    candidates = load_candidates(uow, program, request.type)
    if not candidates:
        return NO_AWARDS
    repo = RulesRepository(uow.session)
    at = request.occurred_at
    evaluation = decide(
        candidates,
        LiveState(repo, candidates, member.id, at, program.timezone),
        program,
        member.id,
        _event_of(program, request),
        _member_of(uow, program, member, candidates, at),
        base_points,
        at,
    )
    if not evaluation.awards:
        return NO_AWARDS
    wanted = _budget_wanted(evaluation.awards, candidates)
    if defer_budgets:
        awards, pending = evaluation.awards, wanted
    else:
        awards, pending = _granted(evaluation.awards, repo.spend_budgets(wanted)), {}
    pay_cashback(uow, member, awards, request.order_id)
    rows = tuple(_award_row(program, member, event_id, request, a) for a in awards)
    return Awards(tuple(awards), pending, rows)


def record_awards(uow: UnitOfWork, awards: Awards) -> None:
    """Write the awards and take the points they were decided with from their campaigns'
    budgets (one statement on PostgreSQL); raise :class:`BudgetTakenMeanwhile` when a
    campaign no longer has room (the transaction must then be rolled back)."""
    repo = RulesRepository(uow.session)
    if awards.rows and not repo.award_and_spend(list(awards.rows), awards.budgets):
        raise BudgetTakenMeanwhile(sorted(awards.budgets))


def _event_of(program: Program, request: Any) -> dict[str, Any]:
    return event_context(
        request.type,
        request.occurred_at,
        program.timezone,
        request.amount,
        request.items,
        request.channel,
        request.store,
        request.attributes,
    )


def _member_of(
    uow: UnitOfWork, program: Program, member: Member, candidates: Candidates, at: datetime
) -> dict[str, Any]:
    from patronage.services.tiers import current_tier

    tier = current_tier(program, member).code
    facts = member_facts(
        uow,
        member,
        tier,
        _mentions(candidates, "purchase_count"),
        _mentions(candidates, "segments"),
    )
    return member_context(facts, at, program.timezone)


def _award_row(
    program: Program, member: Member, event_id: int, request: Any, award: Award
) -> dict[str, Any]:
    return {
        "program_id": program.id,
        "member_id": member.id,
        "rule_id": award.rule_id,
        "rule_code": award.rule,
        "campaign_id": award.campaign_id,
        "event_id": event_id,
        "points": award.points,
        "cashback_minor": award.cashback_minor,
        "occurred_at": request.occurred_at,
        "details": None,
    }


def _budget_wanted(awards: list[Award], candidates: Candidates) -> dict[int, int]:
    """The points each budgeted campaign's awards ask of its budget."""
    budgets = {c.id: c.budget for _, c in candidates if c is not None}
    wanted: dict[int, int] = {}
    for a in awards:
        if a.campaign_id is not None and budgets.get(a.campaign_id) is not None:
            wanted[a.campaign_id] = wanted.get(a.campaign_id, 0) + a.points
    return wanted


def _granted(awards: list[Award], granted: dict[int, int]) -> list[Award]:
    """The awards within what each campaign's budget granted (campaigns are spent in id
    order, so concurrent events lock them in one order). What a concurrent event took
    first is not awarded. Cashback awards pass untouched: a points budget does not
    limit money."""
    out = []
    for a in awards:
        if a.campaign_id in granted and not a.cashback_minor:  # cashback: no points budget
            points = min(a.points, granted[a.campaign_id])
            granted[a.campaign_id] -= points
            if points <= 0:
                continue
            a = replace(a, points=points)
        out.append(a)
    return out
