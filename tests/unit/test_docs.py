"""The README documents every setting and every command (the docs cannot drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from patronage.cli.main import app
from patronage.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def command_paths(group: Any, prefix: str = "patronage") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_setting_is_documented() -> None:
    missing = [
        f"PATRONAGE_{name.upper()}"
        for name in Settings.model_fields
        if f"PATRONAGE_{name.upper()}" not in README
    ]
    assert missing == []


def test_every_command_is_documented() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert "patronage import transactions" in paths
    missing = [path for path in paths if path not in README]
    assert missing == []
