"""Prometheus metrics: request rates and latencies, ledger activity, job lag.

Request metrics are counted by a middleware; ledger and job figures are read from
the database when /metrics is scraped, so they are right across several workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patronage.storage.metrics_queries import job_progress, ledger_counts


class LedgerCollector(Collector):
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine: Engine = self.app.state.engine
        entries = GaugeMetricFamily(
            "patronage_ledger_entries", "Ledger entries recorded, by kind.", labels=["kind"]
        )
        for kind, count in ledger_counts(engine).items():
            entries.add_metric([kind], count)
        yield entries
        lag = GaugeMetricFamily(
            "patronage_job_lag_seconds",
            "Seconds since a job last ran up to.",
            labels=["job", "program"],
        )
        now = self.app.state.clock()
        for (job, program), as_of in job_progress(engine).items():
            lag.add_metric([job, program], max(0.0, (now - as_of).total_seconds()))
        yield lag


def _route_template(url_path: str, path: str | None) -> str:
    """The route's path template (bounded label values), with the router's prefix."""
    if path is None:
        return "unmatched"
    prefix = "/api/v1"
    if url_path.startswith(prefix) and not path.startswith(prefix):
        return prefix + path
    return path


access = logging.getLogger("patronage.access")


class RequestMetrics:
    """ASGI middleware counting requests by method, route template and status, with
    their latency; and logging each request once (http/logs.py)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            path = _route_template(scope["path"], getattr(route, "path", None))
            method = scope["method"]
            elapsed = time.perf_counter() - started
            self.latency.labels(method, path).observe(elapsed)
            self.requests.labels(method, path, str(status)).inc()
            access.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "method": method,
                    "path": scope["path"],  # never the query string: it may hold tokens
                    "route": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


def install(app: FastAPI) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "patronage_http_requests",
        "HTTP requests.",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "patronage_http_request_seconds",
        "HTTP request latency.",
        ["method", "route"],
        registry=registry,
        buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    )
    registry.register(LedgerCollector(app))

    app.add_middleware(RequestMetrics, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
