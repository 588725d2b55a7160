"""Saved segments: admins and analysts save, refresh, read and export them; admins
delete them. Exports hold ids (and RFM figures); names only for admins who ask."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from patronage.domain.segments import SavedSegment
from patronage.errors import Forbidden, InvalidInput
from patronage.http.deps import AdminOnly, Uow, require_role
from patronage.http.segment_schemas import CODE_PATTERN, RefreshIn, SegmentIn, SegmentOut
from patronage.services import segments
from patronage.services.access import Principal

router = APIRouter(prefix="/segments", tags=["segments"])
AdminOrAnalyst = Annotated[Principal, Depends(require_role("admin", "analyst"))]
ProgramQuery = Annotated[str, Query(max_length=64, description="Program code.")]
CodePath = Annotated[str, Path(pattern=CODE_PATTERN, description="Segment code.")]


class CsvResponse(Response):
    media_type = "text/csv"


def _out(segment: SavedSegment) -> SegmentOut:
    return SegmentOut(**segments.describe(segment))


@router.post("", status_code=201, response_model=SegmentOut)
def save(
    body: SegmentIn, uow: Uow, who: AdminOrAnalyst, program: ProgramQuery = "default"
) -> SegmentOut:
    """Save a snapshot: the customers in the chosen RFM segments, or a CSV list."""
    new = segments.NewSegment(body.code, body.name, body.description, program)
    if body.source == "list":
        if body.csv is None or body.rfm_segments is not None or body.as_of is not None:
            raise InvalidInput("a list segment takes csv only", field="csv")
        return _out(segments.save_from_list(uow, new, body.csv, who.label))
    if body.csv is not None:
        raise InvalidInput("an RFM segment takes rfm_segments, not csv", field="csv")
    saved = segments.save_from_rfm(uow, new, body.rfm_segments or [], body.as_of, who.label)
    return _out(saved)


@router.get("", response_model=list[SegmentOut])
def list_segments(
    uow: Uow, _: AdminOrAnalyst, program: ProgramQuery = "default"
) -> list[SegmentOut]:
    return [_out(s) for s in segments.list_segments(uow, program)]


@router.get("/{code}", response_model=SegmentOut)
def show(
    code: CodePath, uow: Uow, _: AdminOrAnalyst, program: ProgramQuery = "default"
) -> SegmentOut:
    return _out(segments.get_segment(uow, program, code))


ERRORS_AS_JSON: dict[int | str, dict[str, Any]] = {
    code: {
        "description": "An error in the shared shape.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    for code in (400, 401, 403, 404, 409, 422)
}  # without this, a route answering text/csv would document its errors as text/csv


@router.get(
    "/{code}/export",
    response_class=CsvResponse,
    responses={200: {"description": "The members as CSV."}, **ERRORS_AS_JSON},
)
def export(
    code: CodePath,
    uow: Uow,
    who: AdminOrAnalyst,
    program: ProgramQuery = "default",
    with_names: Annotated[bool, Query(description="Add names (admins only).")] = False,
) -> CsvResponse:
    """member_id, external_id (name with ``with_names``, admins only) and, for RFM
    segments, the RFM figures. Phone numbers and e-mail addresses are never exported."""
    if with_names and who.role != "admin":
        raise Forbidden("only admins may export names", role=who.role)
    text = segments.export_csv(uow, program, code, with_names)
    disposition = f'attachment; filename="segment-{code}.csv"'
    return CsvResponse(text, headers={"Content-Disposition": disposition})


@router.post("/{code}/refresh", response_model=SegmentOut)
def refresh(
    code: CodePath,
    body: RefreshIn,
    uow: Uow,
    who: AdminOrAnalyst,
    program: ProgramQuery = "default",
) -> SegmentOut:
    """Recompute (RFM) or replace from a new list; the old members go in the same commit."""
    saved = segments.refresh_segment(uow, program, code, who.label, body.as_of, body.csv)
    return _out(saved)


@router.delete("/{code}", status_code=204)
def delete(code: CodePath, uow: Uow, who: AdminOnly, program: ProgramQuery = "default") -> Response:
    segments.delete_segment(uow, program, code, who.label)
    return Response(status_code=204)
