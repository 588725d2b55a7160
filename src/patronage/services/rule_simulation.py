"""Trying rules before they go live, writing nothing: :func:`simulate` explains what one
event would earn, :func:`replay` runs a campaign over the stored history."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from patronage.domain.ledger import points_for_amount
from patronage.domain.program import Program, Tier
from patronage.domain.rules import (
    CampaignTrace,
    MemberFacts,
    Rule,
    RuleTrace,
    earns,
    event_context,
    member_context,
)
from patronage.errors import InvalidInput, NotFound
from patronage.services.rule_decisions import Award, Evaluation, decide
from patronage.services.rule_evaluation import LiveState, load_candidates, member_facts
from patronage.services.rule_input import parse_decimal, parse_time
from patronage.storage.rules_repository import (
    Candidates,
    RulesRepository,
    campaign_of_row,
    rule_of_row,
)
from patronage.storage.tables import EventRow
from patronage.storage.uow import UnitOfWork

# --- simulation --------------------------------------------------------------------------


def _trace_out(t: RuleTrace) -> dict[str, Any]:
    return {
        "rule": t.rule,
        "version": t.version,
        "label": t.label,
        "campaign": t.campaign,
        "status": t.status,
        "condition": t.condition,
        "error": t.error,
        "points_before_caps": t.points,
        "points": t.awarded,
        "cashback_minor": t.cashback_minor,
        "fires": t.awarded > 0 or t.cashback_minor > 0,
        "decision": t.decision,
    }


def _campaign_out(c: CampaignTrace) -> dict[str, Any]:
    return {
        "campaign": c.campaign,
        "name": c.name,
        "stacking": c.stacking,
        "priority": c.priority,
        "running": c.running,
        "in_segment": c.in_segment,
        "requested": c.requested,
        "points": c.points if earns(c) else 0,
        "caps": c.caps,
        "budget": c.budget,
        "decision": c.decision or ("no rule fires" if c.running and c.in_segment else "skipped"),
    }


def _stored_member(
    uow: UnitOfWork, program: Program, member_id: int
) -> tuple[MemberFacts, Tier, int]:
    from patronage.services.tiers import current_tier

    member = uow.members.get(member_id)
    if member.program_id != program.id:
        raise NotFound(f"no member {member_id} in program {program.code}")
    tier = current_tier(program, member)
    return member_facts(uow, member, tier.code), tier, member.id


def _described_member(
    program: Program, inline: Mapping[str, Any], at: datetime
) -> tuple[MemberFacts, Tier, int]:
    """A member described in the request (state id 0: no caps or limits used yet)."""
    tier_code = str(inline.get("tier") or program.base_tier().code)
    try:
        tier = program.tier(tier_code)
    except KeyError:
        raise InvalidInput(f"no tier {tier_code!r}", field="member.tier") from None
    birthday, joined, days = (inline.get(k) for k in ("birthday", "joined_at", "days_since_join"))
    if joined:
        joined_at = parse_time(joined, "member.joined_at")
    else:
        joined_at = at - timedelta(days=int(days)) if days is not None else at
    facts = MemberFacts(
        tier=tier.code,
        attributes=dict(inline.get("attributes") or {}),
        birthday=date.fromisoformat(str(birthday)) if birthday else None,
        joined_at=joined_at,
        purchase_count=int(inline.get("purchase_count") or 0),
        segments=tuple(str(code) for code in inline.get("segments") or ()),
    )
    return facts, tier, 0


def simulate(uow: UnitOfWork, body: Mapping[str, Any]) -> dict[str, Any]:
    """Which rules would fire for an event and a member, and why. Reads only: the unit
    of work is rolled back, budgets are looked at and not spent, nothing is recorded."""
    with uow:
        program = uow.programs.get(str(body.get("program") or "default"))
        raw = dict(body.get("event") or {})
        at = parse_time(raw.get("occurred_at"), "event.occurred_at", uow.clock())
        event_type = str(raw.get("type") or "purchase")
        amount = parse_decimal(raw.get("amount"), "event.amount")
        if body.get("member_id") is not None:
            facts, tier, member_id = _stored_member(uow, program, int(body["member_id"]))
        elif isinstance(body.get("member"), Mapping):
            facts, tier, member_id = _described_member(program, body["member"], at)
        else:
            raise InvalidInput("member_id or member is required", field="member_id")
        base = 0
        if event_type == "purchase" and amount is not None:
            base = points_for_amount(int(amount * 100), program.earn_rate, tier.multiplier)
        statuses = ("active", "draft") if body.get("include_drafts", True) else ("active",)
        candidates = load_candidates(uow, program, event_type, statuses)
        event = event_context(
            event_type,
            at,
            program.timezone,
            amount,
            raw.get("items"),
            raw.get("channel"),
            raw.get("store"),
            raw.get("attributes"),
        )
        evaluation = decide(
            candidates,
            LiveState(RulesRepository(uow.session), candidates, member_id, at, program.timezone),
            program,
            member_id,
            event,
            member_context(facts, at, program.timezone),
            base,
            at,
            live_campaigns=False,
        )
        uow.rollback()
        return {
            "program": program.code,
            "event": {**event, "occurred_at": at},
            "member": {
                "tier": facts.tier,
                "purchase_count": facts.purchase_count,
                "segments": list(facts.segments),
            },
            "base_points": base,
            "rule_points": evaluation.points,
            "total_points": base + evaluation.points,
            "cashback_minor": evaluation.cashback_minor,
            "rules": [_trace_out(t) for t in evaluation.rules],
            "campaigns": [_campaign_out(c) for c in evaluation.campaigns],
            "awards": [a.detail() for a in evaluation.awards],
        }


# --- replay ---------------------------------------------------------------------------------


class MemoryState:
    """Caps, limits and budget counted in memory, for a replay that writes nothing."""

    def __init__(self) -> None:
        self.awards: list[tuple[int, int | None, str, datetime, int]] = []
        self.spent: dict[int, int] = {}
        self.budgets: dict[int, int | None] = {}

    def cap_usage(
        self, member_id: int, campaign_ids: Sequence[int], starts: dict[str, datetime]
    ) -> dict[int, dict[str, int]]:
        usage = {}
        for cid in campaign_ids:
            mine = [(at, pts) for m, c, _, at, pts in self.awards if m == member_id and c == cid]
            usage[cid] = {p: sum(pts for at, pts in mine if at >= s) for p, s in starts.items()}
            usage[cid]["campaign"] = sum(pts for _, pts in mine)
        return usage

    def award_count(self, member_id: int, rule_code: str, since: datetime) -> int:
        return sum(
            1 for m, _, r, at, _ in self.awards if m == member_id and r == rule_code and at >= since
        )

    def budget(self, campaign_id: int) -> tuple[int | None, int]:
        return self.budgets.get(campaign_id), self.spent.get(campaign_id, 0)


@dataclass
class ReplayReport:
    campaign: str
    start: datetime
    end: datetime
    events: int = 0
    events_earning: int = 0
    points: int = 0
    members: int = 0
    point_value: Decimal = Decimal("0.01")
    budget: int | None = None
    budget_exhausted: bool = False
    by_rule: dict[str, int] = field(default_factory=dict)
    cashback_minor: int = 0  # what its cashback rules would have paid (no points budget)
    cashback_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def cost(self) -> Decimal:
        return (self.points * self.point_value).quantize(Decimal("0.01"))


class _Members:
    """The members a replay meets: what conditions knew of them at each event (their
    tier then, their purchases before it)."""

    def __init__(self, uow: UnitOfWork, program: Program, repo: RulesRepository) -> None:
        self.uow, self.program, self.repo = uow, program, repo
        self.tiers = {t.id: t.code for t in program.tiers}
        self.known: dict[int, tuple[MemberFacts, list[tuple[datetime, datetime | None, int]]]]
        self.known = {}
        self.purchases: dict[int, int] = {}

    def at(self, event: EventRow) -> tuple[MemberFacts, Tier]:
        member_id, at = event.member_id, event.occurred_at
        if member_id not in self.known:
            member = self.uow.members.get(member_id)
            facts = member_facts(self.uow, member, self.program.base_tier().code, False)
            self.known[member_id] = (facts, self.repo.tier_history(member_id))
            self.purchases[member_id] = self.repo.purchase_count(member_id, before=at)
        facts, history = self.known[member_id]
        tier_code = facts.tier
        for valid_from, valid_to, tier_id in history:
            if valid_from <= at and (valid_to is None or at < valid_to):
                tier_code = self.tiers[tier_id]
        tier = self.program.tier(tier_code)
        then = replace(facts, tier=tier.code, purchase_count=self.purchases[member_id])
        if event.type == "purchase":
            self.purchases[member_id] += 1
        return then, tier


@dataclass
class _Replay:
    program: Program
    campaign_id: int
    candidates: dict[str, Candidates]
    members: _Members
    report: ReplayReport
    state: MemoryState = field(default_factory=MemoryState)
    reached: set[int] = field(default_factory=set)

    def evaluate(self, ev: EventRow) -> Evaluation:
        facts, tier = self.members.at(ev)
        base = 0
        if ev.type == "purchase":
            base = points_for_amount(ev.amount_minor or 0, self.program.earn_rate, tier.multiplier)
        amount = Decimal(ev.amount_minor) / 100 if ev.amount_minor is not None else None
        zone = self.program.timezone
        event = event_context(
            ev.type, ev.occurred_at, zone, amount, ev.items, ev.channel, ev.store, ev.attributes
        )
        return decide(
            self.candidates.get(ev.type, []),
            self.state,
            self.program,
            ev.member_id,
            event,
            member_context(facts, ev.occurred_at, zone),
            base,
            ev.occurred_at,
            live_campaigns=False,
        )

    def book(self, ev: EventRow, evaluation: Evaluation) -> None:
        """Count the event's awards as if issued: points within the budget, cashback
        outside it."""
        got = 0
        for a in evaluation.awards:
            got += self._cashback(ev, a) if a.cashback_minor else self._points(ev, a)
        self.report.events += 1
        if got:
            self.report.events_earning += 1
            self.reached.add(ev.member_id)

    def _remember(self, ev: EventRow, rule: str, points: int) -> None:
        self.state.awards.append((ev.member_id, self.campaign_id, rule, ev.occurred_at, points))

    def _cashback(self, ev: EventRow, award: Award) -> int:
        self._remember(ev, award.rule, 0)  # counts toward the rule's frequency limit
        by_rule = self.report.cashback_by_rule
        by_rule[award.rule] = by_rule.get(award.rule, 0) + award.cashback_minor
        self.report.cashback_minor += award.cashback_minor
        return award.cashback_minor

    def _points(self, ev: EventRow, award: Award) -> int:
        report, spent = self.report, self.state.spent
        points = award.points
        if report.budget is not None:
            points = min(points, report.budget - spent.get(self.campaign_id, 0))
        if points <= 0:
            report.budget_exhausted = True
            return 0
        spent[self.campaign_id] = spent.get(self.campaign_id, 0) + points
        self._remember(ev, award.rule, points)
        report.by_rule[award.rule] = report.by_rule.get(award.rule, 0) + points
        report.points += points
        return points


def _replayed_rules(repo: RulesRepository, program: Program, campaign_id: int) -> list[Rule]:
    return [
        rule_of_row(r)
        for r in repo.rule_rows(program.id or 0)
        if r.campaign_id == campaign_id and r.status in ("active", "draft")
    ]


def replay(
    uow: UnitOfWork,
    campaign_code: str,
    start: datetime,
    end: datetime,
    program_code: str = "default",
    point_value: Decimal | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Run the campaign's rules (drafts too) over the events stored between ``start``
    and ``end`` as if it had been on: caps and budget counted in memory, the member's
    tier at the time, nothing written."""
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        row = repo.campaign(program.id or 0, campaign_code)
        campaign = replace(campaign_of_row(row), stacking="stack", status="active")
        rules = _replayed_rules(repo, program, row.id)
        candidates: dict[str, Candidates] = {}
        for rule in rules:
            candidates.setdefault(rule.on, []).append((rule, campaign))
        value = point_value if point_value is not None else program.point_value_minor / 100
        report = ReplayReport(campaign_code, start, end, point_value=value, budget=row.budget)
        run = _Replay(program, row.id, candidates, _Members(uow, program, repo), report)
        run.state.budgets[row.id] = row.budget
        types = set(candidates) or {"purchase"}
        for n, ev in enumerate(repo.events_between(program.id or 0, types, start, end), 1):
            if progress and n % 1000 == 0:
                progress(1000)
            run.book(ev, run.evaluate(ev))
        if report.budget is not None and run.state.spent.get(row.id, 0) >= report.budget:
            report.budget_exhausted = True
        report.members = len(run.reached)
        uow.rollback()
        return report
