"""The program's rules and campaigns: create, new versions, disable, list, read.

A rule is never edited in place: a change adds a version, so an earn entry can always
say which version produced its points. A campaign is edited in place (its revision
counts the changes); its ``spent`` budget only grows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from patronage.domain.program import Program
from patronage.domain.rules import Campaign, Rule
from patronage.errors import Conflict, InvalidInput, NotFound
from patronage.services.rule_input import campaign_from_dict, rule_from_dict
from patronage.storage.rules_repository import RulesRepository, rule_of_row
from patronage.storage.rules_tables import CampaignRow, RuleRow
from patronage.storage.uow import UnitOfWork

# --- views -----------------------------------------------------------------------------


def plain_number(value: Decimal) -> int | float:
    """A rule's value as JSON and YAML show it: 2, not 2.0000."""
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def rule_view(row: RuleRow, campaign_code: str | None) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "version": row.version,
        "label": f"{row.name} (v{row.version})",
        "status": row.status,
        "event_type": row.on_event,
        "condition": row.condition,
        "action": row.action,
        "value": plain_number(row.value),
        "cap_minor": row.cap_minor,
        "item_filter": row.item_filter,
        "campaign": campaign_code,
        "priority": row.priority,
        "limit": {"count": row.limit_count, "per": row.limit_per} if row.limit_count else None,
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


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


# --- saving ------------------------------------------------------------------------------


def _audit(
    uow: UnitOfWork,
    actor: str | None,
    action: str,
    target: tuple[str, str],
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    uow.audit.add(
        at=uow.clock(),
        actor=actor or "system",
        action=action,
        target_type=target[0],
        target_id=target[1],
        before=before,
        after=after,
        reason=None,
    )


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
        and row.cap_minor == rule.cap_minor
    )


def campaign_id_of(
    repo: RulesRepository, program: Program, code: str | None, field_name: str
) -> int | None:
    """The id of the campaign a rule names; an unknown one is an input error."""
    if code is None:
        return None
    try:
        return repo.campaign(program.id or 0, code).id
    except NotFound:
        raise InvalidInput(f"no campaign {code!r}", field=field_name) from None


def store_rule(
    uow: UnitOfWork,
    program: Program,
    rule: Rule,
    actor: str | None,
    must_exist: bool | None,
    campaign_field: str = "campaign",
) -> tuple[RuleRow, str]:
    """Add a version when the rule is new or changed; ``must_exist`` True for updates,
    False for creation, None for imports. Returns the current row and what happened."""
    repo = RulesRepository(uow.session)
    campaign_id = campaign_id_of(repo, program, rule.campaign, campaign_field)
    existing = repo.rule_rows(program.id or 0, rule.code)
    current = existing[-1] if existing else None
    if must_exist is True and current is None:
        raise NotFound(f"no rule {rule.code!r}", rule=rule.code)
    if must_exist is False and current is not None:
        raise Conflict(f"rule {rule.code!r} already exists", code="duplicate_rule", rule=rule.code)
    if current is not None and _same_rule(current, rule, campaign_id):
        return current, "unchanged"
    row = RuleRow(
        program_id=program.id,
        code=rule.code,
        version=repo.last_version(program.id or 0, rule.code) + 1,
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
        cap_minor=rule.cap_minor,
    )
    repo.add_rule_version(row)
    before = {"version": current.version} if current else None
    after = {"version": row.version, "status": row.status}
    _audit(uow, actor, "rule_saved", ("rule", f"{program.code}:{rule.code}"), before, after)
    return row, "created" if current is None else "updated"


def store_campaign(
    uow: UnitOfWork,
    program: Program,
    campaign: Campaign,
    actor: str | None,
    must_exist: bool | None,
) -> tuple[CampaignRow, str]:
    """Create or change a campaign (``must_exist`` as for :func:`store_rule`)."""
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
        if {k: getattr(row, k) for k in values} == values:
            return row, "unchanged"
        for k, v in values.items():
            setattr(row, k, v)
        row.revision += 1
        row.updated_at = now
        uow.session.flush()
        outcome = "updated"
    after = {"revision": row.revision, "status": row.status}
    target = ("campaign", f"{program.code}:{campaign.code}")
    _audit(uow, actor, "campaign_saved", target, None, after)
    return row, outcome


def _campaign_code(repo: RulesRepository, row: RuleRow) -> str | None:
    return repo.campaign_by_id(row.campaign_id).code if row.campaign_id else None


def _saved(
    uow: UnitOfWork,
    data: Mapping[str, Any],
    program_code: str,
    code: str | None,
    store: Callable[[Program, Mapping[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """One save in its own transaction; ``code`` (an update) wins over the body's."""
    with uow:
        program = uow.programs.get(program_code)
        view = store(program, {**data, "code": code} if code is not None else data)
        uow.commit()
        return view


# --- rules ---------------------------------------------------------------------------------


def save_rule(
    uow: UnitOfWork,
    data: Mapping[str, Any],
    actor: str | None,
    program_code: str = "default",
    code: str | None = None,
) -> dict[str, Any]:
    """Create a rule (``code`` None) or give an existing one a new version."""

    def store(program: Program, body: Mapping[str, Any]) -> dict[str, Any]:
        row, _ = store_rule(uow, program, rule_from_dict(body), actor, must_exist=code is not None)
        return rule_view(row, _campaign_code(RulesRepository(uow.session), row))

    return _saved(uow, data, program_code, code, store)


def disable_rule(
    uow: UnitOfWork, code: str, actor: str | None, program_code: str = "default"
) -> dict[str, Any]:
    """A new version of the rule with status ``disabled``."""
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        current = repo.current_rule(program.id or 0, code)
        campaign = _campaign_code(repo, current)
        disabled = replace(rule_of_row(current), status="disabled", campaign=campaign)
        row, _ = store_rule(uow, program, disabled, actor, True)
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
    """A rule's current version (or the one asked for), with the list of its versions."""
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


# --- campaigns -------------------------------------------------------------------------------


def save_campaign(
    uow: UnitOfWork,
    data: Mapping[str, Any],
    actor: str | None,
    program_code: str = "default",
    code: str | None = None,
) -> dict[str, Any]:
    """Create a campaign (``code`` None) or change an existing one."""

    def store(program: Program, body: Mapping[str, Any]) -> dict[str, Any]:
        campaign = campaign_from_dict(body)
        row, _ = store_campaign(uow, program, campaign, actor, must_exist=code is not None)
        return campaign_view(row)

    return _saved(uow, data, program_code, code, store)


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
            target = ("campaign", f"{program.code}:{code}")
            _audit(uow, actor, "campaign_disabled", target, None, {"revision": row.revision})
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
    """A campaign with its rules, the points and cashback it issued and the members it
    reached."""
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        row = repo.campaign(program.id or 0, code)
        view = campaign_view(row)
        view["rules"] = [r.code for r in repo.rule_rows(program.id or 0) if r.campaign_id == row.id]
        issued, members = repo.awards_total(row.id)
        view["issued"], view["members_reached"] = issued, members
        view["cashback_issued_minor"] = repo.cashback_total(row.id)
        return view
