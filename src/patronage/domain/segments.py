"""Saved customer segments: what a segment is, its code, and the id lists it is made from.

A segment is a snapshot of members taken on a date (``as_of``). It is defined either
by an RFM run (the chosen RFM segment names) or by an explicit list of members read
from a CSV file. Campaigns target a segment by its code (``"vip" in member.segments``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from patronage.errors import InvalidInput

SOURCES = ("rfm", "list")
ID_COLUMNS = ("external_id", "member_id")
MAX_ROWS_REPORTED = 20
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SavedSegment:
    id: int
    program_id: int
    code: str
    name: str
    description: str | None
    source: str
    definition: dict[str, Any]
    as_of: date | None
    member_count: int
    revenue_minor: int | None
    total_revenue_minor: int | None
    created_by: str
    created_at: datetime
    refreshed_at: datetime

    @property
    def revenue_share(self) -> float | None:
        """The members' share of all customers' net revenue in the RFM run, if known."""
        if self.revenue_minor is None or not self.total_revenue_minor:
            return None
        return self.revenue_minor / self.total_revenue_minor


@dataclass(frozen=True)
class RfmFigures:
    segment: str
    recency_days: int
    frequency: int
    monetary_minor: int
    r_score: int
    f_score: int
    m_score: int


@dataclass(frozen=True)
class SegmentMember:
    member_id: int
    external_id: str
    name: str | None = None
    rfm: RfmFigures | None = None


@dataclass(frozen=True)
class IdList:
    """The ids of a CSV list with the row each came from (the header is row 1)."""

    column: str
    rows: list[tuple[int, str]] = field(default_factory=list)


def check_code(code: str) -> str:
    """A code usable in a CEL condition as a plain string: letters, digits, ``_ . -``."""
    code = code.strip()
    if not _CODE.match(code):
        raise InvalidInput(
            f"segment code {code!r} must be 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
            field="code",
        )
    return code


def parse_id_list(text: str) -> IdList:
    """Read a CSV with an ``external_id`` (preferred) or ``member_id`` column.

    Blank ids and ``member_id`` values that are not positive whole numbers are refused
    with their rows; duplicates are kept once.
    """
    if "\x00" in text:
        raise InvalidInput("the CSV list contains a NUL character", field="csv")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip() for name in (reader.fieldnames or [])]
    column = next((c for c in ID_COLUMNS if c in header), None)
    if column is None:
        raise InvalidInput(
            "the CSV list needs an external_id or member_id column"
            + (f" (columns: {', '.join(header)})" if header else ""),
            field="csv",
        )
    reader.fieldnames = header
    rows: list[tuple[int, str]] = []
    bad: list[tuple[int, str]] = []
    seen: set[str] = set()
    try:
        for record in reader:
            row, value = reader.line_num, (record.get(column) or "").strip()
            problem = _id_problem(column, value)
            if problem:
                bad.append((row, problem))
            elif value not in seen:
                seen.add(value)
                rows.append((row, value))
    except csv.Error as exc:
        raise InvalidInput(
            f"row {reader.line_num}: {exc}", field="csv", row=reader.line_num
        ) from None
    refuse_rows(bad)
    if not rows:
        raise InvalidInput("the CSV list has no rows", field="csv")
    return IdList(column, rows)


def _id_problem(column: str, value: str) -> str | None:
    if not value:
        return f"empty {column}"
    if len(value) > 128:
        return f"{column} is longer than 128 characters"
    if column == "member_id" and not (
        value.isascii() and value.isdigit() and 0 < int(value) < 2**62
    ):
        return f"member_id {value!r} is not a member id"
    return None


def refuse_rows(bad: list[tuple[int, str]]) -> None:
    """Nothing is saved when any row is bad: one error naming the first rows."""
    if not bad:
        return
    shown = "; ".join(f"row {row}: {problem}" for row, problem in bad[:MAX_ROWS_REPORTED])
    more = (
        f" (and {len(bad) - MAX_ROWS_REPORTED} more bad rows)"
        if len(bad) > MAX_ROWS_REPORTED
        else ""
    )
    raise InvalidInput(
        f"{len(bad)} bad row(s), nothing saved: {shown}{more}",
        field="csv",
        row=bad[0][0],
        rows=",".join(str(row) for row, _ in bad[:MAX_ROWS_REPORTED]),
    )
