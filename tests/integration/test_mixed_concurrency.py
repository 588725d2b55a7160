"""A few seconds of the soak workload: no lost update, no negative balance, no
double-spent stock, no deadlock left unresolved, a clean `patronage check`."""

from __future__ import annotations

from sqlalchemy import Engine

from patronage.services.soak import run_soak


def test_mixed_workload_keeps_every_promise(engine: Engine) -> None:
    report = run_soak(engine, seconds=4, threads=8)
    assert report.unexpected == []
    assert report.violations == {}
    assert report.negative_balances == 0
    assert report.stock_left is not None and report.stock_left >= 0
    assert report.stock_left + report.stock_taken == report.stock_start
    assert report.operations["buy"] > 0 and sum(report.operations.values()) > 20
