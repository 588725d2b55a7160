"""Writing many rows at once, inside the caller's transaction: ids are reserved first
(so rows can refer to each other before they are written), then the rows go in with
PostgreSQL's COPY or SQLite's executemany."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.orm import Session


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` new ids for ``table``, ascending. PostgreSQL takes them from the
    table's sequence; SQLite continues after the largest id (the unit of work holds
    the database's write lock from its first statement, so nobody else can)."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        )
        found = session.scalars(
            text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": sequence, "n": count}
        )
        return sorted(int(i) for i in found)
    start = int(session.scalar(select(func.max(table.c.id))) or 0)
    return list(range(start + 1, start + count + 1))


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c in as_json else row[c] for c in columns])
