"""The reference cache (storage/reference.py): changes made anywhere are seen by every
process from its next unit of work on; rolled-back changes are never seen."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text, update

from patronage.errors import Unauthorized
from patronage.services.access import authenticate, create_api_key, revoke_api_key
from patronage.services.programs import ensure_default_program
from patronage.storage.db import make_engine
from patronage.storage.reference import changes_reference, read_token
from patronage.storage.rules_repository import RulesRepository
from patronage.storage.rules_tables import CampaignRow
from patronage.storage.tables import ProgramRow, TierRow
from patronage.storage.uow import UnitOfWork


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("INSERT INTO rules (code) VALUES (?)", True),
        ('DELETE FROM "tiers" WHERE id = 1', True),
        ("UPDATE api_keys SET revoked_at=? WHERE api_keys.prefix = ?", True),
        ("UPDATE campaigns SET status=?, spent=? WHERE campaigns.id = ?", True),
        ("UPDATE campaigns SET spent=(campaigns.spent + ?) WHERE campaigns.id = ?", False),
        ("UPDATE members SET tier_id=? WHERE members.id = ?", False),
        ("INSERT INTO ledger_entries (points) VALUES (?)", False),
        ("SELECT * FROM programs", False),
        ("  update programs set name = 'x'", True),
        ("update campaigns set spent = spent + 1 where id = 1", False),
        ("WITH t AS (UPDATE programs SET name=? WHERE id=? RETURNING id) SELECT * FROM t", True),
        ("WITH a AS (INSERT INTO rule_awards (points) VALUES (?)) SELECT 1", False),
        (
            "WITH a AS (INSERT INTO rule_awards (points) VALUES (?)), "
            "b AS (DELETE FROM tiers) SELECT 1",
            True,
        ),
        (
            "WITH s AS (UPDATE campaigns SET spent=(campaigns.spent + ?) FROM "
            "(SELECT id FROM campaigns FOR NO KEY UPDATE) AS l WHERE campaigns.id = l.id) "
            "SELECT 1",
            False,
        ),
        ("WITH s AS (UPDATE campaigns SET\nstatus=?\nWHERE id = ?) SELECT 1", True),
        ("SELECT id FROM members WHERE id = ? FOR UPDATE OF members", False),
    ],
)
def test_which_statements_change_reference_data(statement: str, expected: bool) -> None:
    assert changes_reference(statement) is expected


def test_the_earn_paths_budget_statements_move_only_counters() -> None:
    """The statements that spend campaign budgets, as compiled for each database, are
    counter updates: they must not empty every process's reference cache."""
    from sqlalchemy.dialects import postgresql, sqlite

    from patronage.storage.rules_repository import _award_and_spend, _spend_statement

    spending = (_spend_statement(2, True), _spend_statement(1, False), _award_and_spend(2, 3))
    for statement in spending:
        for dialect in (postgresql.dialect(), sqlite.dialect()):
            assert not changes_reference(str(statement.compile(dialect=dialect)))


@pytest.fixture
def two_processes(db_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database stand for two server processes."""
    first, second = make_engine(db_url), make_engine(db_url)
    ensure_default_program(UnitOfWork(first))
    yield first, second
    first.dispose()
    second.dispose()


def _earn_rate(engine: Engine) -> Decimal:
    with UnitOfWork(engine) as uow:
        return uow.programs.get("default").earn_rate


def test_a_change_in_one_process_is_seen_by_the_other_at_once(
    two_processes: tuple[Engine, Engine],
) -> None:
    first, second = two_processes
    before = _earn_rate(first)
    assert _earn_rate(first) == before  # now served from the cache
    token = read_token(first)
    with UnitOfWork(second) as uow:
        uow.session.execute(update(ProgramRow).values(earn_rate=before * 3))
        uow.commit()
    assert read_token(first) != token
    assert _earn_rate(first) == before * 3


def test_a_rolled_back_change_is_never_seen(two_processes: tuple[Engine, Engine]) -> None:
    first, second = two_processes
    before = _earn_rate(first)
    with UnitOfWork(second) as uow:
        uow.session.execute(update(ProgramRow).values(earn_rate=before * 5))
        # the writing unit of work sees its own change, and caches nothing of it
        assert uow.programs.get("default").earn_rate == before * 5
    assert _earn_rate(first) == before
    assert _earn_rate(second) == before


def test_a_unit_of_work_sees_what_committed_before_it(
    two_processes: tuple[Engine, Engine],
) -> None:
    first, _ = two_processes
    with UnitOfWork(first) as uow:
        assert len(uow.programs.get("default").tiers) == 3
    with UnitOfWork(first) as uow:
        uow.session.execute(text("DELETE FROM tiers WHERE code = 'gold'"))
        uow.commit()
    with UnitOfWork(first) as uow:
        assert [t.code for t in uow.programs.get("default").tiers] == ["member", "silver"]


def test_budget_counters_do_not_flush_the_cache(two_processes: tuple[Engine, Engine]) -> None:
    first, _ = two_processes
    with UnitOfWork(first) as uow:
        program = uow.programs.get("default")
        uow.session.add(
            CampaignRow(
                program_id=program.id,
                code="c1",
                revision=1,
                name="c1",
                stacking="stack",
                priority=0,
                status="active",
                budget=100,
                spent=0,
                caps={},
                created_at=uow.clock(),
                updated_at=uow.clock(),
            )
        )
        uow.commit()
    token = read_token(first)
    with UnitOfWork(first) as uow:
        campaign_id = uow.session.scalar(select(CampaignRow.id))
        assert RulesRepository(uow.session).spend_budget(campaign_id or 0, 40) == 40
        uow.commit()
    assert read_token(first) == token


def test_a_revoked_key_is_refused_by_every_process_from_the_next_request(
    two_processes: tuple[Engine, Engine],
) -> None:
    first, second = two_processes
    key = create_api_key(UnitOfWork(first), "staff")
    assert authenticate(UnitOfWork(first, read_only=True), key).role == "staff"
    revoke_api_key(UnitOfWork(second), key.split("_")[1])
    with pytest.raises(Unauthorized):
        authenticate(UnitOfWork(first, read_only=True, reference_token=read_token(first)), key)


def test_an_emptied_database_caches_nothing(two_processes: tuple[Engine, Engine]) -> None:
    first, second = two_processes
    _earn_rate(first)
    with second.begin() as conn:
        conn.execute(update(TierRow).where(TierRow.code == "gold").values(name="Or"))
        conn.execute(text("DELETE FROM config_state"))  # as TRUNCATE or a bare restore would
    assert read_token(first) is None
    with UnitOfWork(first) as uow:
        assert uow.programs.get("default").tier("gold").name == "Or"
