"""Server-rendered pages on the same app and services as the API: ``install(app)``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from patronage.config import get_settings
from patronage.web import (
    designer_pages,
    job_pages,
    member_pages,
    portal_pages,
    staff_pages,
    training_pages,
    voice_pages,
)

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, secret_key: str | None = None, timezone: str = "UTC") -> None:
    """Mount the pages and their static files. Sessions are signed with ``secret_key``
    (default PATRONAGE_SECRET_KEY); dates are shown in ``timezone``."""
    app.state.web_secret = secret_key or get_settings().secret_key
    app.state.web_timezone = timezone
    app.state.analytics_inline_events = get_settings().analytics_inline_events
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        staff_pages,
        member_pages,
        portal_pages,
        designer_pages,
        voice_pages,
        training_pages,
        job_pages,
    ):
        app.include_router(module.router)
