"""Reads and writes of rules, campaigns and rule awards. Nothing here commits."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from patronage.domain.rules import Campaign, Limit, Rule
from patronage.errors import NotFound
from patronage.storage.reference import Reference
from patronage.storage.rules_tables import CampaignRow, RuleAwardRow, RuleRow
from patronage.storage.tables import EventRow, TierHistoryRow

_R = RuleRow.__table__.c
_C = CampaignRow.__table__.c
RULE_COLUMNS = (
    _R.id, _R.code, _R.version, _R.name, _R.on_event, _R.condition, _R.action, _R.value,
    _R.item_filter, _R.priority, _R.limit_count, _R.limit_per, _R.status, _R.cap_minor,
)  # fmt: skip
_CAMPAIGN_COLUMNS = (
    _C.id, _C.code, _C.name, _C.starts_at, _C.ends_at, _C.segment, _C.budget, _C.caps,
    _C.priority, _C.stacking, _C.status, _C.revision,
)  # fmt: skip
_INSERT_AWARD = insert(RuleAwardRow.__table__)  # type: ignore[arg-type]
_A = RuleAwardRow.__table__.c

# Built once, parameters bound at execution: the earn path runs these on every event.
_LIVE = (
    select(*RULE_COLUMNS, *_CAMPAIGN_COLUMNS)
    .select_from(RuleRow.__table__)
    .outerjoin(CampaignRow.__table__, _C.id == _R.campaign_id)
    .where(
        _R.program_id == bindparam("program_id"),
        _R.is_current.is_(True),
        _R.on_event == bindparam("event_type"),
        _R.status.in_(bindparam("statuses", expanding=True)),
    )
)


def _since(name: str) -> Any:
    return func.coalesce(
        func.sum(
            case((_A.occurred_at >= bindparam(name, type_=_A.occurred_at.type), _A.points), else_=0)
        ),
        0,
    )


def _ids(count: int) -> list[Any]:
    """Parameters ``id0`` .. for ``count`` campaign ids: a statement per count is built
    once, where an expanding IN list would be rendered again on every event."""
    return [bindparam(f"id{i}", type_=_C.id.type) for i in range(count)]


@lru_cache(maxsize=64)
def _campaign_state(count: int) -> Any:
    """What caps and budgets are checked against: each of ``count`` campaigns' spent
    budget, and the points the member got from it since the start of this day, week and
    month, and in all."""
    return (
        select(
            _C.id,
            _C.spent,
            _since("day"),
            _since("week"),
            _since("month"),
            func.coalesce(func.sum(_A.points), 0),
        )
        .select_from(
            CampaignRow.__table__.outerjoin(
                RuleAwardRow.__table__,
                and_(_A.campaign_id == _C.id, _A.member_id == bindparam("member_id")),
            )
        )
        .where(_C.id.in_(_ids(count)))
        .group_by(_C.id, _C.spent)
    )


@lru_cache(maxsize=64)
def _spend_statement(count: int, lock_in_order: bool) -> Any:
    """One conditional UPDATE for ``count`` campaigns (``id{i}`` takes ``points{i}``),
    returning the ids it spent from: the spent counter never passes the budget (on
    PostgreSQL a row another transaction changed meanwhile is re-checked). With
    ``lock_in_order`` the rows are first locked in id order, as the UPDATE of their
    counters would lock them, so that concurrent events spending from the same campaigns
    wait for each other instead of deadlocking (the key-share locks of awards inserted
    by concurrent events do not conflict)."""
    ids = _ids(count)
    points = [bindparam(f"points{i}", type_=_C.spent.type) for i in range(count)]
    wanted = case(*zip(ids, points, strict=True), value=_C.id)
    statement = update(CampaignRow.__table__).values(spent=_C.spent + wanted)  # type: ignore[arg-type]
    if lock_in_order:
        first = CampaignRow.__table__.alias("locked_first")
        locked = (
            select(first.c.id)
            .where(first.c.id.in_(ids))
            .order_by(first.c.id)
            .with_for_update(key_share=True)
            .subquery("locked")
        )
        statement = statement.where(_C.id == locked.c.id)
    else:
        statement = statement.where(_C.id.in_(ids))
    return statement.where(_C.spent + wanted <= _C.budget).returning(_C.id)


_AWARD_FIELDS = tuple(c for c in RuleAwardRow.__table__.c if c.name != "id")


@lru_cache(maxsize=64)
def _award_and_spend(awards: int, campaigns: int) -> Any:
    """One PostgreSQL statement for the end of an event: insert ``awards`` rule awards
    (``a{j}_{column}``) and spend from ``campaigns`` budgets as :func:`_spend_statement`
    does, returning the ids of the campaigns it spent from."""
    awarded = [  # one single-row INSERT each: a multi-row VALUES is compiled every time
        insert(RuleAwardRow.__table__)  # type: ignore[arg-type]
        .values({c.name: bindparam(f"a{j}_{c.name}", type_=c.type) for c in _AWARD_FIELDS})
        .cte(f"awarded{j}")
        for j in range(awards)
    ]
    spent = _spend_statement(campaigns, campaigns > 1).cte("spent")
    return select(spent.c.id).add_cte(*awarded)


_AWARD_COUNT = select(func.count()).where(
    _A.member_id == bindparam("member_id"),
    _A.rule_code == bindparam("rule_code"),
    _A.occurred_at >= bindparam("since", type_=_A.occurred_at.type),
)


# Domain objects of the rows, kept per distinct row: the earn path builds no new
# Rule or Campaign while the rules do not change.
_RULES: dict[tuple[Any, ...], Rule] = {}
_CAMPAIGNS: dict[tuple[Any, ...], Campaign] = {}
_CACHE_MAX = 50_000

Candidates = list[tuple[Rule, Campaign | None]]


def rule_of_columns(row: tuple[Any, ...]) -> Rule:
    """The rule of a row of :data:`RULE_COLUMNS` values."""
    rule = _RULES.get(row)
    if rule is None:
        (id_, code, version, name, on, condition, action, value, item_filter, priority,
         limit_count, limit_per, status, cap_minor) = row  # fmt: skip
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
            cap_minor=cap_minor,
        )
        if len(_RULES) > _CACHE_MAX:
            _RULES.clear()
        _RULES[row] = rule
    return rule


def rule_of_row(row: RuleRow) -> Rule:
    return rule_of_columns(tuple(getattr(row, c.name) for c in RULE_COLUMNS))


def campaign_of_columns(row: tuple[Any, ...]) -> Campaign | None:
    """The campaign of a row of campaign column values (None for a rule without one)."""
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
        if len(_CAMPAIGNS) > _CACHE_MAX:
            _CAMPAIGNS.clear()
        _CAMPAIGNS[key] = campaign
    return campaign


def campaign_of_row(row: CampaignRow) -> Campaign:
    campaign = campaign_of_columns(tuple(getattr(row, c.name) for c in _CAMPAIGN_COLUMNS))
    assert campaign is not None
    return campaign


class RulesRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- the earn path: one query for what may fire -----------------------------------

    def live(self, program_id: int, event_type: str, statuses: Sequence[str]) -> Candidates:
        """Current versions of the rules for this event type, each with its campaign (or
        None). From the reference cache (storage/reference.py): a campaign's ``spent``
        is not part of it (:meth:`campaign_state` reads it)."""
        params = {"program_id": program_id, "event_type": event_type, "statuses": statuses}

        def load() -> Candidates:
            split = len(RULE_COLUMNS)
            return [
                (rule_of_columns(tuple(r[:split])), campaign_of_columns(tuple(r[split:])))
                for r in self.session.execute(_LIVE, params)
            ]

        reference: Reference | None = self.session.info.get("reference")
        key = ("live_rules", program_id, event_type, tuple(statuses))
        return reference.get(key, load) if reference is not None else load()

    def campaign_state(
        self, member_id: int, campaign_ids: Sequence[int], starts: dict[str, datetime]
    ) -> tuple[dict[int, int], dict[int, dict[str, int]]]:
        """Each campaign's spent budget; and the points the member got from it since the
        start of this day, week and month, and in all (awards only happen while a
        campaign runs, so that is the campaign's total). One query for all of them."""
        params = {f"id{i}": cid for i, cid in enumerate(campaign_ids)}
        rows = self._connection().execute(
            _campaign_state(len(campaign_ids)), {"member_id": member_id, **starts, **params}
        )
        spent: dict[int, int] = {}
        usage: dict[int, dict[str, int]] = {}
        for cid, spent_so_far, day, week, month, total in rows:
            spent[cid] = int(spent_so_far or 0)
            usage[cid] = {
                "day": int(day),
                "week": int(week),
                "month": int(month),
                "campaign": int(total),
            }
        return spent, usage

    def award_count(self, member_id: int, rule_code: str, since: datetime) -> int:
        params = {"member_id": member_id, "rule_code": rule_code, "since": since}
        return int(self._connection().execute(_AWARD_COUNT, params).scalar() or 0)

    def budget(self, campaign_id: int) -> tuple[int | None, int]:
        row = self.session.execute(select(_C.budget, _C.spent).where(_C.id == campaign_id)).one()
        return row[0], int(row[1] or 0)

    def spend_budget(self, campaign_id: int, points: int) -> int:
        """Take up to ``points`` from the campaign's budget; return what was granted.

        One conditional UPDATE (``spent + n <= budget``): on PostgreSQL a concurrent
        spender's update is waited for and the condition re-checked on the new row, so
        the budget can never be passed."""
        want = points
        for _ in range(50):
            if want <= 0:
                return 0
            done = self.session.execute(
                update(CampaignRow.__table__)  # type: ignore[arg-type]
                .where(_C.id == campaign_id, _C.spent + want <= _C.budget)
                .values(spent=_C.spent + want)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                return want
            budget, spent = self.budget(campaign_id)
            want = min(want, (budget or 0) - spent)
        return 0

    def spend_budgets(self, wanted: dict[int, int]) -> dict[int, int]:
        """Take ``wanted[c]`` points from each campaign's budget; return what each granted.
        One UPDATE when every campaign has room; a campaign without room for all of it
        then gets what is left (:meth:`spend_budget`, under the lock already taken)."""
        granted = dict.fromkeys(wanted, 0)
        done = self._spend(wanted)
        for cid, points in sorted(wanted.items()):
            if points > 0:
                granted[cid] = points if cid in done else self.spend_budget(cid, points)
        return granted

    def award_and_spend(self, rows: list[dict[str, Any]], wanted: dict[int, int]) -> bool:
        """Insert the award ``rows`` and take ``wanted[c]`` points from each campaign's
        budget, by one conditional UPDATE; False when a campaign lacks room (the awards
        and what the others gave are then to be rolled back). On PostgreSQL both go in
        one statement."""
        ids = sorted(c for c, points in wanted.items() if points > 0)
        if not (ids and rows) or self.session.get_bind().dialect.name != "postgresql":
            self.add_awards(rows)
            return self._spend(wanted) >= set(ids)
        params = {f"id{i}": cid for i, cid in enumerate(ids)}
        params.update({f"points{i}": wanted[cid] for i, cid in enumerate(ids)})
        for j, row in enumerate(rows):
            params.update({f"a{j}_{name}": value for name, value in row.items()})
        statement = _award_and_spend(len(rows), len(ids))
        return set(self._connection().execute(statement, params).scalars()) >= set(ids)

    def _spend(self, wanted: dict[int, int]) -> set[int]:
        """The campaigns one conditional UPDATE could take their points from (several
        are locked in id order first, on PostgreSQL, by the same statement)."""
        ids = sorted(c for c, points in wanted.items() if points > 0)
        if not ids:
            return set()
        connection = self._connection()
        in_order = len(ids) > 1 and connection.dialect.name == "postgresql"
        params = {f"id{i}": cid for i, cid in enumerate(ids)}
        params.update({f"points{i}": wanted[cid] for i, cid in enumerate(ids)})
        return set(connection.execute(_spend_statement(len(ids), in_order), params).scalars())

    def add_awards(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._connection().execute(_INSERT_AWARD, rows[0] if len(rows) == 1 else rows)

    def _connection(self) -> Connection:
        """The session's connection, after flushing what the session holds (as an ORM
        statement would): the earn path's statements are built once and run on it."""
        self.session.flush()
        return self.session.connection()

    def purchase_count(self, member_id: int, before: datetime | None = None) -> int:
        from patronage.storage.tables import OrderRow

        orders = OrderRow.__table__.c
        query = select(func.count()).where(orders.member_id == member_id)
        if before is not None:
            query = query.where(orders.occurred_at < before)
        return int(self.session.scalar(query) or 0)

    # --- replay: stored events and tier history, read only ------------------------------

    def events_between(
        self, program_id: int, types: Collection[str], start: datetime, end: datetime
    ) -> Iterator[EventRow]:
        """The program's events of these types in [start, end), oldest first, streamed."""
        query = (
            select(EventRow)
            .where(
                EventRow.program_id == program_id,
                EventRow.type.in_(list(types)),
                EventRow.occurred_at >= start,
                EventRow.occurred_at < end,
            )
            .order_by(EventRow.occurred_at, EventRow.id)
            .execution_options(yield_per=1000)
        )
        return iter(self.session.scalars(query))

    def tier_history(self, member_id: int) -> list[tuple[datetime, datetime | None, int]]:
        """(valid from, valid to, tier id) of each of the member's tier periods."""
        rows = self.session.execute(
            select(TierHistoryRow.valid_from, TierHistoryRow.valid_to, TierHistoryRow.tier_id)
            .where(TierHistoryRow.member_id == member_id)
            .order_by(TierHistoryRow.valid_from, TierHistoryRow.id)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    # --- administration ------------------------------------------------------------

    def rule_rows(
        self, program_id: int, code: str | None = None, current_only: bool = True
    ) -> list[RuleRow]:
        query = select(RuleRow).where(RuleRow.program_id == program_id)
        if code is not None:
            query = query.where(RuleRow.code == code)
        if current_only:
            query = query.where(RuleRow.is_current.is_(True))
        return list(self.session.scalars(query.order_by(RuleRow.code, RuleRow.version)))

    def current_rule(self, program_id: int, code: str) -> RuleRow:
        rows = self.rule_rows(program_id, code)
        if not rows:
            raise NotFound(f"no rule {code!r}", rule=code)
        return rows[-1]

    def last_version(self, program_id: int, code: str) -> int:
        """The highest version of a rule so far (0 for a new rule)."""
        last = self.session.scalar(
            select(func.max(_R.version)).where(_R.program_id == program_id, _R.code == code)
        )
        return int(last or 0)

    def add_rule_version(self, row: RuleRow) -> RuleRow:
        self.session.execute(
            update(RuleRow.__table__)  # type: ignore[arg-type]
            .where(
                and_(
                    _R.program_id == row.program_id,
                    _R.code == row.code,
                    _R.is_current.is_(True),
                )
            )
            .values(is_current=False)
        )
        self.session.add(row)
        self.session.flush()
        return row

    def rules_by_id(self, ids: Sequence[int]) -> dict[int, RuleRow]:
        rows = self.session.scalars(select(RuleRow).where(RuleRow.id.in_(list(ids))))
        return {row.id: row for row in rows}

    def campaign_rows(self, program_id: int) -> list[CampaignRow]:
        return list(
            self.session.scalars(
                select(CampaignRow)
                .where(CampaignRow.program_id == program_id)
                .order_by(CampaignRow.code)
                .execution_options(populate_existing=True)
            )
        )

    def campaign(self, program_id: int, code: str) -> CampaignRow:
        row = self.session.scalars(
            select(CampaignRow)
            .where(CampaignRow.program_id == program_id, CampaignRow.code == code)
            .execution_options(populate_existing=True)
        ).first()
        if row is None:
            raise NotFound(f"no campaign {code!r}", campaign=code)
        return row

    def campaign_by_id(self, campaign_id: int) -> CampaignRow:
        row = self.session.get(CampaignRow, campaign_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no campaign {campaign_id}", campaign=campaign_id)
        return row

    def add_campaign(self, row: CampaignRow) -> CampaignRow:
        self.session.add(row)
        self.session.flush()
        return row

    def awards_total(self, campaign_id: int) -> tuple[int, int]:
        """Points the campaign's rules issued, and how many members got points or cashback."""
        row = self.session.execute(
            select(
                func.coalesce(func.sum(_A.points), 0), func.count(func.distinct(_A.member_id))
            ).where(_A.campaign_id == campaign_id)
        ).one()
        return int(row[0]), int(row[1])

    def cashback_total(self, campaign_id: int) -> int:
        """Minor units the campaign's cashback rules paid (before any claw-back)."""
        total = self.session.scalar(
            select(func.coalesce(func.sum(_A.cashback_minor), 0)).where(
                _A.campaign_id == campaign_id
            )
        )
        return int(total or 0)

    def cashback_of_event(self, member_id: int, event_id: int) -> int:
        """Minor units the rules paid into the member's wallet for one event."""
        total = self.session.scalar(
            select(func.coalesce(func.sum(_A.cashback_minor), 0)).where(
                _A.member_id == member_id, _A.event_id == event_id
            )
        )
        return int(total or 0)
