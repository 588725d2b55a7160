"""Bulk import of transactions and members from CSV or Parquet files.

Rows are checked first (a bad row is reported with its line number and skipped);
good rows are recorded in batches, each batch one transaction, each row in its own
savepoint. Every row has a stable source id, so re-running an import after a crash
skips what was recorded and never counts a row twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from patronage.errors import Conflict, InvalidInput, PatronageError
from patronage.services import bulk_import
from patronage.services.events import EventRequest, apply_event, validate
from patronage.services.members import add_member
from patronage.storage.uow import UnitOfWork

TRANSACTION_COLUMNS = (
    "member_external_id",
    "order_id",
    "occurred_at",
    "amount",
    "currency",
    "type",
)
OPTIONAL_COLUMNS = ("original_order_id", "store", "channel", "staff_id", "items")
MEMBER_COLUMNS = ("external_id",)
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_table(path: Path) -> pa.Table:
    """Read a CSV or Parquet file with every column as text."""
    if not path.exists():
        raise InvalidInput(f"no such file: {path}", field="file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            table = pq.read_table(path)
            return table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
        names = pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(block_size=1 << 16)
        ).column_names
        options = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True
        )
        return pacsv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}", field="file") from None


def _require_columns(table: pa.Table, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise InvalidInput(f"missing column(s): {', '.join(missing)}", field=missing[0])
    if table.num_rows == 0:
        raise InvalidInput("the file has no rows", field="file")


def _aware(text: str, column: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{column}: {text!r} is not an ISO 8601 time", field=column) from None
    if value.tzinfo is None:
        raise InvalidInput(f"{column}: {text!r} has no time zone offset", field=column)
    return value


def transaction_request(row: dict[str, Any], program: str) -> EventRequest:
    """Turn one file row into an event request; raises InvalidInput naming the column."""
    kind = (row.get("type") or "").strip().lower()
    if kind not in ("purchase", "refund"):
        raise InvalidInput("type must be purchase or refund", field="type")
    for column in ("member_external_id", "order_id", "occurred_at", "amount"):
        if not (row.get(column) or "").strip():
            raise InvalidInput(f"{column} is empty", field=column)
    try:
        amount = Decimal(row["amount"].strip())
    except InvalidOperation:
        raise InvalidInput(f"amount: {row['amount']!r} is not a number", field="amount") from None
    items = None
    if row.get("items"):
        try:
            items = json.loads(row["items"])
        except json.JSONDecodeError:
            raise InvalidInput("items is not valid JSON", field="items") from None
        if not isinstance(items, list):
            raise InvalidInput("items must be a JSON list", field="items")
    occurred_at = _aware(row["occurred_at"], "occurred_at")
    order_id = row["order_id"].strip()
    original = (row.get("original_order_id") or "").strip() or None
    source = (
        f"import:{kind}:{order_id}"
        if kind == "purchase" or original
        else (f"import:refund:{order_id}:{occurred_at.isoformat()}:{amount}")
    )
    return EventRequest(
        type=kind,
        occurred_at=occurred_at,
        program=program,
        member_external_id=row["member_external_id"].strip(),
        order_id=order_id if kind == "purchase" or original else None,
        original_order_id=original or (order_id if kind == "refund" else None),
        amount=amount,
        currency=(row.get("currency") or "").strip() or None,
        store=row.get("store") or None,
        channel=row.get("channel") or None,
        staff_id=row.get("staff_id") or None,
        items=items,
        source_id=source,
    )


def _parsed_rows(
    table: pa.Table, program: str, report: ImportReport
) -> list[tuple[int, EventRequest]]:
    """The rows as checked events (what every event is checked for first); bad rows
    go to the report."""
    parsed = []
    for index, row in enumerate(table.to_pylist()):
        line = index + 2  # header is line 1
        try:
            request = transaction_request(row, program)
            validate(request)
            parsed.append((line, request))
        except PatronageError as exc:
            report.rejected.append((line, exc.message))
    parsed.sort(key=lambda pair: (pair[1].occurred_at, pair[0]))
    return parsed


def _batches(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def import_transactions(
    uow: UnitOfWork,
    path: Path,
    program: str = "default",
    batch_size: int = 500,
    progress: Progress | None = None,
    bulk: bool = True,
) -> ImportReport:
    """Import purchases and refunds in time order, creating unknown members.

    New members are replayed in memory and written in bulk (services.bulk_import)
    when the program allows it and ``bulk`` is on; other rows are recorded one event
    at a time. Both give the same ledger."""
    table = read_table(path)
    _require_columns(table, TRANSACTION_COLUMNS)
    report = ImportReport(rows=table.num_rows)
    rows = _parsed_rows(table, program, report)
    with uow:
        found = uow.programs.get(program)
        fast, slow = (
            bulk_import.split(uow, found, rows)
            if bulk and bulk_import.can_replay(uow, found)
            else ([], rows)
        )
    for chunk in bulk_import.chunks_by_member(fast, members_per_chunk=batch_size):
        with uow:
            replay = bulk_import.replay_members(found, uow.clock(), chunk)
            bulk_import.write(uow, replay)
            uow.commit()
        report.imported += replay.imported
        report.already_imported += replay.already_imported
        report.rejected.extend(replay.rejected)
        if progress:
            progress(len(chunk))
    for batch in _batches(slow, batch_size):
        record_batch(uow, batch, report)
        if progress:
            progress(len(batch))
    report.rejected.sort()
    return report


def record_batch(
    uow: UnitOfWork, batch: list[tuple[int, EventRequest]], report: ImportReport
) -> None:
    """Record a batch in one transaction, each row in a savepoint."""
    with uow:
        for line, request in batch:
            try:
                with uow.savepoint():
                    apply_event(uow, request, create_members=True)
                report.imported += 1
            except Conflict as exc:
                if exc.code in ("duplicate_event", "duplicate_order"):
                    report.already_imported += 1
                else:
                    report.rejected.append((line, exc.message))
            except PatronageError as exc:
                report.rejected.append((line, exc.message))
        uow.commit()


def _member_profile(row: dict[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {k: (row.get(k) or None) for k in ("name", "phone", "email")}
    if row.get("birthday"):
        try:
            profile["birthday"] = date.fromisoformat(row["birthday"].strip())
        except ValueError:
            raise InvalidInput("birthday must be YYYY-MM-DD", field="birthday") from None
    consents = {
        k[len("consent_") :]: row[k].strip().lower() in ("1", "true", "yes")
        for k in row
        if k.startswith("consent_") and row[k]
    }
    profile["consents"] = consents
    if row.get("attributes"):
        try:
            profile["attributes"] = json.loads(row["attributes"])
        except json.JSONDecodeError:
            raise InvalidInput("attributes is not valid JSON", field="attributes") from None
    return profile


def import_members(
    uow: UnitOfWork,
    path: Path,
    program: str = "default",
    batch_size: int = 500,
    progress: Progress | None = None,
) -> ImportReport:
    """Import members (external_id, name, phone, email, birthday, joined_at,
    consent_<channel>, attributes as JSON). Existing external ids are skipped."""
    from patronage.domain.members import check_consents, check_contact

    table = read_table(path)
    _require_columns(table, MEMBER_COLUMNS)
    report = ImportReport(rows=table.num_rows)
    rows = list(enumerate(table.to_pylist(), start=2))
    for batch in _batches(rows, batch_size):
        with uow:
            prog = uow.programs.get(program)
            for line, row in batch:
                try:
                    with uow.savepoint():
                        profile = _member_profile(row)
                        check_contact(profile["phone"], profile["email"])
                        check_consents(profile["consents"])
                        joined = (
                            _aware(row["joined_at"], "joined_at")
                            if row.get("joined_at")
                            else uow.clock()
                        )
                        add_member(
                            uow, prog, (row.get("external_id") or "").strip(), joined, **profile
                        )
                    report.imported += 1
                except Conflict:
                    report.already_imported += 1
                except PatronageError as exc:
                    report.rejected.append((line, exc.message))
            uow.commit()
        if progress:
            progress(len(batch))
    return report
