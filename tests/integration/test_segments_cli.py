"""`patronage segments ...` on SQLite and PostgreSQL: the commands, exit codes and
one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.factories import Shop
from tests.segment_data import five_customers
from typer.testing import CliRunner

from patronage.cli.main import app
from patronage.clock import FixedClock
from patronage.services import segments
from patronage.storage.uow import UnitOfWork

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def ids(engine: Engine, clock: FixedClock) -> dict[str, int]:
    return five_customers(Shop(engine, clock))


def test_save_show_export_refresh_delete(
    db_url: str, engine: Engine, ids: dict[str, int], tmp_path: Path
) -> None:
    code, output = run(
        "segments", "save", "champs", "--db", db_url, "--rfm", "Champions",
        "--as-of", "2026-03-10", "--name", "Champions in March",
    )  # fmt: skip
    assert code == 0, output
    assert "saved segment 'champs': 2 members" in output
    code, output = run("segments", "show", "champs", "--db", db_url, "--json")
    assert code == 0, output
    shown = json.loads(output)
    assert (shown["member_count"], shown["as_of"]) == (2, "2026-03-10")
    assert shown["revenue_share"] == pytest.approx(900 / 1300)
    out = tmp_path / "champs.csv"
    code, output = run("segments", "export", "champs", "--db", db_url, "--output", str(out))
    assert code == 0, output
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["member_id"]), r["external_id"], r["rfm_segment"]) for r in rows] == [
        (ids["a"], "a", "Champions"),
        (ids["b"], "b", "Champions"),
    ]
    assert "name" not in rows[0]
    code, output = run("segments", "refresh", "champs", "--db", db_url, "--as-of", "2026-03-10")
    assert (code, "refreshed segment 'champs': 2 members" in output) == (0, True)
    code, output = run("segments", "list", "--db", db_url)
    assert code == 0 and "champs" in output
    code, output = run("segments", "delete", "champs", "--db", db_url)
    assert code == 0, output
    assert segments.list_segments(UnitOfWork(engine), "default") == []


def test_save_a_list_and_export_names(
    db_url: str, engine: Engine, ids: dict[str, int], tmp_path: Path
) -> None:
    good = tmp_path / "vip.csv"
    good.write_text("external_id\ne\nc\n", encoding="utf-8")
    code, output = run("segments", "save", "vip", "--db", db_url, "--file", str(good))
    assert code == 0, output
    code, output = run("segments", "export", "vip", "--db", db_url, "--with-names")
    assert code == 0, output
    assert output.splitlines() == [
        "member_id,external_id,name",
        f"{ids['c']},c,Customer C",
        f"{ids['e']},e,Customer E",
    ]


def test_bad_input_exits_2_with_one_line_and_saves_nothing(
    db_url: str, engine: Engine, ids: dict[str, int], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("external_id\na\nnobody\n", encoding="utf-8")
    cases = [
        (("save", "x", "--file", str(bad)), "row 3: unknown external_id 'nobody'"),
        (("save", "x", "--file", str(tmp_path / "missing.csv")), "cannot read"),
        (("save", "x", "--rfm", "Royalty"), "unknown RFM segment 'Royalty'"),
        (("save", "x"), "give either --rfm"),
        (("save", "x", "--rfm", "Lost", "--file", str(bad)), "give either --rfm"),
        (("save", "x", "--rfm", "Lost", "--as-of", "March"), "is not a date"),
        (("save", "bad code", "--rfm", "Lost"), "segment code 'bad code'"),
        (("show", "nothing"), "no segment 'nothing'"),
        (("export", "nothing"), "no segment 'nothing'"),
        (("refresh", "nothing"), "no segment 'nothing'"),
        (("delete", "nothing"), "no segment 'nothing'"),
        (("list", "--program", "nope"), "nope"),
    ]
    wrong = []
    for args, message in cases:
        code, output = run("segments", *args, "--db", db_url)
        lines = output.strip().splitlines()
        if code != 2 or len(lines) != 1 or message not in output:
            wrong.append((args, code, output))
    assert wrong == []
    assert segments.list_segments(UnitOfWork(engine), "default") == []
