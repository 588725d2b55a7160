"""Developer tool: rewrite the initial migration from the current schema.

Patronage has not had a release yet, so the schema lives in one initial revision that
is regenerated whenever tables change (`make migration`). After the first release,
changes get revisions of their own instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from patronage.storage.migrate import MIGRATIONS, make_revision

INITIAL = "0001"


def main() -> None:
    versions = MIGRATIONS / "versions"
    for old in versions.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        make_revision(f"sqlite:///{Path(folder) / 'empty.db'}", "initial schema", INITIAL)


if __name__ == "__main__":
    main()
