"""The dashboard on a large program: the heavy panels (``dashboard.HEAVY``: RFM, the
Lorenz curve, cohort retention, each a scan of the range's purchases) come from results
kept per (panel, date range, store) and version of the program's events, and are
computed by background jobs when missing, so the page never waits for them.

Up to ``inline_events`` events (``PATRONAGE_ANALYTICS_INLINE_EVENTS``) they are cheap
enough to compute inside the request, as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patronage.services.analytics_results import PanelState, panel_state
from patronage.services.background_jobs import DASHBOARD_PANEL, Progress
from patronage.services.dashboard import HEAVY, Dashboard, load_dashboard, with_panels
from patronage.storage.dashboard_queries import DashboardFilter
from patronage.storage.data_versions import events_version
from patronage.storage.uow import UnitOfWork

STEPS = 2  # read the purchases, compute the panel


def dashboard_with_panels(
    uow: UnitOfWork,
    start: datetime,
    end: datetime,
    store: str | None,
    *,
    actor: str,
    inline_events: int,
    retry: bool = False,
    program: str = "default",
) -> tuple[Dashboard, dict[str, PanelState]]:
    """The dashboard, and the state of each heavy panel not yet computed for these filters
    and this data (waiting for its job, or failed); every other panel is in the view."""
    with uow:
        version = events_version(uow.session, uow.programs.get(program).id or 0)
    if version.events <= inline_events:
        return load_dashboard(uow, start, end, store, program), {}
    view = load_dashboard(uow, start, end, store, program, heavy=())
    filters = {
        "program": program,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "store": view.store,
    }
    states = {
        name: panel_state(uow, DASHBOARD_PANEL, name, filters, version.text, actor, retry=retry)
        for name in HEAVY
    }
    ready = {name: s.result for name, s in states.items() if s.result is not None}
    return with_panels(view, ready), {n: s for n, s in states.items() if not s.ready}


def compute_panel(uow: UnitOfWork, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run by the job: one heavy panel for its filters, on a read-only unit of work (no
    lock held while it reads)."""
    panel = HEAVY[params["panel"]]
    filters = params["filters"]
    with UnitOfWork(uow.engine, uow.clock, read_only=True) as reading:
        program = reading.programs.get(filters["program"])
        f = DashboardFilter(
            program.id or 0,
            datetime.fromisoformat(filters["start"]),
            datetime.fromisoformat(filters["end"]),
            filters["store"],
        )
        rows = panel.read(reading.session, f)
    progress(1)
    result = panel.compute(rows, f)
    progress(1)
    return result
