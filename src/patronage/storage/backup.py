"""Backups: SQLite's online backup API, or pg_dump / pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from patronage.errors import InvalidInput


def _pg_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    url = engine.url
    args = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InvalidInput(
            f"{name} is not installed (PostgreSQL client tools are needed)", field="db"
        )
    return found


def backup(engine: Engine, target: Path) -> Path:
    """Write a consistent copy of the database to ``target`` while it is in use."""
    if target.exists():
        raise InvalidInput(f"{target} exists; choose a new file", field="file")
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(engine.url.database or "")
        destination = sqlite3.connect(target)
        with destination:
            source.backup(destination)
        source.close()
        destination.close()
        return target
    args, env = _pg_args(engine)
    subprocess.run(
        [_tool("pg_dump"), *args, "-Fc", "-f", str(target), engine.url.database or ""],
        check=True,
        env={**_base_env(), **env},
    )
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup in ``source``."""
    if not source.exists():
        raise InvalidInput(f"no such backup: {source}", field="file")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        backup_db = sqlite3.connect(source)
        target = sqlite3.connect(parsed.database or "")
        with target:
            backup_db.backup(target)
        backup_db.close()
        target.close()
        return
    from patronage.storage.db import make_engine

    engine = make_engine(url)
    args, env = _pg_args(engine)
    engine.dispose()
    subprocess.run(
        [
            _tool("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "-d",
            parsed.database or "",
            str(source),
        ],
        check=True,
        env={**_base_env(), **env},
    )


def _base_env() -> dict[str, str]:
    import os

    return dict(os.environ)
