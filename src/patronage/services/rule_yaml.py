"""A program's rules and campaigns as a YAML file: import (all or nothing, safe to
re-run) and export (in the format import reads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

from patronage.errors import InvalidInput
from patronage.services.rule_catalogue import campaign_view, rule_view, store_campaign, store_rule
from patronage.services.rule_input import (
    CAMPAIGN_FIELDS,
    RULE_FIELDS,
    campaign_from_dict,
    rule_from_dict,
)
from patronage.storage.rules_repository import RulesRepository
from patronage.storage.uow import UnitOfWork


@dataclass
class ImportReport:
    program: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    lines: list[str] = field(default_factory=list)

    def count(self, outcome: str, what: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.lines.append(f"{outcome}: {what}")


def _load(text: str) -> Mapping[str, Any]:
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
    return data


def import_yaml(uow: UnitOfWork, text: str, actor: str | None = None) -> ImportReport:
    """Load campaigns and rules from YAML, all or nothing: one invalid entry (named with
    its place, e.g. ``rules[2].condition``) and nothing is saved. Rules that changed get
    a new version; unchanged ones are left alone, so an import can be re-run."""
    data = _load(text)
    campaigns = [
        campaign_from_dict(c if isinstance(c, Mapping) else {}, f"campaigns[{i}].")
        for i, c in enumerate(data.get("campaigns") or [])
    ]
    rules = [
        rule_from_dict(r if isinstance(r, Mapping) else {}, f"rules[{i}].")
        for i, r in enumerate(data.get("rules") or [])
    ]
    report = ImportReport(str(data.get("program") or "default"))
    with uow:
        program = uow.programs.get(report.program)
        for campaign in campaigns:
            _, outcome = store_campaign(uow, program, campaign, actor, None)
            report.count(outcome, f"campaign {campaign.code}")
        for i, rule in enumerate(rules):
            row, outcome = store_rule(uow, program, rule, actor, None, f"rules[{i}].campaign")
            report.count(outcome, f"rule {rule.code} v{row.version}")
        uow.commit()
    return report


def _entry(view: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    """A view's fields in the file's order, leaving out the empty ones."""
    entry = {}
    for name in fields:
        value = view.get(name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        if value is not None and value != {}:
            entry[name] = value
    return entry


def export_yaml(uow: UnitOfWork, program_code: str = "default") -> str:
    """Current campaigns and rules of a program, in the format import reads."""
    with uow:
        program = uow.programs.get(program_code)
        repo = RulesRepository(uow.session)
        campaign_rows = repo.campaign_rows(program.id or 0)
        codes = {c.id: c.code for c in campaign_rows}
        campaigns = [_entry(campaign_view(c), CAMPAIGN_FIELDS) for c in campaign_rows]
        rules = [
            _entry(rule_view(r, codes.get(r.campaign_id or 0)), RULE_FIELDS)
            for r in repo.rule_rows(program.id or 0)
        ]
    document = {"program": program.code, "campaigns": campaigns, "rules": rules}
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))
