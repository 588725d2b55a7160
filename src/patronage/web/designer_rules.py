"""Earning rules in the program designer: the list with a form for a new rule, one rule
with its versions and a form for the next version, disabling, and the JSON check the
CEL editor calls as the admin types (the same validator the save path runs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from patronage.domain.rules import (
    ACTIONS,
    CUSTOM_EVENT_TYPES,
    LIMIT_PERIODS,
    STATUSES,
    check_expression,
)
from patronage.errors import PatronageError
from patronage.http.errors import error_body
from patronage.services.rules import (
    RULE_FIELDS,
    disable_rule,
    get_rule,
    list_campaigns,
    list_rules,
    save_rule,
)
from patronage.services.staff_users import StaffUser
from patronage.services.tier_ladder import program_ladder
from patronage.web import security
from patronage.web.designer_forms import PROGRAM, READERS, actor, refusal, require_writer
from patronage.web.render import (
    WebRoute,
    json_refusal,
    page,
    redirect,
    require_staff,
    translator,
    uow_of,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
checks = APIRouter(include_in_schema=False)
RuleCode = Annotated[str, Path(max_length=64)]
# What each kind of expression may name (as the rule and campaign validators require).
CEL_KINDS: dict[str, tuple[str, ...]] = {
    "condition": ("event", "member"),
    "item_filter": ("item",),
    "segment": ("member",),
}
CHOICES = {
    "actions": ACTIONS,
    "statuses": STATUSES,
    "limit_periods": LIMIT_PERIODS,
    "event_types": ("purchase", *CUSTOM_EVENT_TYPES),
}


class RuleForm(BaseModel):
    """The rule form as submitted: text, checked by the rules service."""

    model_config = ConfigDict(extra="ignore")
    code: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=200)
    campaign: str = Field(default="", max_length=64)
    event_type: str = Field(default="purchase", max_length=64)
    condition: str = Field(default="", max_length=4000)
    action: str = Field(default="", max_length=16)
    value: str = Field(default="", max_length=32)
    item_filter: str = Field(default="", max_length=4000)
    priority: str = Field(default="0", max_length=16)
    limit_count: str = Field(default="", max_length=16)
    limit_per: str = Field(default="", max_length=16)
    cap_minor: str = Field(default="", max_length=20)
    status: str = Field(default="active", max_length=16)
    csrf_token: str = Field(default="", max_length=200)

    def data(self) -> dict[str, Any]:
        """What ``save_rule`` takes; blanks are left out so its defaults apply."""
        out: dict[str, Any] = {
            "name": self.name.strip(),
            "event_type": self.event_type.strip() or "purchase",
            "condition": self.condition.replace("\r\n", "\n"),
            "action": self.action,
            "value": self.value.strip().replace(",", ""),
            "priority": self.priority.strip() or "0",
            "status": self.status or "active",
        }
        if self.campaign.strip():
            out["campaign"] = self.campaign.strip()
        if self.item_filter.strip():
            out["item_filter"] = self.item_filter.replace("\r\n", "\n")
        if self.cap_minor.strip():
            out["cap_minor"] = self.cap_minor.strip().replace(",", "")
        if self.limit_count.strip() or self.limit_per:
            out["limit"] = {"count": self.limit_count.strip(), "per": self.limit_per}
        return out


def form_of(rule: dict[str, Any]) -> RuleForm:
    """The form filled in with a stored rule version."""
    limit = rule.get("limit") or {}
    return RuleForm(
        code=rule["code"],
        name=rule["name"],
        campaign=rule.get("campaign") or "",
        event_type=rule["event_type"],
        condition=rule["condition"],
        action=rule["action"],
        value=str(rule["value"]),
        item_filter=rule.get("item_filter") or "",
        priority=str(rule["priority"]),
        limit_count=str(limit.get("count") or ""),
        limit_per=limit.get("per") or "",
        cap_minor=str(rule.get("cap_minor") or ""),
        status=rule["status"],
    )


def _kept(current: dict[str, Any]) -> dict[str, Any]:
    """What the stored version sets that this form has no field for: a new version keeps
    it rather than dropping it."""
    shown = set(RuleForm.model_fields) | {"code", "limit", "program"}
    return {
        name: current[name]
        for name in RULE_FIELDS
        if name not in shown and current.get(name) is not None
    }


def _list_page(request: Request, user: StaffUser, status: int = 200, **context: Any) -> Response:
    uow = uow_of(request)
    context.setdefault("form", RuleForm())
    return page(
        request,
        "designer_rules.html",
        status,
        user=user,
        rules=list_rules(uow, PROGRAM),
        campaigns=list_campaigns(uow, PROGRAM),
        choices=CHOICES,
        designer_section="rules",
        **context,
    )


@router.get("/designer/rules")
def rules_page(
    request: Request, done: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    user = require_staff(request, *READERS)
    return _list_page(request, user, done=done)


@router.post("/designer/rules")
def create_rule(request: Request, form: Annotated[RuleForm, Form()]) -> Response:
    user = require_writer(request, form.csrf_token)
    try:
        saved = save_rule(
            uow_of(request),
            {**form.data(), "code": form.code.strip()},
            actor(user.username),
            PROGRAM,
        )
    except PatronageError as exc:
        return _list_page(request, user, form=form, **refusal(request, exc))
    return redirect(f"/designer/rules/{saved['code']}?done=created")


def _rule_page(
    request: Request, user: StaffUser, code: str, status: int = 200, **context: Any
) -> Response:
    uow = uow_of(request)
    version = context.pop("version", None)
    rule = get_rule(uow, code, PROGRAM, version)
    current = rule if version is None else get_rule(uow, code, PROGRAM)
    context.setdefault("form", form_of(current))
    return page(
        request,
        "designer_rule.html",
        status,
        user=user,
        rule=rule,
        current=current,
        currency=program_ladder(uow, PROGRAM).currency,
        campaigns=list_campaigns(uow, PROGRAM),
        choices=CHOICES,
        designer_section="rules",
        **context,
    )


@router.get("/designer/rules/{code}")
def rule_page(
    request: Request,
    code: RuleCode,
    version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    user = require_staff(request, *READERS)
    return _rule_page(request, user, code, version=version, done=done)


@router.post("/designer/rules/{code}")
def update_rule(request: Request, code: RuleCode, form: Annotated[RuleForm, Form()]) -> Response:
    user = require_writer(request, form.csrf_token)
    uow = uow_of(request)
    try:
        data = {**_kept(get_rule(uow, code, PROGRAM)), **form.data()}
        save_rule(uow, data, actor(user.username), PROGRAM, code=code)
    except PatronageError as exc:
        return _rule_page(request, user, code, form=form, **refusal(request, exc))
    return redirect(f"/designer/rules/{code}?done=saved")


@router.post("/designer/rules/{code}/disable")
def disable(
    request: Request, code: RuleCode, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    user = require_writer(request, csrf_token)
    disable_rule(uow_of(request), code, actor(user.username), PROGRAM)
    return redirect(f"/designer/rules/{code}?done=disabled")


class ExpressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expression: str = Field(max_length=20_000)
    kind: str = Field(default="condition", pattern="^(condition|item_filter|segment)$")


@checks.post("/designer/check-expression")
def check(
    request: Request,
    body: ExpressionIn,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token", max_length=200)] = None,
) -> JSONResponse:
    """Whether an expression could be saved and, if not, why and where. Reads only."""
    refused = json_refusal(request, *READERS)
    if refused is not None:
        return refused
    if not security.csrf_valid(request, csrf):
        return JSONResponse(error_body("csrf_failed", "reload the page and try again"), 403)
    t = translator(request)
    problem = check_expression(body.expression, CEL_KINDS[body.kind])
    if problem is None:
        return JSONResponse({"valid": True, "text": t("designer.cel.valid")})
    text = t(
        "designer.cel.problem",
        line=t.number(problem.line),
        column=t.number(problem.column),
        message=problem.message,
    )
    return JSONResponse(
        {
            "valid": False,
            "message": problem.message,
            "line": problem.line,
            "column": problem.column,
            "text": text,
        }
    )
