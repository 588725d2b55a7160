"""Languages of the web app: message catalogues, the choice of language, and numbers,
money and dates formatted for it (Babel)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}
_LOCALES = Path(__file__).parent / "locales"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang``: ``locales/{lang}.json`` plus one file per page area in
    ``locales/<area>/{lang}.json``. A key defined twice is a mistake and raises."""
    messages: dict[str, str] = {}
    for path in [_LOCALES / f"{lang}.json", *sorted(_LOCALES.glob(f"*/{lang}.json"))]:
        part: dict[str, str] = json.loads(path.read_text("utf-8"))
        twice = messages.keys() & part.keys()
        if twice:
            raise ValueError(f"{path}: message keys already defined: {sorted(twice)}")
        messages.update(part)
    return messages


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if valid, else the browser's best supported one."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.strip().lower()))
    for _, tag in sorted(ranked, key=lambda item: -item[0]):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """``t("key", name=...)`` and the locale's formatting, bound to one language."""

    lang: str
    timezone: str = "UTC"

    @property
    def locale(self) -> str:
        return self.lang.replace("-", "_")

    def __call__(self, key: str, **values: Any) -> str:
        text = catalogue(self.lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key, key)
        return text.format(**values) if values else text

    def number(self, value: int | float | Decimal) -> str:
        return str(numbers.format_decimal(value, locale=self.locale))

    def percent(self, value: float) -> str:
        return str(numbers.format_percent(value, format="#,##0.#%", locale=self.locale))

    def money(self, minor: int | Decimal, currency: str) -> str:
        amount = Decimal(minor) / 100
        return str(numbers.format_currency(amount, currency, locale=self.locale))

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(ZoneInfo(self.timezone)).date()
        return str(dates.format_date(value, format="medium", locale=self.locale))

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        zone = ZoneInfo(self.timezone)
        return str(dates.format_datetime(value, format="short", tzinfo=zone, locale=self.locale))
