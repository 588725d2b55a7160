"""Errors that carry business meaning. The HTTP and CLI layers map them once.

No HTTP here: each error has a stable ``code`` and ``details``; ``http/errors.py``
turns the class into a status code.
"""

from __future__ import annotations

from typing import Any


class PatronageError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "error"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(PatronageError):
    """The request is malformed: a field is missing, of the wrong type or out of range."""

    code = "invalid_input"


class NotFound(PatronageError):
    code = "not_found"


class Conflict(PatronageError):
    """The request clashes with what is already recorded (duplicate, reused key)."""

    code = "conflict"


class RuleViolation(PatronageError):
    """The request is well formed but a business rule refuses it."""

    code = "rule_violation"


class Unauthorized(PatronageError):
    code = "unauthorized"


class Forbidden(PatronageError):
    code = "forbidden"
