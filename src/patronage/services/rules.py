"""Earning rules at work: the awards of an event, simulation, replay, and administration
(create, new versions, disable, YAML import and export).

The earn path calls :func:`awards_for` once per purchase or custom event, with the
member's row already locked: caps and frequency limits are counted under that lock, and
a campaign's budget is spent by one conditional UPDATE that can never pass it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import cel
import yaml
from sqlalchemy import func, select

from patronage.domain.ledger import points_for_amount
from patronage.domain.members import Member
from patronage.domain.program import Program
from patronage.domain.rules import (
    STATUSES,
    Campaign,
    CampaignTrace,
    Limit,
    MemberFacts,
    Rule,
    RuleTrace,
    action_points,
    choose,
    distribute,
    earns,
    evaluate,
    event_context,
    member_context,
    period_start,
    validate_campaign,
    validate_rule,
)
from patronage.errors import Conflict, InvalidInput, NotFound
from patronage.storage.rules_repository import RulesRepository
from patronage.storage.rules_tables import CampaignRow, RuleRow
from patronage.storage.uow import UnitOfWork

log = logging.getLogger("patronage.rules")


# --- what the earn path gets back ---------------------------------------------------------


@dataclass(frozen=True)
class Award:
    rule: str
    version: int
    rule_id: int
    points: int
    label: str
    campaign: str | None = None
    campaign_id: int | None = None

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "version": self.version,
            "points": self.points,
            "label": self.label,
        }
        if self.campaign:
            out["campaign"] = self.campaign
        return out


@dataclass(frozen=True)
class Awards:
    awards: tuple[Award, ...] = ()

    @property
    def points(self) -> int:
        return sum(a.points for a in self.awards)

    @property
    def details(self) -> dict[str, Any]:
        """What goes into the earn entry's details (nothing when no rule fired)."""
        return {"rules": [a.detail() for a in self.awards]} if self.awards else {}


NO_AWARDS = Awards()


# --- the state caps, limits and budgets are checked against -------------------------------


class State(Protocol):
    def cap_usage(
        self, member_id: int, campaign_ids: Sequence[int], starts: dict[str, datetime]
    ) -> dict[int, dict[str, int]]: ...

    def award_count(self, member_id: int, rule_code: str, since: datetime) -> int: ...

    def budget(self, campaign_id: int) -> tuple[int | None, int]: ...


class LiveState:
    """Caps and limits counted from the stored awards (under the member's lock); budgets
    as read with the rules (the conditional UPDATE at spending time has the last word)."""

    def __init__(self, repo: RulesRepository, spent: dict[int, int]) -> None:
        self.repo = repo
        self.spent = spent

    def cap_usage(
        self, member_id: int, campaign_ids: Sequence[int], starts: dict[str, datetime]
    ) -> dict[int, dict[str, int]]:
        return self.repo.cap_usage(member_id, campaign_ids, starts)

    def award_count(self, member_id: int, rule_code: str, since: datetime) -> int:
        return self.repo.award_count(member_id, rule_code, since)

    def budget(self, campaign_id: int) -> tuple[int | None, int]:
        return None, self.spent.get(campaign_id, 0)


@dataclass
class Evaluation:
    base_points: int
    rules: list[RuleTrace] = field(default_factory=list)
    campaigns: list[CampaignTrace] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(a.points for a in self.awards)


_RULES: dict[tuple[Any, ...], Rule] = {}
_CAMPAIGNS: dict[tuple[Any, ...], Campaign] = {}


def _rule_of(row: tuple[Any, ...]) -> Rule:
    rule = _RULES.get(row)
    if rule is None:
        (id_, code, version, name, on, condition, action, value, item_filter, priority,
         limit_count, limit_per, status) = row  # fmt: skip
        rule = Rule(
            code=code,
            name=name,
            condition=condition,
            action=action,
            value=Decimal(value),
            on=on,
            item_filter=item_filter,
            priority=priority,
            limit=Limit(limit_count, limit_per) if limit_count else None,
            status=status,
            version=version,
            id=id_,
        )
        if len(_RULES) > 50_000:
            _RULES.clear()
        _RULES[row] = rule
    return rule


def _campaign_of(row: tuple[Any, ...]) -> Campaign | None:
    if row[0] is None:
        return None
    key = tuple(row[:7]) + (tuple(sorted((row[7] or {}).items())),) + tuple(row[8:])
    campaign = _CAMPAIGNS.get(key)
    if campaign is None:
        (id_, code, name, starts_at, ends_at, segment, budget, caps, priority, stacking,
         status, _revision) = row  # fmt: skip
        campaign = Campaign(
            code=code,
            name=name,
            starts_at=starts_at,
            ends_at=ends_at,
            segment=segment,
            budget=budget,
            caps={k: int(v) for k, v in (caps or {}).items()},
            priority=priority,
            stacking=stacking,
            status=status,
            id=id_,
        )
        if len(_CAMPAIGNS) > 50_000:
            _CAMPAIGNS.clear()
        _CAMPAIGNS[key] = campaign
    return campaign


Candidates = list[tuple[Rule, Campaign | None]]


