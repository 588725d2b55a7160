"""Earning rules and campaigns: one import for the entry points (API, CLI, pages).

The work lives in modules named after it:

- :mod:`patronage.services.rule_decisions`: which rules fire for an event and a member,
  and what caps, frequency limits, budgets and stacking leave of them;
- :mod:`patronage.services.rule_evaluation`: the earn path, :func:`awards_for`;
- :mod:`patronage.services.rule_simulation`: :func:`simulate` and :func:`replay`,
  which write nothing;
- :mod:`patronage.services.rule_catalogue`: saving, versioning, disabling and reading
  rules and campaigns;
- :mod:`patronage.services.rule_input`: checking what comes in, field by field;
- :mod:`patronage.services.rule_yaml`: YAML import and export.
"""

from __future__ import annotations

from patronage.domain.rules import STATUSES
from patronage.services.rule_catalogue import (
    campaign_view,
    disable_campaign,
    disable_rule,
    get_campaign,
    get_rule,
    list_campaigns,
    list_rules,
    rule_view,
    save_campaign,
    save_rule,
)
from patronage.services.rule_decisions import Award, Evaluation, decide
from patronage.services.rule_evaluation import (
    NO_AWARDS,
    Awards,
    BudgetTakenMeanwhile,
    LiveState,
    awards_for,
    load_candidates,
    record_awards,
)
from patronage.services.rule_input import (
    CAMPAIGN_FIELDS,
    RULE_FIELDS,
    campaign_from_dict,
    rule_from_dict,
)
from patronage.services.rule_simulation import MemoryState, ReplayReport, replay, simulate
from patronage.services.rule_yaml import ImportReport, export_yaml, import_yaml

__all__ = [
    "CAMPAIGN_FIELDS",
    "NO_AWARDS",
    "RULE_FIELDS",
    "STATUSES",
    "Award",
    "Awards",
    "BudgetTakenMeanwhile",
    "Evaluation",
    "ImportReport",
    "LiveState",
    "MemoryState",
    "ReplayReport",
    "awards_for",
    "campaign_from_dict",
    "campaign_view",
    "decide",
    "disable_campaign",
    "disable_rule",
    "export_yaml",
    "get_campaign",
    "get_rule",
    "import_yaml",
    "list_campaigns",
    "list_rules",
    "load_candidates",
    "replay",
    "rule_from_dict",
    "rule_view",
    "save_campaign",
    "save_rule",
    "simulate",
    "record_awards",
]
