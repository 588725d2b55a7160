"""Coupon batches: designing one, generating its codes in bulk, importing a code pool."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from patronage.domain import coupon_codes
from patronage.domain.coupons import BatchRules, CouponBatch, Discount, check_external_code
from patronage.errors import Conflict, InvalidInput, RuleViolation
from patronage.services.idempotency import run_once
from patronage.storage.uow import UnitOfWork

MAX_CODES_PER_CALL = 1_000_000
CHUNK = 10_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class NewBatch:
    name: str
    discount: Discount
    program: str = "default"
    max_redemptions: int = 1
    per_member_limit: int | None = None
    valid_from: datetime | None = None
    expires_at: datetime | None = None
    campaign_id: str | None = None
    code_length: int = coupon_codes.DEFAULT_LENGTH


@dataclass(frozen=True)
class BatchSummary:
    id: int
    program: str
    name: str
    source: str
    campaign_id: str | None
    discount: dict[str, Any]
    max_redemptions: int
    per_member_limit: int | None
    valid_from: datetime | None
    expires_at: datetime | None
    code_length: int
    active: bool
    codes: int
    created_at: datetime


@dataclass(frozen=True)
class CodesAdded:
    batch_id: int
    added: int
    skipped: int = 0


def summary(uow: UnitOfWork, batch: CouponBatch) -> BatchSummary:
    program = uow.programs.get_by_id(batch.program_id).code
    return summary_of(batch, program, uow.coupons.count_codes(batch.id))


def summary_of(batch: CouponBatch, program: str, codes: int) -> BatchSummary:
    rules = batch.rules
    return BatchSummary(
        id=batch.id,
        program=program,
        name=batch.name,
        source=batch.source,
        campaign_id=batch.campaign_id,
        discount=asdict(rules.discount),
        max_redemptions=rules.max_redemptions,
        per_member_limit=rules.per_member_limit,
        valid_from=rules.valid_from,
        expires_at=rules.expires_at,
        code_length=batch.code_length,
        active=batch.active,
        codes=codes,
        created_at=batch.created_at,
    )


def _check_new_batch(request: NewBatch) -> BatchRules:
    if not request.name.strip() or len(request.name) > 200:
        raise InvalidInput("name is required (at most 200 characters)", field="name")
    if request.campaign_id is not None and not 1 <= len(request.campaign_id) <= 64:
        raise InvalidInput("campaign_id must be 1-64 characters", field="campaign_id")
    if not coupon_codes.MIN_LENGTH <= request.code_length <= coupon_codes.MAX_LENGTH:
        raise InvalidInput(
            f"code_length must be {coupon_codes.MIN_LENGTH}-{coupon_codes.MAX_LENGTH}",
            field="code_length",
        )
    rules = BatchRules(
        request.discount,
        request.max_redemptions,
        request.per_member_limit,
        request.valid_from,
        request.expires_at,
    )
    return rules.check()


def add_batch(
    u: UnitOfWork, rules: BatchRules, name: str, program_id: int, source: str, **extra: Any
) -> CouponBatch:
    """Insert a batch inside the caller's transaction."""
    return u.coupons.add_batch(
        program_id=program_id,
        name=name,
        source=source,
        discount_type=rules.discount.type,
        discount_value=rules.discount.value,
        discount_sku=rules.discount.sku,
        max_redemptions=rules.max_redemptions,
        per_member_limit=rules.per_member_limit,
        valid_from=rules.valid_from,
        expires_at=rules.expires_at,
        active=True,
        created_at=u.clock(),
        **extra,
    )