def load_candidates(
    uow: UnitOfWork, program: Program, event_type: str, statuses: Iterable[str] = ("active",)
) -> tuple[Candidates, dict[int, int]]:
    """The rules that may fire, with their campaigns; and each campaign's spent budget."""
    rows = RulesRepository(uow.session).live(program.id or 0, event_type, list(statuses))
    split = len(_RULE_COLS)
    spent = {r[split]: int(r[-1] or 0) for r in rows if r[split] is not None}
    return [(_rule_of(r[:split]), _campaign_of(r[split:-1])) for r in rows], spent


def _needs_purchase_count(candidates: Candidates) -> bool:
    return any(
        "purchase_count" in rule.condition
        or (campaign is not None and "purchase_count" in (campaign.segment or ""))
        for rule, campaign in candidates
    )


def decide(
    candidates: Candidates,
    state: State,
    program: Program,
    member_id: int,
    event: dict[str, Any],
    member: dict[str, Any],
    base_points: int,
    at: datetime,
    live_campaigns: bool = True,
) -> Evaluation:
    """Which rules fire, what caps, limits, budgets and stacking leave of them."""
    result = Evaluation(base_points)
    if not candidates:
        return result
    context = cel.Context({"event": event, "member": member})
    segment_context = cel.Context({"member": member})
    groups: dict[str | None, tuple[Campaign | None, list[Rule]]] = {}
    for rule, campaign in candidates:
        key = campaign.code if campaign else None
        groups.setdefault(key, (campaign, []))[1].append(rule)
    standalone: list[RuleTrace] = []
    usage: dict[int, dict[str, int]] | None = None
    starts = {p: period_start(p, at, program.timezone, None) for p in ("day", "week", "month")}
    for key, (campaign, rules) in sorted(groups.items(), key=lambda g: g[0] or ""):
        rules = sorted(rules, key=lambda r: (-r.priority, r.code))
        ctrace = None
        if campaign is not None:
            ctrace = CampaignTrace(
                campaign.code, campaign.name, campaign.stacking, campaign.priority
            )
            ctrace.running = campaign.running(at) and (
                campaign.status != "disabled" if not live_campaigns else campaign.status == "active"
            )
            if campaign.segment:
                outcome = evaluate(campaign.segment, segment_context, f"{campaign.code} segment")
                ctrace.in_segment = outcome.value
            result.campaigns.append(ctrace)
        for rule in rules:
            trace = RuleTrace(rule.code, rule.version, rule.name, key, rule.status)
            result.rules.append(trace)
            if ctrace is not None and not ctrace.running:
                trace.decision = "campaign not running"
                continue
            if ctrace is not None and not ctrace.in_segment:
                trace.decision = "member not in the campaign's segment"
                continue
            outcome = evaluate(rule.condition, context, rule.code)
            trace.condition, trace.error = outcome.value, outcome.error
            if not outcome.value:
                trace.decision = "error: does not fire" if outcome.error else "condition false"
                continue
            points, error = action_points(rule, event, base_points)
            if error:
                trace.error, trace.decision = error, "error in the item filter: does not fire"
                continue
            if rule.limit is not None:
                since = period_start(rule.limit.per, at, program.timezone, campaign)
                used = state.award_count(member_id, rule.code, since)
                if used >= rule.limit.count:
                    trace.decision = (
                        f"limit reached: {used} of {rule.limit.count} per {rule.limit.per}"
                    )
                    continue
            trace.points = points
            if points <= 0:
                trace.decision = "fires but gives no points"
        firing = [t for t in result.rules if t.campaign == key and t.points > 0]
        if ctrace is None:
            for t in firing:
                t.awarded, t.decision = t.points, "earns (no campaign)"
            standalone.extend(firing)
            continue
        ctrace.rules = [t for t in result.rules if t.campaign == key]
        ctrace.requested = sum(t.points for t in firing)
        allowed = ctrace.requested
        assert campaign is not None and campaign.id is not None
        if campaign.caps and allowed > 0:
            if usage is None:
                capped = sorted({c.id or 0 for _, c in candidates if c is not None and c.caps})
                usage = state.cap_usage(member_id, capped, starts)
            taken = usage[campaign.id]
            for period, cap in campaign.caps.items():
                left = max(0, cap - taken[period])
                ctrace.caps[period] = {"cap": cap, "used": taken[period], "left": left}
                allowed = min(allowed, left)
        if campaign.budget is not None and allowed > 0:
            _, spent = state.budget(campaign.id)
            left = max(0, campaign.budget - spent)
            ctrace.budget = {"budget": campaign.budget, "spent": spent, "left": left}
            allowed = min(allowed, left)
        ctrace.points = allowed
        if ctrace.requested and not allowed:
            ctrace.decision = "cap or budget reached"
    choose(result.campaigns)
    by_code = {c.campaign: c for c in result.campaigns}
    for t in result.rules:
        if t.campaign is None or t.points <= 0:
            continue
        ctrace = by_code[t.campaign]
        if not earns(ctrace):
            t.decision = t.decision or (ctrace.decision or "campaign does not earn")
    for ctrace in result.campaigns:
        firing = [t for t in ctrace.rules if t.points > 0]
        if earns(ctrace):
            distribute(ctrace.points, firing)
            for t in firing:
                t.decision = (
                    ctrace.decision
                    if t.awarded == t.points
                    else f"capped: {t.awarded} of {t.points}"
                )
        else:
            for t in firing:
                t.decision = ctrace.decision or "campaign does not earn"
    rules_by_code = {r.code: (r, c) for r, c in candidates}
    for t in result.rules:
        if t.awarded > 0:
            rule, campaign = rules_by_code[t.rule]
            result.awards.append(
                Award(
                    rule.code,
                    rule.version,
                    rule.id or 0,
                    t.awarded,
                    rule.label,
                    campaign.code if campaign else None,
                    campaign.id if campaign else None,
                )
            )
    return result


