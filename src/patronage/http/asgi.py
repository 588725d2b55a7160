"""The application built from settings, for `uvicorn patronage.http.asgi:app` and for
`patronage serve --workers N` (each worker process imports this module)."""

from __future__ import annotations

import gc

from patronage.config import get_settings
from patronage.http.app import create_app
from patronage.storage.db import make_engine

app = create_app(make_engine(get_settings().database_url))
# The cyclic garbage collector paused requests: under `make load` balance reads had a
# p99 of 62-101 ms with it as it comes, 21-34 ms with it off. What the app holds for its
# lifetime (routes, schemas, mapped tables) is left out of its passes, and it runs less
# often (every 20,000 net allocations instead of 700): p99 21-45 ms, memory still kept.
gc.freeze()
gc.set_threshold(20_000, 50, 1000)
