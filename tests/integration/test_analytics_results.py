"""Kept analytics results and the jobs that compute them, on SQLite and PostgreSQL: one
job per panel, filters and data version; a failed job is shown until a retry, an
interrupted one is queued again; a job overtaken by newer data keeps nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from tests.factories import Shop

from patronage.clock import FixedClock
from patronage.services.analytics_results import filters_key, keep_result, panel_state
from patronage.services.background_jobs import DASHBOARD_PANEL, run_job
from patronage.services.dashboard import load_dashboard
from patronage.storage.data_versions import events_version

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC)
FILTERS = {"program": "default", "start": START.isoformat(), "end": END.isoformat(), "store": None}


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    shop = Shop(engine, clock)
    for i, amount in enumerate(("10.00", "20.00", "30.00", "400.00")):
        shop.buy(shop.member(f"m{i}"), amount)
    return shop


def _version(shop: Shop) -> str:
    with shop.uow() as uow:
        return events_version(uow.session, uow.programs.get("default").id or 0).text


def test_one_job_per_version_and_the_result_kept(shop: Shop) -> None:
    version = _version(shop)
    assert version == "events:4:4"
    first = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, version, "t")
    assert first.job is not None and first.to_start and not first.ready
    again = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, version, "t")
    assert again.job is not None and again.job.id == first.job.id  # not queued twice
    run_job(shop.uow(), first.job.id)
    kept = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, version, "t")
    expected = load_dashboard(shop.uow(), START, END, None)
    assert kept.result is not None and kept.job is None
    assert kept.result["gini"] == expected.gini and kept.result["lorenz"] == expected.lorenz
    assert kept.result["top_fifth_share"] == expected.top_fifth_share
    shop.buy(shop.member("new"), "5.00")
    newer = _version(shop)
    assert newer == "events:5:5"
    moved = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, newer, "t")
    assert moved.result is None and moved.job is not None and moved.job.id != first.job.id
    assert filters_key({"b": 1, "a": 2}) == filters_key({"a": 2, "b": 1})


def test_failed_interrupted_and_overtaken_jobs(shop: Shop) -> None:
    first = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, "v1", "t")
    assert first.job is not None
    with shop.uow() as uow:  # as a runner whose panel raised would leave it
        assert uow.background_jobs.claim(first.job.id, uow.clock())
        uow.background_jobs.finish(first.job.id, uow.clock(), error="disk full")
        uow.commit()
    failed = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, "v1", "t")
    assert failed.failed and failed.job is not None and failed.job.id == first.job.id
    assert failed.job.error == "disk full" and not failed.to_start
    retried = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, "v1", "t", retry=True)
    assert retried.job is not None and retried.job.id != first.job.id and retried.to_start
    with shop.uow() as uow:  # its server stops while it runs
        assert uow.background_jobs.claim(retried.job.id, uow.clock())
        uow.commit()
    shop.clock.advance(minutes=16)
    again = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, "v1", "t")
    assert again.job is not None and again.job.id not in (first.job.id, retried.job.id)
    later = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, "v2", "t")
    assert later.job is not None
    params = {"panel": "lorenz", "filters": FILTERS, "version": "v1"}
    assert not keep_result(shop.uow(), again.job.id, params, {"gini": 0.0})  # overtaken
    run_job(shop.uow(), again.job.id)  # runs, but keeps nothing
    assert panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, "v2", "t").result is None
    run_job(shop.uow(), later.job.id)
    done = panel_state(shop.uow(), DASHBOARD_PANEL, "lorenz", FILTERS, "v2", "t")
    assert done.result is not None and done.result["gini"] > 0