def _member_facts(
    uow: UnitOfWork, program: Program, member: Member, tier: str, count: bool
) -> MemberFacts:
    purchases = RulesRepository(uow.session).purchase_count(member.id) if count else 0
    return MemberFacts(
        tier=tier,
        attributes=dict(member.attributes),
        birthday=member.birthday,
        joined_at=member.joined_at,
        purchase_count=purchases,
        id=member.id,
    )


def awards_for(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    request: Any,
    event_id: int,
    base_points: int,
) -> Awards:
    """The points the program's active rules add to this event, spent from campaign
    budgets and recorded against caps. Called with the member's row locked."""
    candidates, spent = load_candidates(uow, program, request.type)
    if not candidates:
        return NO_AWARDS
    from patronage.services.tiers import current_tier

    tier = current_tier(program, member).code
    facts = _member_facts(uow, program, member, tier, _needs_purchase_count(candidates))
    event = event_context(
        request.type,
        request.occurred_at,
        program.timezone,
        request.amount,
        request.items,
        request.channel,
        request.store,
        request.attributes,
    )
    repo = RulesRepository(uow.session)
    evaluation = decide(
        candidates,
        LiveState(repo, spent),
        program,
        member.id,
        event,
        member_context(facts, request.occurred_at, program.timezone),
        base_points,
        request.occurred_at,
    )
    if not evaluation.awards:
        return NO_AWARDS
    awards = _spend_budgets(repo, evaluation.awards, candidates)
    repo.add_awards(
        [
            {
                "program_id": program.id,
                "member_id": member.id,
                "rule_id": a.rule_id,
                "rule_code": a.rule,
                "campaign_id": a.campaign_id,
                "event_id": event_id,
                "points": a.points,
                "occurred_at": request.occurred_at,
                "details": None,
            }
            for a in awards
        ]
    )
    return Awards(tuple(awards))


def _spend_budgets(
    repo: RulesRepository, awards: list[Award], candidates: Candidates
) -> list[Award]:
    """Take each campaign's points from its budget (campaigns in id order, so concurrent
    events lock them in one order). What a concurrent event took first is not awarded."""
    budgets = {c.id: c.budget for _, c in candidates if c is not None}
    wanted: dict[int, int] = {}
    for a in awards:
        if a.campaign_id is not None and budgets.get(a.campaign_id) is not None:
            wanted[a.campaign_id] = wanted.get(a.campaign_id, 0) + a.points
    granted = {cid: repo.spend_budget(cid, wanted[cid]) for cid in sorted(wanted)}
    out = []
    for a in awards:
        if a.campaign_id in granted:
            points = min(a.points, granted[a.campaign_id])
            granted[a.campaign_id] -= points
            if points <= 0:
                continue
            a = Award(a.rule, a.version, a.rule_id, points, a.label, a.campaign, a.campaign_id)
        out.append(a)
    return out


# --- simulation --------------------------------------------------------------------------


def _parse_time(value: Any, field_name: str, default: datetime | None = None) -> datetime:
    if value is None or value == "":
        if default is None:
            raise InvalidInput(f"{field_name} is required", field=field_name)
        return default
    if isinstance(value, datetime):
        at = value
    else:
        try:
            at = datetime.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput(f"{field_name} is not an ISO 8601 time", field=field_name) from None
    if at.tzinfo is None:
        raise InvalidInput(f"{field_name} needs a time-zone offset", field=field_name)
    return at


def _decimal(value: Any, field_name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field_name} must be a number", field=field_name) from None
    if not number.is_finite() or number < 0:
        raise InvalidInput(f"{field_name} must be a non-negative number", field=field_name)
    return number


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
        "fires": t.awarded > 0,
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


