"""The `patronage` command starts without loading the heavy analytics and web libraries.

Every command module is imported when the CLI starts (to register its commands), so a
module-level import of pandas, SciPy, Ibis... there costs seconds on every command, even
`patronage --help`. Commands import what they need in their bodies instead.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "ibis",
    "duckdb",
    "pyarrow",
    "jieba",
    "snownlp",
    "vaderSentiment",
    "pyspark",
    "uvicorn",
    "fastapi",
    "patronage.analytics",
    "patronage.http",
    "patronage.web",
)


def loaded_after(statement: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has loaded after running `statement`."""
    probe = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_library() -> None:
    statement = (
        "import patronage.cli.main\n"
        "assert 'analytics' in {g.name for g in patronage.cli.main.app.registered_groups}"
    )
    assert loaded_after(statement) == []


def test_the_probe_sees_a_heavy_library_when_one_is_imported() -> None:
    assert loaded_after("import patronage.cli.main, duckdb") == ["duckdb"]
