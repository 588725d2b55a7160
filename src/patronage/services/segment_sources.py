"""Where a segment's members come from: an RFM run on the platform's database, or a
CSV list of member ids or external ids. Each gives a snapshot ready to store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from patronage.analytics import rfm as rfm_scores
from patronage.analytics.engines import connect
from patronage.analytics.platform_data import read_platform_engine
from patronage.analytics.summary import customer_summary, last_purchase_date
from patronage.domain.segments import IdList, refuse_rows
from patronage.errors import InvalidInput
from patronage.storage.uow import UnitOfWork

RFM_NAMES = tuple(s.name for s in rfm_scores.SEGMENTS)


@dataclass(frozen=True)
class Snapshot:
    """The members to store (``member_id`` and, from RFM, their figures) and the totals."""

    source: str
    definition: dict[str, Any]
    members: list[dict[str, Any]] = field(default_factory=list)
    as_of: date | None = None
    revenue_minor: int | None = None
    total_revenue_minor: int | None = None


@dataclass(frozen=True)
class RfmRun:
    """Every scored customer of one program on one day (not yet matched to members)."""

    names: tuple[str, ...]
    as_of: date
    scored: pd.DataFrame


def rfm_names(chosen: Sequence[str]) -> tuple[str, ...]:
    """The RFM segment names as spelt in the analysis, matched without regard to case."""
    by_lower = {name.lower(): name for name in RFM_NAMES}
    names = []
    for given in chosen:
        name = by_lower.get(given.strip().lower())
        if name is None:
            raise InvalidInput(
                f"unknown RFM segment {given!r}; expected one of {', '.join(RFM_NAMES)}",
                field="rfm_segments",
            )
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidInput("choose at least one RFM segment", field="rfm_segments")
    return tuple(names)


def run_rfm(engine: Engine, program_id: int, names: tuple[str, ...], as_of: date | None) -> RfmRun:
    """Score the program's customers as ``patronage analytics rfm --db`` does (DuckDB)."""
    data = read_platform_engine(connect(), engine, program_id)
    day = as_of or last_purchase_date(data.transactions)
    scored = rfm_scores.score(customer_summary(data.transactions, day), day)
    return RfmRun(names, day, scored)


def rfm_snapshot(uow: UnitOfWork, program_id: int, run: RfmRun) -> Snapshot:
    """The chosen segments' customers who are members (not erased), with their figures.

    Call inside ``with uow:``."""
    # Minor units before filtering: assigning a column to an empty frame would take the
    # column's index and bring back every row.
    scored = run.scored.assign(
        monetary_minor=(run.scored["monetary"] * 100).round().astype("int64")
    )
    chosen = scored[scored["segment"].isin(run.names)]
    ids = uow.segments.ids_by_external_id(program_id, chosen["customer_id"].tolist())
    members = [
        {
            "member_id": ids[row.customer_id],
            "rfm_segment": row.segment,
            "recency_days": int(row.recency_days),
            "frequency": int(row.frequency),
            "monetary_minor": int(row.monetary_minor),
            "r_score": int(row.r_score),
            "f_score": int(row.f_score),
            "m_score": int(row.m_score),
        }
        for row in chosen.itertuples(index=False)
        if row.customer_id in ids
    ]
    return Snapshot(
        source="rfm",
        definition={"rfm_segments": list(run.names)},
        members=members,
        as_of=run.as_of,
        revenue_minor=sum(m["monetary_minor"] for m in members),
        total_revenue_minor=int(scored["monetary_minor"].sum()),
    )


def list_snapshot(uow: UnitOfWork, program_id: int, ids: IdList, as_of: date) -> Snapshot:
    """Every id must name a member of the program; otherwise nothing is saved.

    Call inside ``with uow:``."""
    values = [value for _, value in ids.rows]
    if ids.column == "external_id":
        found = uow.segments.ids_by_external_id(program_id, values)
        bad = [(row, f"unknown external_id {v!r}") for row, v in ids.rows if v not in found]
        member_ids = [found[v] for v in values if v in found]
    else:
        numbers = [int(v) for v in values]
        known = uow.segments.existing_ids(program_id, numbers)
        bad = [(row, f"unknown member_id {v}") for row, v in ids.rows if int(v) not in known]
        member_ids = [n for n in numbers if n in known]
    refuse_rows(bad)
    return Snapshot(
        source="list",
        definition={"column": ids.column, "rows": len(ids.rows)},
        members=[{"member_id": m} for m in dict.fromkeys(member_ids)],
        as_of=as_of,
    )
