"""Run a write once per Idempotency-Key: the same key and payload replay the stored
result; the same key with another payload is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from patronage.errors import Conflict
from patronage.storage.uow import UnitOfWork

T = TypeVar("T")


def fingerprint(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(result: Any) -> dict[str, Any]:
    data = asdict(result) if is_dataclass(result) and not isinstance(result, type) else result
    return json.loads(json.dumps(data, default=str))  # type: ignore[no-any-return]


def run_once(
    uow: UnitOfWork,
    scope: str,
    key: str | None,
    payload: dict[str, Any],
    operation: Callable[[UnitOfWork], T],
    decode: Callable[[dict[str, Any]], T],
) -> T:
    """Run ``operation`` in one transaction, recording its result under ``key``.

    A concurrent request with the same key loses the race on the unique index;
    it is retried once and then finds the winner's result.
    """
    digest = fingerprint(payload)
    for attempt in range(2):
        try:
            with uow:
                if key is not None:
                    found = uow.idempotency.get(scope, key)
                    if found is not None:
                        if found.fingerprint != digest:
                            raise Conflict(
                                "this Idempotency-Key was used with a different request",
                                code="idempotency_key_reused",
                                key=key,
                            )
                        return decode(found.result)
                result = operation(uow)
                if key is not None:
                    uow.idempotency.add(scope, key, digest, _encode(result), uow.clock())
                uow.commit()
                return result
        except IntegrityError:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")