def simulate(uow: UnitOfWork, body: Mapping[str, Any]) -> dict[str, Any]:
    """Which rules would fire for an event and a member, and why. Reads only: the unit
    of work is rolled back, budgets are looked at and not spent, nothing is recorded."""
    with uow:
        program = uow.programs.get(str(body.get("program") or "default"))
        raw_event = dict(body.get("event") or {})
        at = _parse_time(raw_event.get("occurred_at"), "event.occurred_at", uow.clock())
        event_type = str(raw_event.get("type") or "purchase")
        amount = _decimal(raw_event.get("amount"), "event.amount")
        member_id = body.get("member_id")
        inline = body.get("member")
        if member_id is not None:
            member = uow.members.get(int(member_id))
            if member.program_id != program.id:
                raise NotFound(f"no member {member_id} in program {program.code}")
            from patronage.services.tiers import current_tier

            tier = current_tier(program, member)
            facts = _member_facts(uow, program, member, tier.code, True)
            state_member = member.id
        elif isinstance(inline, Mapping):
            tier_code = str(inline.get("tier") or program.base_tier().code)
            try:
                tier = program.tier(tier_code)
            except KeyError:
                raise InvalidInput(f"no tier {tier_code!r}", field="member.tier") from None
            birthday = inline.get("birthday")
            joined = inline.get("joined_at")
            days = inline.get("days_since_join")
            joined_at = (
                _parse_time(joined, "member.joined_at")
                if joined
                else (at - _days(int(days)) if days is not None else at)
            )
            facts = MemberFacts(
                tier=tier.code,
                attributes=dict(inline.get("attributes") or {}),
                birthday=date.fromisoformat(str(birthday)) if birthday else None,
                joined_at=joined_at,
                purchase_count=int(inline.get("purchase_count") or 0),
            )
            state_member = 0
        else:
            raise InvalidInput("member_id or member is required", field="member_id")
        base = 0
        if event_type == "purchase" and amount is not None:
            base = points_for_amount(int(amount * 100), program.earn_rate, tier.multiplier)
        statuses = ("active", "draft") if body.get("include_drafts", True) else ("active",)
        candidates, spent = load_candidates(uow, program, event_type, statuses)
        event = event_context(
            event_type,
            at,
            program.timezone,
            amount,
            raw_event.get("items"),
            raw_event.get("channel"),
            raw_event.get("store"),
            raw_event.get("attributes"),
        )
        evaluation = decide(
            candidates,
            LiveState(RulesRepository(uow.session), spent),
            program,
            state_member,
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
            "member": {"tier": facts.tier, "purchase_count": facts.purchase_count},
            "base_points": base,
            "rule_points": evaluation.points,
            "total_points": base + evaluation.points,
            "rules": [_trace_out(t) for t in evaluation.rules],
            "campaigns": [_campaign_out(c) for c in evaluation.campaigns],
            "awards": [a.detail() for a in evaluation.awards],
        }


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


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

    @property
    def cost(self) -> Decimal:
        return (self.points * self.point_value).quantize(Decimal("0.01"))


