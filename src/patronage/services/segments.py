"""Saved segments: save from an RFM run or a CSV list, refresh, list, show, delete, and
export the members as CSV. Campaigns target them with ``"code" in member.segments``.

A segment is a snapshot; refreshing recomputes it and replaces the old members in the
same transaction, so a reader sees either the old snapshot or the new one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from patronage.domain.segments import (
    IdList,
    SavedSegment,
    SegmentMember,
    check_code,
    parse_id_list,
)
from patronage.errors import Conflict, InvalidInput, NotFound
from patronage.services.segment_sources import (
    RfmRun,
    Snapshot,
    list_snapshot,
    rfm_names,
    rfm_snapshot,
    run_rfm,
)
from patronage.storage.uow import UnitOfWork

RFM_COLUMNS = (
    "rfm_segment",
    "recency_days",
    "frequency",
    "monetary_minor",
    "r_score",
    "f_score",
    "m_score",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class NewSegment:
    code: str
    name: str | None = None
    description: str | None = None
    program: str = "default"


def _checked(new: NewSegment) -> NewSegment:
    name = (new.name or "").strip() or None
    if name is not None and len(name) > 200:
        raise InvalidInput("name is longer than 200 characters", field="name")
    description = (new.description or "").strip() or None
    if description is not None and len(description) > 4000:
        raise InvalidInput("description is longer than 4000 characters", field="description")
    for field, text in (("name", name), ("description", description)):
        if text is not None and "\x00" in text:
            raise InvalidInput(f"{field} contains a NUL character", field=field)
    return NewSegment(check_code(new.code), name, description, new.program)


def _program_id(uow: UnitOfWork, program: str) -> int:
    with uow:
        return uow.programs.get(program).id or 0


def save_from_rfm(
    uow: UnitOfWork,
    new: NewSegment,
    rfm_segments: Sequence[str],
    as_of: date | None,
    actor: str,
) -> SavedSegment:
    """The customers in the chosen RFM segments on ``as_of`` (default: last purchase day)."""
    new = _checked(new)
    names = rfm_names(rfm_segments)
    program_id = _program_id(uow, new.program)
    _refuse_existing(uow, program_id, new.code)
    run = run_rfm(uow.engine, program_id, names, as_of)
    with uow:
        return _create(uow, new, program_id, rfm_snapshot(uow, program_id, run), actor)


def save_from_list(uow: UnitOfWork, new: NewSegment, csv_text: str, actor: str) -> SavedSegment:
    """The members named by a CSV list (``external_id`` or ``member_id`` column).

    Any unknown or blank id refuses the whole list, naming its rows."""
    new = _checked(new)
    ids = parse_id_list(csv_text)
    with uow:
        program_id = uow.programs.get(new.program).id or 0
        today = uow.clock().date()
        return _create(uow, new, program_id, list_snapshot(uow, program_id, ids, today), actor)


def _refuse_existing(uow: UnitOfWork, program_id: int, code: str) -> None:
    """Fail before the (slow) RFM run; the unique key still guards the insert."""
    with uow:
        if uow.segments.get(program_id, code) is not None:
            raise Conflict(f"a segment {code!r} already exists", code=code)


def _create(
    uow: UnitOfWork, new: NewSegment, program_id: int, snapshot: Snapshot, actor: str
) -> SavedSegment:
    now = uow.clock()
    saved = uow.segments.add(
        program_id=program_id,
        code=new.code,
        name=new.name or new.code,
        description=new.description,
        source=snapshot.source,
        definition=snapshot.definition,
        as_of=snapshot.as_of,
        member_count=len(snapshot.members),
        revenue_minor=snapshot.revenue_minor,
        total_revenue_minor=snapshot.total_revenue_minor,
        created_by=actor,
        created_at=now,
        refreshed_at=now,
    )
    uow.segments.replace_members(saved.id, snapshot.members)
    _audit(uow, "segment_saved", saved, actor, {"members": len(snapshot.members)})
    uow.commit()
    return saved


def refresh_segment(
    uow: UnitOfWork,
    program: str,
    code: str,
    actor: str,
    as_of: date | None = None,
    csv_text: str | None = None,
) -> SavedSegment:
    """Recompute an RFM segment (same RFM segments, new ``as_of``), or replace a list
    segment's members with a new CSV list. The old snapshot goes in the same commit."""
    with uow:
        program_id = uow.programs.get(program).id or 0
        segment = _get(uow, program_id, code)
    source = _new_source(uow, segment, as_of, csv_text)
    with uow:
        segment = _get(uow, program_id, code, lock=True)
        snapshot = (
            rfm_snapshot(uow, program_id, source)
            if isinstance(source, RfmRun)
            else list_snapshot(uow, program_id, source, uow.clock().date())
        )
        return _replace(uow, segment, snapshot, actor)


