"""Errors shown inside a page (next to the form), in the page's language."""

from __future__ import annotations

from patronage.errors import PatronageError
from patronage.web.forms import error_message
from patronage.web.i18n import Translator


def explain(t: Translator, exc: PatronageError) -> str:
    """The translated message; for bad input also the platform's own words, which name
    the field (the translated text alone is generic)."""
    text = error_message(t, exc)
    if exc.code == "invalid_input" and text != exc.message:
        return f"{text} ({exc.message})"
    return text
