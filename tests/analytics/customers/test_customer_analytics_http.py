"""The /api/v1/analytics route functions on the platform database.

(The HTTP stack and its role checks are exercised by tests/api once the lead mounts the
router; starlette's TestClient is not usable in this environment.)
"""

from __future__ import annotations

from datetime import date

from patronage.http.routes import analytics
from patronage.storage.db import make_engine


def test_route_functions_answer_like_the_cli(platform_db: str) -> None:
    engine = make_engine(platform_db)
    anyone = None
    rfm = analytics.rfm(anyone, engine, as_of=date(2024, 2, 29))  # type: ignore[arg-type]
    assert rfm["customers"] == 2
    ladder = analytics.ladder(anyone, engine)  # type: ignore[arg-type]
    assert ladder["stages"]["expectation"] == 1
    index = analytics.loyalty_index(anyone, engine)  # type: ignore[arg-type]
    assert index["missing_components"] == ["share_of_category_spend"]
    engine.dispose()
    assert [r.path for r in analytics.router.routes] == [
        "/analytics/rfm",
        "/analytics/pareto",
        "/analytics/retention",
        "/analytics/clv",
        "/analytics/churn",
        "/analytics/ladder",
        "/analytics/loyalty-index",
    ]