def _new_source(
    uow: UnitOfWork, segment: SavedSegment, as_of: date | None, csv_text: str | None
) -> RfmRun | IdList:
    if segment.source == "rfm":
        if csv_text is not None:
            raise InvalidInput("an RFM segment is refreshed from the data, not a list", field="csv")
        names = rfm_names(segment.definition["rfm_segments"])
        return run_rfm(uow.engine, segment.program_id, names, as_of)
    if csv_text is None:
        raise InvalidInput("a list segment is refreshed from a new CSV list", field="csv")
    if as_of is not None:
        raise InvalidInput("as_of applies to RFM segments only", field="as_of")
    return parse_id_list(csv_text)


def _replace(
    uow: UnitOfWork, segment: SavedSegment, snapshot: Snapshot, actor: str
) -> SavedSegment:
    values = {
        "definition": snapshot.definition,
        "as_of": snapshot.as_of,
        "member_count": len(snapshot.members),
        "revenue_minor": snapshot.revenue_minor,
        "total_revenue_minor": snapshot.total_revenue_minor,
        "refreshed_at": uow.clock(),
    }
    uow.segments.update(segment.id, **values)
    uow.segments.replace_members(segment.id, snapshot.members)
    refreshed = _get(uow, segment.program_id, segment.code)
    _audit(uow, "segment_refreshed", refreshed, actor, {"members": len(snapshot.members)})
    uow.commit()
    return refreshed


def _get(uow: UnitOfWork, program_id: int, code: str, lock: bool = False) -> SavedSegment:
    segment = uow.segments.get(program_id, code, lock=lock)
    if segment is None:
        raise NotFound(f"no segment {code!r}", code=code)
    return segment


def _audit(
    uow: UnitOfWork, action: str, segment: SavedSegment, actor: str, after: dict[str, Any] | None
) -> None:
    uow.audit.add(
        at=uow.clock(),
        actor=actor,
        action=action,
        target_type="segment",
        target_id=f"{segment.program_id}:{segment.code}",
        before=None,
        after=after,
        reason=None,
    )


def list_segments(uow: UnitOfWork, program: str) -> list[SavedSegment]:
    with uow:
        return uow.segments.in_program(uow.programs.get(program).id or 0)


def get_segment(uow: UnitOfWork, program: str, code: str) -> SavedSegment:
    with uow:
        return _get(uow, uow.programs.get(program).id or 0, code)


def delete_segment(uow: UnitOfWork, program: str, code: str, actor: str) -> None:
    """Delete the segment and its snapshot; campaigns naming it then match no one."""
    with uow:
        segment = _get(uow, uow.programs.get(program).id or 0, code, lock=True)
        uow.segments.delete(segment.id)
        _audit(uow, "segment_deleted", segment, actor, None)
        uow.commit()


def describe(segment: SavedSegment) -> dict[str, Any]:
    """The segment as JSON-ready data, with its revenue share when known."""
    data = asdict(segment)
    data["revenue_share"] = segment.revenue_share
    return data


def export_csv(uow: UnitOfWork, program: str, code: str, with_names: bool) -> str:
    """The snapshot as CSV: member_id, external_id, (name), and RFM figures if from RFM.

    Names only when ``with_names``; contact details (phone, e-mail) never."""
    with uow:
        segment = _get(uow, uow.programs.get(program).id or 0, code)
        header = ["member_id", "external_id"] + (["name"] if with_names else [])
        if segment.source == "rfm":
            header += RFM_COLUMNS
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for member in uow.segments.members(segment.id, with_names):
            writer.writerow(_csv_row(member, with_names))
    return out.getvalue()


def _csv_row(member: SegmentMember, with_names: bool) -> list[Any]:
    row: list[Any] = [member.member_id, member.external_id]
    if with_names:
        name = member.name or ""
        row.append(f"'{name}" if name.startswith(_FORMULA_START) else name)
    if member.rfm is not None:
        row += [getattr(member.rfm, f) for f in ("segment", *RFM_COLUMNS[1:])]
    return row