def replay(
    uow: UnitOfWork,
    campaign_code: str,
    start: datetime,
    end: datetime,
    program_code: str = "default",
    point_value: Decimal | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Run the campaign's rules (drafts too) over the purchases stored between ``start``
    and ``end`` as if it had been on: caps and budget counted in memory, the member's
    tier at the time, nothing written."""
    from patronage.storage.tables import EventRow, MemberRow, TierHistoryRow, TierRow

    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        row = repo.campaign(program.id or 0, campaign_code)
        campaign = Campaign(
            code=row.code,
            name=row.name,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            segment=row.segment,
            budget=row.budget,
            caps={k: int(v) for k, v in (row.caps or {}).items()},
            priority=row.priority,
            stacking="stack",
            status="active",
            id=row.id,
        )
        rules = [
            _rule_of(tuple(getattr(r, c.name) for c in _RULE_COLS))
            for r in repo.rule_rows(program.id or 0)
            if r.campaign_id == row.id and r.status in ("active", "draft")
        ]
        report = ReplayReport(
            campaign_code,
            start,
            end,
            point_value=point_value if point_value is not None else program.point_value_minor / 100,
            budget=row.budget,
        )
        state = MemoryState()
        state.budgets[row.id] = row.budget
        tiers_by_id = {
            t.id: t.code
            for t in uow.session.scalars(select(TierRow).where(TierRow.program_id == program.id))
        }
        members: dict[int, tuple[MemberFacts, list[tuple[datetime, datetime | None, str]]]] = {}
        counts: dict[int, int] = {}
        reached: set[int] = set()
        query = (
            select(EventRow)
            .where(
                EventRow.program_id == program.id,
                EventRow.type.in_({r.on for r in rules} or {"purchase"}),
                EventRow.occurred_at >= start,
                EventRow.occurred_at < end,
            )
            .order_by(EventRow.occurred_at, EventRow.id)
            .execution_options(yield_per=1000)
        )
        candidates_by_type: dict[str, Candidates] = {}
        for r in rules:
            candidates_by_type.setdefault(r.on, []).append((r, campaign))
        for n, ev in enumerate(uow.session.scalars(query), 1):
            if progress and n % 1000 == 0:
                progress(1000)
            report.events += 1
            if ev.member_id not in members:
                m = uow.session.get(MemberRow, ev.member_id)
                assert m is not None
                history = [
                    (h.valid_from, h.valid_to, tiers_by_id[h.tier_id])
                    for h in uow.session.scalars(
                        select(TierHistoryRow)
                        .where(TierHistoryRow.member_id == m.id)
                        .order_by(TierHistoryRow.valid_from, TierHistoryRow.id)
                    )
                ]
                facts = MemberFacts(
                    tier=program.base_tier().code,
                    attributes=dict(m.attributes or {}),
                    birthday=m.birthday,
                    joined_at=m.joined_at,
                    id=m.id,
                )
                members[m.id] = (facts, history)
                counts[m.id] = repo.purchase_count(m.id, before=ev.occurred_at)
            facts, history = members[ev.member_id]
            tier_code = facts.tier
            for valid_from, valid_to, code in history:
                if valid_from <= ev.occurred_at and (valid_to is None or ev.occurred_at < valid_to):
                    tier_code = code
            tier = program.tier(tier_code)
            amount = Decimal(ev.amount_minor or 0) / 100
            base = (
                points_for_amount(ev.amount_minor or 0, program.earn_rate, tier.multiplier)
                if ev.type == "purchase"
                else 0
            )
            at = ev.occurred_at
            mfacts = MemberFacts(
                tier=tier.code,
                attributes=facts.attributes,
                birthday=facts.birthday,
                joined_at=facts.joined_at,
                purchase_count=counts[ev.member_id],
                id=facts.id,
            )
            if ev.type == "purchase":
                counts[ev.member_id] += 1
            evaluation = decide(
                candidates_by_type.get(ev.type, []),
                state,
                program,
                ev.member_id,
                event_context(
                    ev.type,
                    at,
                    program.timezone,
                    amount if ev.amount_minor is not None else None,
                    ev.items,
                    ev.channel,
                    ev.store,
                    ev.attributes,
                ),
                member_context(mfacts, at, program.timezone),
                base,
                at,
                live_campaigns=False,
            )
            got = 0
            for a in evaluation.awards:
                if report.budget is not None:
                    left = report.budget - state.spent.get(row.id, 0)
                    pts = min(a.points, left)
                else:
                    pts = a.points
                if pts <= 0:
                    report.budget_exhausted = True
                    continue
                state.spent[row.id] = state.spent.get(row.id, 0) + pts
                state.awards.append((ev.member_id, row.id, a.rule, at, pts))
                report.by_rule[a.rule] = report.by_rule.get(a.rule, 0) + pts
                got += pts
            if got:
                report.events_earning += 1
                report.points += got
                reached.add(ev.member_id)
        if report.budget is not None and state.spent.get(row.id, 0) >= report.budget:
            report.budget_exhausted = True
        report.members = len(reached)
        uow.rollback()
        return report


_RULE_COLS = (
    RuleRow.__table__.c.id, RuleRow.__table__.c.code, RuleRow.__table__.c.version,
    RuleRow.__table__.c.name, RuleRow.__table__.c.on_event, RuleRow.__table__.c.condition,
    RuleRow.__table__.c.action, RuleRow.__table__.c.value, RuleRow.__table__.c.item_filter,
    RuleRow.__table__.c.priority, RuleRow.__table__.c.limit_count,
    RuleRow.__table__.c.limit_per, RuleRow.__table__.c.status,
)  # fmt: skip


# --- administration ---------------------------------------------------------------------------


def _int(value: Any, field_name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"{field_name} must be a whole number", field=field_name)
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{field_name} must be a whole number", field=field_name) from None
    if number < minimum or number > 10**12:
        raise InvalidInput(f"{field_name} must be at least {minimum}", field=field_name)
    return number


RULE_FIELDS = [
    "code",
    "name",
    "campaign",
    "event_type",
    "condition",
    "action",
    "value",
    "item_filter",
    "priority",
    "limit",
    "status",
    "program",
]
CAMPAIGN_FIELDS = [
    "code",
    "name",
    "starts_at",
    "ends_at",
    "segment",
    "budget",
    "caps",
    "priority",
    "stacking",
    "status",
    "program",
]


def _no_nul(data: Mapping[str, Any], prefix: str) -> None:
    """Text with NUL characters cannot be stored (PostgreSQL refuses them)."""
    for key, value in data.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(f"{key} contains a NUL character", field=f"{prefix}{key}")
        if isinstance(value, Mapping):
            _no_nul(value, f"{prefix}{key}.")


def rule_from_dict(data: Mapping[str, Any], prefix: str = "") -> Rule:
    _no_nul(data, prefix)
    unknown = sorted(set(data) - set(RULE_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}", field=f"{prefix}{unknown[0]}")
    for name in ("code", "name", "condition", "action", "value"):
        if data.get(name) in (None, ""):
            raise InvalidInput(f"{name} is required", field=f"{prefix}{name}")
    for name in ("code", "name", "condition", "action", "event_type", "campaign", "item_filter"):
        if data.get(name) is not None and not isinstance(data.get(name), str):
            raise InvalidInput(f"{name} must be text", field=f"{prefix}{name}")
    limit = data.get("limit")
    parsed_limit = None
    if limit is not None:
        if not isinstance(limit, Mapping):
            raise InvalidInput("limit is {count, per}", field=f"{prefix}limit")
        parsed_limit = Limit(
            _int(limit.get("count"), f"{prefix}limit.count", 1), str(limit.get("per") or "")
        )
    value = _decimal(data.get("value"), f"{prefix}value")
    rule = Rule(
        code=str(data["code"]),
        name=str(data["name"]),
        condition=str(data["condition"]),
        action=str(data["action"]),
        value=value or Decimal(0),
        on=str(data.get("event_type") or "purchase"),
        item_filter=data.get("item_filter") or None,
        campaign=data.get("campaign") or None,
        priority=_int(data.get("priority", 0), f"{prefix}priority", -(10**6)),
        limit=parsed_limit,
        status=str(data.get("status") or "active"),
    )
    validate_rule(rule, prefix)
    return rule


def campaign_from_dict(data: Mapping[str, Any], prefix: str = "") -> Campaign:
    _no_nul(data, prefix)
    unknown = sorted(set(data) - set(CAMPAIGN_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}", field=f"{prefix}{unknown[0]}")
    for name in ("code", "name"):
        if not data.get(name) or not isinstance(data.get(name), str):
            raise InvalidInput(f"{name} is required", field=f"{prefix}{name}")
    caps = data.get("caps") or {}
    if not isinstance(caps, Mapping):
        raise InvalidInput("caps is {day, week, month, campaign}", field=f"{prefix}caps")
    segment = data.get("segment")
    if segment is not None and not isinstance(segment, str):
        raise InvalidInput("segment must be text", field=f"{prefix}segment")
    campaign = Campaign(
        code=str(data["code"]),
        name=str(data["name"]),
        starts_at=_parse_time(data["starts_at"], f"{prefix}starts_at")
        if data.get("starts_at")
        else None,
        ends_at=_parse_time(data["ends_at"], f"{prefix}ends_at") if data.get("ends_at") else None,
        segment=segment or None,
        budget=_int(data["budget"], f"{prefix}budget") if data.get("budget") is not None else None,
        caps={str(k): _int(v, f"{prefix}caps.{k}") for k, v in caps.items()},
        priority=_int(data.get("priority", 0), f"{prefix}priority", -(10**6)),
        stacking=str(data.get("stacking") or "stack"),
        status=str(data.get("status") or "active"),
    )
    validate_campaign(campaign, prefix)
    return campaign


def rule_view(row: RuleRow, campaign_code: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": row.code,
        "name": row.name,
        "version": row.version,
        "label": f"{row.name} (v{row.version})",
        "status": row.status,
        "event_type": row.on_event,
        "condition": row.condition,
        "action": row.action,
        "value": _plain(row.value),
        "item_filter": row.item_filter,
        "campaign": campaign_code,
        "priority": row.priority,
        "limit": {"count": row.limit_count, "per": row.limit_per} if row.limit_count else None,
        "created_at": row.created_at,
        "created_by": row.created_by,
    }
    return out


def campaign_view(row: CampaignRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "status": row.status,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "segment": row.segment,
        "budget": row.budget,
        "spent": row.spent,
        "caps": dict(row.caps or {}),
        "priority": row.priority,
        "stacking": row.stacking,
        "revision": row.revision,
        "updated_at": row.updated_at,
    }


def _plain(value: Decimal) -> int | float:
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def _same_rule(row: RuleRow, rule: Rule, campaign_id: int | None) -> bool:
    return (
        row.name == rule.name
        and row.on_event == rule.on
        and row.condition == rule.condition
        and row.action == rule.action
        and Decimal(row.value) == rule.value
        and row.item_filter == rule.item_filter
        and row.campaign_id == campaign_id
        and row.priority == rule.priority
        and (row.limit_count, row.limit_per)
        == ((rule.limit.count, rule.limit.per) if rule.limit else (None, None))
        and row.status == rule.status
    )


def _campaign_id(
    repo: RulesRepository, program: Program, code: str | None, field_name: str
) -> int | None:
    if code is None:
        return None
    try:
        return repo.campaign(program.id or 0, code).id
    except NotFound:
        raise InvalidInput(f"no campaign {code!r}", field=field_name) from None


def _save_rule(
    uow: UnitOfWork, program: Program, rule: Rule, actor: str | None, must_exist: bool | None
) -> tuple[RuleRow, str]:
    """Add a version when the rule is new or changed; ``must_exist`` True for updates,
    False for creation, None for imports."""
    repo = RulesRepository(uow.session)
    campaign_id = _campaign_id(repo, program, rule.campaign, "campaign")
    existing = repo.rule_rows(program.id or 0, rule.code)
    current = existing[-1] if existing else None
    if must_exist is True and current is None:
        raise NotFound(f"no rule {rule.code!r}", rule=rule.code)
    if must_exist is False and current is not None:
        raise Conflict(f"rule {rule.code!r} already exists", code="duplicate_rule", rule=rule.code)
    if current is not None and _same_rule(current, rule, campaign_id):
        return current, "unchanged"
    last = uow.session.scalar(
        select(func.max(RuleRow.version)).where(
            RuleRow.program_id == program.id, RuleRow.code == rule.code
        )
    )
    row = RuleRow(
        program_id=program.id,
        code=rule.code,
        version=(last or 0) + 1,
        is_current=True,
        name=rule.name,
        on_event=rule.on,
        condition=rule.condition,
        action=rule.action,
        value=rule.value,
        item_filter=rule.item_filter,
        campaign_id=campaign_id,
        priority=rule.priority,
        limit_count=rule.limit.count if rule.limit else None,
        limit_per=rule.limit.per if rule.limit else None,
        status=rule.status,
        created_at=uow.clock(),
        created_by=actor,
    )
    repo.add_rule_version(row)
    uow.audit.add(
        at=uow.clock(),
        actor=actor or "system",
        action="rule_saved",
        target_type="rule",
        target_id=f"{program.code}:{rule.code}",
        before={"version": current.version} if current else None,
        after={"version": row.version, "status": row.status},
        reason=None,
    )
    return row, "created" if current is None else "updated"


def _campaign_code(repo: RulesRepository, row: RuleRow) -> str | None:
    return repo.campaign_by_id(row.campaign_id).code if row.campaign_id else None


def save_rule(
    uow: UnitOfWork,
    data: Mapping[str, Any],
    actor: str | None,
    program_code: str = "default",
    code: str | None = None,
) -> dict[str, Any]:
    """Create a rule (``code`` None) or give an existing one a new version."""
    with uow:
        program = uow.programs.get(program_code)
        if code is not None:
            data = {**data, "code": code}
        rule = rule_from_dict(data)
        row, _ = _save_rule(uow, program, rule, actor, must_exist=code is not None)
        view = rule_view(row, _campaign_code(RulesRepository(uow.session), row))
        uow.commit()
        return view


def disable_rule(
    uow: UnitOfWork, code: str, actor: str | None, program_code: str = "default"
) -> dict[str, Any]:
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        current = repo.current_rule(program.id or 0, code)
        rule = _rule_of(tuple(getattr(current, c.name) for c in _RULE_COLS))
        campaign = _campaign_code(repo, current)
        from dataclasses import replace

        row, _ = _save_rule(
            uow, program, replace(rule, status="disabled", campaign=campaign), actor, True
        )
        view = rule_view(row, campaign)
        uow.commit()
        return view


def list_rules(
    uow: UnitOfWork, program_code: str = "default", include_disabled: bool = True
) -> list[dict[str, Any]]:
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        codes = {c.id: c.code for c in repo.campaign_rows(program.id or 0)}
        return [
            rule_view(r, codes.get(r.campaign_id or 0))
            for r in repo.rule_rows(program.id or 0)
            if include_disabled or r.status != "disabled"
        ]


def get_rule(
    uow: UnitOfWork, code: str, program_code: str = "default", version: int | None = None
) -> dict[str, Any]:
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        codes = {c.id: c.code for c in repo.campaign_rows(program.id or 0)}
        rows = repo.rule_rows(program.id or 0, code, current_only=False)
        if not rows:
            raise NotFound(f"no rule {code!r}", rule=code)
        chosen = rows[-1]
        if version is not None:
            found = [r for r in rows if r.version == version]
            if not found:
                raise NotFound(f"rule {code!r} has no version {version}", rule=code)
            chosen = found[0]
        view = rule_view(chosen, codes.get(chosen.campaign_id or 0))
        view["versions"] = [
            {
                "version": r.version,
                "status": r.status,
                "created_at": r.created_at,
                "created_by": r.created_by,
            }
            for r in rows
        ]
        return view


def _save_campaign(
    uow: UnitOfWork,
    program: Program,
    campaign: Campaign,
    actor: str | None,
    must_exist: bool | None,
) -> tuple[CampaignRow, str]:
    repo = RulesRepository(uow.session)
    try:
        row: CampaignRow | None = repo.campaign(program.id or 0, campaign.code)
    except NotFound:
        row = None
    if must_exist is True and row is None:
        raise NotFound(f"no campaign {campaign.code!r}", campaign=campaign.code)
    if must_exist is False and row is not None:
        raise Conflict(
            f"campaign {campaign.code!r} already exists",
            code="duplicate_campaign",
            campaign=campaign.code,
        )
    now = uow.clock()
    values = {
        "name": campaign.name,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "segment": campaign.segment,
        "budget": campaign.budget,
        "caps": dict(campaign.caps),
        "priority": campaign.priority,
        "stacking": campaign.stacking,
        "status": campaign.status,
    }
    if row is None:
        row = repo.add_campaign(
            CampaignRow(
                program_id=program.id,
                code=campaign.code,
                spent=0,
                revision=1,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
        outcome = "created"
    else:
        before = {k: getattr(row, k) for k in values}
        if before == values:
            return row, "unchanged"
        for k, v in values.items():
            setattr(row, k, v)
        row.revision += 1
        row.updated_at = now
        uow.session.flush()
        outcome = "updated"
    uow.audit.add(
        at=now,
        actor=actor or "system",
        action="campaign_saved",
        target_type="campaign",
        target_id=f"{program.code}:{campaign.code}",
        before=None,
        after={"revision": row.revision, "status": row.status},
        reason=None,
    )
    return row, outcome


def save_campaign(
    uow: UnitOfWork,
    data: Mapping[str, Any],
    actor: str | None,
    program_code: str = "default",
    code: str | None = None,
) -> dict[str, Any]:
    with uow:
        program = uow.programs.get(program_code)
        if code is not None:
            data = {**data, "code": code}
        campaign = campaign_from_dict(data)
        row, _ = _save_campaign(uow, program, campaign, actor, must_exist=code is not None)
        view = campaign_view(row)
        uow.commit()
        return view


def disable_campaign(
    uow: UnitOfWork, code: str, actor: str | None, program_code: str = "default"
) -> dict[str, Any]:
    with uow:
        program = uow.programs.get(program_code)
        row = RulesRepository(uow.session).campaign(program.id or 0, code)
        if row.status != "disabled":
            row.status = "disabled"
            row.revision += 1
            row.updated_at = uow.clock()
            uow.audit.add(
                at=uow.clock(),
                actor=actor or "system",
                action="campaign_disabled",
                target_type="campaign",
                target_id=f"{program.code}:{code}",
                before=None,
                after={"revision": row.revision},
                reason=None,
            )
        view = campaign_view(row)
        uow.commit()
        return view


def list_campaigns(uow: UnitOfWork, program_code: str = "default") -> list[dict[str, Any]]:
    with uow:
        program = uow.programs.get(program_code)
        return [
            campaign_view(r) for r in RulesRepository(uow.session).campaign_rows(program.id or 0)
        ]


def get_campaign(uow: UnitOfWork, code: str, program_code: str = "default") -> dict[str, Any]:
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        row = repo.campaign(program.id or 0, code)
        view = campaign_view(row)
        view["rules"] = [r.code for r in repo.rule_rows(program.id or 0) if r.campaign_id == row.id]
        issued, members = repo.awards_total(row.id)
        view["issued"], view["members_reached"] = issued, members
        return view


# --- YAML --------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    program: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    lines: list[str] = field(default_factory=list)


def import_yaml(uow: UnitOfWork, text: str, actor: str | None = None) -> ImportReport:
    """Load campaigns and rules from YAML, all or nothing: one invalid entry (named with
    its place, e.g. ``rules[2].condition``) and nothing is saved. Rules that changed get
    a new version; unchanged ones are left alone, so an import can be re-run."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidInput(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            code="invalid_yaml",
            field="file",
            line=(mark.line + 1) if mark else 1,
            column=(mark.column + 1) if mark else 1,
        ) from None
    if not isinstance(data, Mapping):
        raise InvalidInput("the file must hold a mapping with rules and campaigns", field="file")
    unknown = sorted(set(data) - {"program", "campaigns", "rules"})
    if unknown:
        raise InvalidInput(f"unknown section {unknown[0]!r}", field=unknown[0])
    program_code = str(data.get("program") or "default")
    campaigns = [
        campaign_from_dict(c if isinstance(c, Mapping) else {}, f"campaigns[{i}].")
        for i, c in enumerate(data.get("campaigns") or [])
    ]
    rules = [
        rule_from_dict(r if isinstance(r, Mapping) else {}, f"rules[{i}].")
        for i, r in enumerate(data.get("rules") or [])
    ]
    report = ImportReport(program_code)
    with uow:
        program = uow.programs.get(program_code)
        for campaign in campaigns:
            _, outcome = _save_campaign(uow, program, campaign, actor, None)
            _count(report, outcome, f"campaign {campaign.code}")
        for i, rule in enumerate(rules):
            repo = RulesRepository(uow.session)
            _campaign_id(repo, program, rule.campaign, f"rules[{i}].campaign")
            row, outcome = _save_rule(uow, program, rule, actor, None)
            _count(report, outcome, f"rule {rule.code} v{row.version}")
        uow.commit()
    return report