def create_batch(
    uow: UnitOfWork,
    request: NewBatch,
    count: int = 0,
    actor: str | None = None,
    idempotency_key: str | None = None,
) -> BatchSummary:
    """A new batch, with ``count`` generated codes in the same transaction."""
    rules = _check_new_batch(request)
    _check_count(count, allow_zero=True)

    def operation(u: UnitOfWork) -> BatchSummary:
        program = u.programs.get(request.program)
        batch = add_batch(
            u,
            rules,
            request.name,
            program.id or 0,
            "admin",
            campaign_id=request.campaign_id,
            code_length=request.code_length,
            created_by=actor,
        )
        _generate(u, batch, count, None)
        return summary(u, batch)

    payload = {"request": asdict(request), "count": count}
    return run_once(uow, "coupon_batches", idempotency_key, payload, operation, _decode_summary)


def _check_count(count: int, allow_zero: bool = False) -> None:
    if not (0 if allow_zero else 1) <= count <= MAX_CODES_PER_CALL:
        raise InvalidInput(f"count must be between 1 and {MAX_CODES_PER_CALL:,}", field="count")


def _open_batch(u: UnitOfWork, batch_id: int) -> CouponBatch:
    batch = u.coupons.batch(batch_id)
    if batch.source == "reward":
        raise RuleViolation(
            "a reward's batch gets its codes from redemptions",
            code="reward_batch",
            batch_id=batch_id,
        )
    return batch


def _generate(
    u: UnitOfWork, batch: CouponBatch, count: int, progress: Progress | None
) -> list[str]:
    """Insert ``count`` new random codes in chunks; a chunk that hits an existing code
    (about one chance in 10^9 per chunk) is rolled back to its savepoint and drawn again."""
    made: list[str] = []
    now = u.clock()
    while len(made) < count:
        size = min(CHUNK, count - len(made))
        for attempt in range(3):
            codes = sorted(coupon_codes.new_codes(size, batch.code_length))
            try:
                with u.savepoint():
                    u.coupons.insert_codes(batch.id, codes, batch.rules.max_redemptions, now)
                break
            except Conflict:
                if attempt == 2:
                    raise
        made.extend(codes)
        if progress is not None:
            progress(len(made))
    return made


def generate_codes(
    uow: UnitOfWork, batch_id: int, count: int, progress: Progress | None = None
) -> list[str]:
    """Add ``count`` unique codes to a batch in one transaction; returns them."""
    _check_count(count)
    with uow:
        codes = _generate(uow, _open_batch(uow, batch_id), count, progress)
        uow.commit()
    return codes


def generate_more(
    uow: UnitOfWork, batch_id: int, count: int, idempotency_key: str | None = None
) -> CodesAdded:
    _check_count(count)

    def operation(u: UnitOfWork) -> CodesAdded:
        return CodesAdded(batch_id, len(_generate(u, _open_batch(u, batch_id), count, None)))

    payload = {"batch_id": batch_id, "count": count}
    scope = f"coupon_batch:{batch_id}:generate"
    return run_once(uow, scope, idempotency_key, payload, operation, lambda d: CodesAdded(**d))


def check_generation(uow: UnitOfWork, batch_id: int, count: int) -> BatchSummary:
    """The batch, when ``count`` more codes may be generated for it; else why not."""
    _check_count(count)
    with uow:
        return summary(uow, _open_batch(uow, batch_id))


def generate_in_steps(
    uow: UnitOfWork,
    batch_id: int,
    count: int,
    key: str,
    step: int = CHUNK,
    progress: Progress | None = None,
) -> int:
    """Add ``count`` codes in transactions of at most ``step`` codes, so others can watch
    the batch grow (``progress`` hears each step's size). Each step runs once per ``key``
    (``{key}:{n}``): running it again after an interruption, or twice at once, adds only
    the steps still missing. Returns the number of codes the steps hold (this call's and
    an earlier run's)."""
    _check_count(count)
    if not 1 <= step <= CHUNK:
        raise InvalidInput(f"step must be between 1 and {CHUNK}", field="step")
    added = 0
    for number, start in enumerate(range(0, count, step)):
        size = min(step, count - start)
        scope = f"coupon_batch:{batch_id}:steps"
        payload = {"batch_id": batch_id, "count": count, "step": number, "size": size}

        def operation(u: UnitOfWork, size: int = size) -> CodesAdded:
            return CodesAdded(batch_id, len(_generate(u, _open_batch(u, batch_id), size, None)))

        done = run_once(
            uow, scope, f"{key}:{number}", payload, operation, lambda d: CodesAdded(**d)
        )
        added += done.added
        if progress is not None:
            progress(done.added)
    return added


