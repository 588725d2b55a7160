"""The application built from settings, for `uvicorn patronage.http.asgi:app` and for
`patronage serve --workers N` (each worker process imports this module)."""

from __future__ import annotations

from patronage.config import get_settings
from patronage.http.app import create_app
from patronage.http.workers import settle_garbage_collector
from patronage.storage.db import make_engine

app = create_app(make_engine(get_settings().database_url))
settle_garbage_collector()