def _count(report: ImportReport, outcome: str, what: str) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)
    report.lines.append(f"{outcome}: {what}")


def _yaml_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def export_yaml(uow: UnitOfWork, program_code: str = "default") -> str:
    """Current campaigns and rules of a program, in the format import reads."""
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        campaign_rows = repo.campaign_rows(program.id or 0)
        codes = {c.id: c.code for c in campaign_rows}
        campaigns = []
        for c in campaign_rows:
            entry: dict[str, Any] = {"code": c.code, "name": c.name}
            for key, value in (
                ("starts_at", _yaml_time(c.starts_at)),
                ("ends_at", _yaml_time(c.ends_at)),
                ("segment", c.segment),
                ("budget", c.budget),
                ("caps", dict(c.caps) if c.caps else None),
            ):
                if value is not None:
                    entry[key] = value
            entry.update({"priority": c.priority, "stacking": c.stacking, "status": c.status})
            campaigns.append(entry)
        rules = []
        for r in repo.rule_rows(program.id or 0):
            entry = {"code": r.code, "name": r.name}
            if r.campaign_id:
                entry["campaign"] = codes[r.campaign_id]
            entry.update(
                {
                    "event_type": r.on_event,
                    "condition": r.condition,
                    "action": r.action,
                    "value": _plain(r.value),
                }
            )
            if r.item_filter:
                entry["item_filter"] = r.item_filter
            entry["priority"] = r.priority
            if r.limit_count:
                entry["limit"] = {"count": r.limit_count, "per": r.limit_per}
            entry["status"] = r.status
            rules.append(entry)
    document = {"program": program.code, "campaigns": campaigns, "rules": rules}
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))


__all__ = [
    "STATUSES",
    "Award",
    "Awards",
    "awards_for",
    "export_yaml",
    "import_yaml",
    "replay",
    "simulate",
]
