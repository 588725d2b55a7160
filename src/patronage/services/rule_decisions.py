"""Which earning rules fire for an event and a member, and what caps, frequency limits,
budgets and stacking leave of them. No writes: the state caps and limits are counted
against is given (stored awards on the earn path, memory in a replay)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import cel

from patronage.domain.program import Program
from patronage.domain.rules import (
    Campaign,
    CampaignTrace,
    Rule,
    RuleTrace,
    action_cashback,
    action_points,
    cap_starts,
    choose,
    distribute,
    earns,
    evaluate,
    period_start,
)
from patronage.storage.rules_repository import Candidates


@dataclass(frozen=True)
class Award:
    rule: str
    version: int
    rule_id: int
    points: int
    label: str
    campaign: str | None = None
    campaign_id: int | None = None
    cashback_minor: int = 0  # money into the wallet (a cashback rule; its points are 0)

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "version": self.version,
            "points": self.points,
            "label": self.label,
        }
        if self.campaign:
            out["campaign"] = self.campaign
        if self.cashback_minor:
            out["cashback_minor"] = self.cashback_minor
        return out


class AwardTotals:
    """The points and the cashback of the ``awards`` a class holds."""

    awards: Sequence[Award]

    @property
    def points(self) -> int:
        return sum(a.points for a in self.awards)

    @property
    def cashback_minor(self) -> int:
        return sum(a.cashback_minor for a in self.awards)


# --- the state caps, limits and budgets are checked against -------------------------------


class State(Protocol):
    def cap_usage(
        self, member_id: int, campaign_ids: Sequence[int], starts: dict[str, datetime]
    ) -> dict[int, dict[str, int]]: ...

    def award_count(self, member_id: int, rule_code: str, since: datetime) -> int: ...

    def budget(self, campaign_id: int) -> tuple[int | None, int]: ...


@dataclass
class Evaluation(AwardTotals):
    base_points: int
    rules: list[RuleTrace] = field(default_factory=list)
    campaigns: list[CampaignTrace] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)


# --- the decision -----------------------------------------------------------------------------


@dataclass
class _Decision:
    """What one decision reads: the event, the member and the state of caps and limits."""

    candidates: Candidates
    state: State
    program: Program
    member_id: int
    event: dict[str, Any]
    base_points: int
    at: datetime
    member: dict[str, Any]
    context: Any
    usage: dict[int, dict[str, int]] | None = None
    segment_context: Any = None  # built when a campaign first has a segment
    segments: dict[str, bool] = field(default_factory=dict)

    def in_segment(self, campaign: Campaign) -> bool:
        """Whether the member is in the campaign's segment: each expression is evaluated
        once per decision (one that fails, for each campaign, so each is logged)."""
        source = campaign.segment or ""
        found = self.segments.get(source)
        if found is None:
            if self.segment_context is None:
                self.segment_context = cel.Context({"member": self.member})
            outcome = evaluate(source, self.segment_context, f"{campaign.code} segment")
            if outcome.error is None:
                self.segments[source] = outcome.value
            found = outcome.value
        return found


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
    """Which rules fire, what caps, limits, budgets and stacking leave of them.
    ``live_campaigns`` False (simulation, replay) lets draft campaigns run."""
    result = Evaluation(base_points)
    if not candidates:
        return result
    run = _Decision(
        candidates,
        state,
        program,
        member_id,
        event,
        base_points,
        at,
        member,
        cel.Context({"event": event, "member": member}),
    )
    for campaign, rules in _groups(candidates):
        ctrace = None if campaign is None else _campaign_trace(run, campaign, live_campaigns)
        traces = [_rule_trace(run, rule, campaign, ctrace) for rule in rules]
        result.rules.extend(traces)
        firing = [t for t in traces if t.points > 0]
        if ctrace is None:
            for t in firing:
                t.awarded, t.decision = t.points, "earns (no campaign)"
            continue
        assert campaign is not None
        ctrace.rules = traces
        ctrace.requested = sum(t.points for t in firing)
        ctrace.points = _allowed(run, campaign, ctrace)
        if ctrace.requested and not ctrace.points:
            ctrace.decision = "cap or budget reached"
        result.campaigns.append(ctrace)
    _stack(result.campaigns)
    result.awards = _awards(result.rules, candidates)
    return result


Groups = list[tuple[Campaign | None, list[Rule]]]
_GROUPS: dict[int, tuple[Candidates, Groups]] = {}


def _groups(candidates: Candidates) -> Groups:
    """Rules by campaign (the rules of no campaign first), highest priority first. The
    earn path gets the same candidates list for every event while the rules do not
    change (storage/reference.py), so its grouping is kept with it."""
    kept = _GROUPS.get(id(candidates))
    if kept is not None and kept[0] is candidates:
        return kept[1]
    groups: dict[str, tuple[Campaign | None, list[Rule]]] = {}
    for rule, campaign in candidates:
        groups.setdefault(campaign.code if campaign else "", (campaign, []))[1].append(rule)
    ordered = [
        (campaign, sorted(rules, key=lambda r: (-r.priority, r.code)))
        for _, (campaign, rules) in sorted(groups.items())
    ]
    if len(_GROUPS) > 256:
        _GROUPS.clear()
    _GROUPS[id(candidates)] = (candidates, ordered)
    return ordered


def _campaign_trace(run: _Decision, campaign: Campaign, live: bool) -> CampaignTrace:
    ctrace = CampaignTrace(campaign.code, campaign.name, campaign.stacking, campaign.priority)
    switched_on = campaign.status == "active" if live else campaign.status != "disabled"
    ctrace.running = campaign.running(run.at) and switched_on
    if campaign.segment:
        ctrace.in_segment = run.in_segment(campaign)
    return ctrace


def _rule_trace(
    run: _Decision, rule: Rule, campaign: Campaign | None, ctrace: CampaignTrace | None
) -> RuleTrace:
    """Whether one rule fires and the points its action gives, before caps; or the
    cashback it pays (cashback is outside points caps, budgets and stacking)."""
    code = campaign.code if campaign else None
    trace = RuleTrace(rule.code, rule.version, rule.name, code, rule.status)
    if ctrace is not None and not ctrace.running:
        trace.decision = "campaign not running"
        return trace
    if ctrace is not None and not ctrace.in_segment:
        trace.decision = "member not in the campaign's segment"
        return trace
    outcome = evaluate(rule.condition, run.context, rule.code)
    trace.condition, trace.error = outcome.value, outcome.error
    if not outcome.value:
        trace.decision = "error: does not fire" if outcome.error else "condition false"
        return trace
    if rule.pays_cashback:
        amount, error = action_cashback(rule, run.event)
    else:
        amount, error = action_points(rule, run.event, run.base_points)
    if error:
        trace.error, trace.decision = error, "error in the item filter: does not fire"
        return trace
    if rule.limit is not None:
        since = period_start(rule.limit.per, run.at, run.program.timezone, campaign)
        used = run.state.award_count(run.member_id, rule.code, since)
        if used >= rule.limit.count:
            trace.decision = f"limit reached: {used} of {rule.limit.count} per {rule.limit.per}"
            return trace
    if rule.pays_cashback:
        trace.cashback_minor = amount
        trace.decision = "pays cashback" if amount > 0 else "fires but pays no cashback"
        return trace
    trace.points = amount
    if amount <= 0:
        trace.decision = "fires but gives no points"
    return trace


def _allowed(run: _Decision, campaign: Campaign, ctrace: CampaignTrace) -> int:
    """What the campaign's caps and budget leave of the points its rules ask for."""
    allowed = ctrace.requested
    assert campaign.id is not None
    if campaign.caps and allowed > 0:
        if run.usage is None:  # one query for every capped campaign of the event
            capped = sorted({c.id or 0 for _, c in run.candidates if c is not None and c.caps})
            starts = cap_starts(run.at, run.program.timezone)
            run.usage = run.state.cap_usage(run.member_id, capped, starts)
        taken = run.usage[campaign.id]
        for period, cap in campaign.caps.items():
            left = max(0, cap - taken[period])
            ctrace.caps[period] = {"cap": cap, "used": taken[period], "left": left}
            allowed = min(allowed, left)
    if campaign.budget is not None and allowed > 0:
        _, spent = run.state.budget(campaign.id)
        left = max(0, campaign.budget - spent)
        ctrace.budget = {"budget": campaign.budget, "spent": spent, "left": left}
        allowed = min(allowed, left)
    return allowed


def _stack(campaigns: list[CampaignTrace]) -> None:
    """Stacking across campaigns, then each earning campaign's points spread over its
    firing rules."""
    choose(campaigns)
    for ctrace in campaigns:
        firing = [t for t in ctrace.rules if t.points > 0]
        if not earns(ctrace):
            for t in firing:
                t.decision = ctrace.decision or "campaign does not earn"
            continue
        distribute(ctrace.points, firing)
        for t in firing:
            capped = t.awarded != t.points
            t.decision = f"capped: {t.awarded} of {t.points}" if capped else ctrace.decision


def _awards(traces: list[RuleTrace], candidates: Candidates) -> list[Award]:
    by_code = {r.code: (r, c) for r, c in candidates}
    awards = []
    for t in traces:
        if t.awarded > 0 or t.cashback_minor > 0:
            rule, campaign = by_code[t.rule]
            awards.append(
                Award(
                    rule.code,
                    rule.version,
                    rule.id or 0,
                    t.awarded,
                    rule.label,
                    campaign.code if campaign else None,
                    campaign.id if campaign else None,
                    t.cashback_minor,
                )
            )
    return awards