def clean_pool(raw_codes: Sequence[str], first_line: int = 1) -> list[str]:
    """Normalised external codes; refuses the pool on any bad or repeated code."""
    seen: dict[str, int] = {}
    for offset, raw in enumerate(raw_codes):
        line = first_line + offset
        code = check_external_code(coupon_codes.normalize(raw), line)
        if code in seen:
            raise InvalidInput(
                f"code {code} appears twice (lines {seen[code]} and {line})",
                field="code",
                line=line,
            )
        seen[code] = line
    if not seen:
        raise InvalidInput("the pool has no codes", field="codes")
    return list(seen)


def read_pool(path: Path) -> tuple[list[str], int]:
    """Codes from a CSV file: the ``code`` column when the first row names one, else
    the first column. Returns the codes and the file line of the first."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}", field="file") from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    column, first_line = (header.index("code"), 2) if "code" in header else (0, 1)
    body = rows[first_line - 1 :]
    return [row[column] if len(row) > column else "" for row in body], first_line


def import_codes(
    uow: UnitOfWork,
    batch_id: int,
    raw_codes: Sequence[str],
    idempotency_key: str | None = None,
    first_line: int = 1,
) -> CodesAdded:
    """Import an external code pool, all or nothing. Codes already in this batch are
    skipped (so a re-run after a crash adds only the rest); a code that belongs to
    another batch refuses the whole pool."""
    codes = clean_pool(raw_codes, first_line)
    if len(codes) > MAX_CODES_PER_CALL:
        raise InvalidInput(f"at most {MAX_CODES_PER_CALL:,} codes per import", field="codes")

    def operation(u: UnitOfWork) -> CodesAdded:
        batch = _open_batch(u, batch_id)
        existing = u.coupons.existing_codes(codes)
        elsewhere = sorted(c for c, b in existing.items() if b != batch_id)
        if elsewhere:
            raise Conflict(
                f"{len(elsewhere)} code(s) belong to another batch, e.g. {elsewhere[0]}",
                code="code_taken",
                code_value=elsewhere[0],
                count=len(elsewhere),
            )
        new = [c for c in codes if c not in existing]
        for start in range(0, len(new), CHUNK):
            chunk = new[start : start + CHUNK]
            u.coupons.insert_codes(batch.id, chunk, batch.rules.max_redemptions, u.clock())
        return CodesAdded(batch_id, len(new), len(codes) - len(new))

    payload = {"batch_id": batch_id, "codes": codes}
    scope = f"coupon_batch:{batch_id}:import"
    return run_once(uow, scope, idempotency_key, payload, operation, lambda d: CodesAdded(**d))


def get_batch(uow: UnitOfWork, batch_id: int) -> BatchSummary:
    with uow:
        return summary(uow, uow.coupons.batch(batch_id))


def list_batches(uow: UnitOfWork, program: str = "default", limit: int = 200) -> list[BatchSummary]:
    """The program's coupon batches, newest first (reward batches included)."""
    with uow:
        program_id = uow.programs.get(program).id or 0
        return [
            summary_of(batch, program, codes)
            for batch, codes in uow.coupons.batches(program_id, limit)
        ]


def batch_codes(
    uow: UnitOfWork, batch_id: int, after_id: int = 0, limit: int = 1000
) -> list[tuple[int, str, int]]:
    with uow:
        uow.coupons.batch(batch_id)
        return uow.coupons.codes(batch_id, after_id, limit)


def _decode_summary(data: dict[str, Any]) -> BatchSummary:
    for name in ("valid_from", "expires_at", "created_at"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    return BatchSummary(**data)
