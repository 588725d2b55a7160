"""Bilingual message templates (Jinja2), stored as package files in ``templates/``.

A template ``<name>.<language>.j2`` renders to a subject on its first line, then a
blank line, then the body. Languages: ``en`` and ``zh-CN``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

from patronage.domain.journeys import DEFAULT_LANGUAGE
from patronage.errors import NotFound


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("patronage.journeys", "templates"),
        autoescape=False,  # plain-text messages; nothing here is HTML
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def render(template: str, language: str, context: Mapping[str, Any]) -> Rendered:
    """The message in the member's language (English when there is no such template)."""
    environment = _environment()
    try:
        source = environment.get_template(f"{template}.{language}.j2")
    except TemplateNotFound:
        try:
            source = environment.get_template(f"{template}.{DEFAULT_LANGUAGE}.j2")
        except TemplateNotFound:
            raise NotFound(f"no message template {template!r}", template=template) from None
    text = source.render(**context).strip()
    subject, _, body = text.partition("\n")
    return Rendered(subject.strip(), body.strip())


def template_names() -> list[str]:
    return sorted({name.split(".")[0] for name in _environment().list_templates(extensions=["j2"])})
