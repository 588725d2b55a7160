"""The FastAPI application: the API under /api/v1, docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from sqlalchemy import Engine

from patronage import __version__
from patronage.clock import Clock, system_clock
from patronage.http import errors, guards, metrics
from patronage.http.routes import analytics, events, members, privacy, referrals, transfers
from patronage.http.schemas import ErrorOut

API_PREFIX = "/api/v1"
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 422)
}


def create_app(engine: Engine, clock: Clock = system_clock) -> FastAPI:
    app = FastAPI(
        title="Patronage",
        version=__version__,
        description="Customer-loyalty platform: points ledger, members, tiers.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.engine = engine
    app.state.clock = clock
    errors.install(app)
    metrics.install(app)
    guards.install(app, guards.FailedLogins())
    for module in (members, events, transfers, privacy, analytics, referrals):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    from patronage.http.routes import complaints, surveys

    for router in (surveys.router, surveys.public, complaints.router):
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    from patronage.http.routes import rules

    app.include_router(rules.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    from patronage.http.routes import coupons, rewards, wallet

    for module in (rewards, coupons, wallet):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    from patronage.http.routes import training

    app.include_router(training.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    from patronage.http.routes import unsubscribe

    app.include_router(unsubscribe.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    from patronage.http.routes import personalisation

    app.include_router(personalisation.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    from patronage.http.routes import segments

    app.include_router(segments.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The server answers and its database does too (503 otherwise)."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            raise HTTPException(503, "database unavailable") from None
        return {"status": "ok"}

    from patronage.web import views as web_views

    web_views.install(app)  # the pages for people: /login, /dashboard, /counter, /portal
    return app
