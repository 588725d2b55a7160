"""Where the aggregations run: DuckDB in-process (default) or Apache Spark.

The same Ibis expressions run on either backend. Spark runs in local mode unless a
session already exists (spark-submit, a cluster notebook), which is then reused.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

import ibis
from ibis.backends import BaseBackend

from patronage.config import get_settings
from patronage.errors import InvalidInput

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")


def connect(engine: str = "duckdb") -> BaseBackend:
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        con.raw_sql(f"SET memory_limit = '{get_settings().analytics_memory_mb}MB'")
        con.raw_sql("SET allocator_background_threads = true")  # return freed memory promptly
        return con
    if engine == "spark":
        return ibis.pyspark.connect(spark_session())
    raise InvalidInput(f"unknown engine {engine!r}: use duckdb or spark", field="engine")


@cache
def spark_session(master: str = "local[2]") -> Any:
    """One Spark session per process; small shuffles suit one machine."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InvalidInput(
            "the spark engine needs PySpark: pip install 'patronage[spark]'", field="engine"
        ) from exc
    return (
        SparkSession.builder.master(master)
        .appName("patronage-analytics")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
