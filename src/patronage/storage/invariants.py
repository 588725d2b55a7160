"""The SQL behind `patronage check`: each query returns the rows that break an invariant."""

from __future__ import annotations

from sqlalchemy import Engine, text

# name -> (what must hold, query returning offending rows as (subject, detail))
CHECKS: dict[str, tuple[str, str]] = {
    "balance_equals_entries": (
        "for every member, the sum of ledger entries equals lots remaining minus debt",
        """
        SELECT m.id, COALESCE(e.total, 0) - (COALESCE(l.remaining, 0) - m.debt)
        FROM members m
        LEFT JOIN (SELECT member_id, SUM(points) AS total FROM ledger_entries GROUP BY member_id) e
               ON e.member_id = m.id
        LEFT JOIN (SELECT member_id, SUM(remaining) AS remaining FROM lots GROUP BY member_id) l
               ON l.member_id = m.id
        WHERE COALESCE(e.total, 0) <> COALESCE(l.remaining, 0) - m.debt
        """,
    ),
    "lot_remaining_equals_allocations": (
        "every lot's remaining equals the sum of its allocations, between 0 and its points",
        """
        SELECT l.id, l.remaining - COALESCE(a.total, 0)
        FROM lots l
        LEFT JOIN (SELECT lot_id, SUM(points) AS total FROM allocations GROUP BY lot_id) a
               ON a.lot_id = l.id
        WHERE l.remaining <> COALESCE(a.total, 0) OR l.remaining < 0 OR l.remaining > l.points
        """,
    ),
    "allocation_same_member": (
        "an entry only moves points of its own member's lots",
        """
        SELECT a.id, e.member_id FROM allocations a
        JOIN ledger_entries e ON e.id = a.entry_id
        JOIN lots l ON l.id = a.lot_id
        WHERE e.member_id <> l.member_id
        """,
    ),
    "spending_entries_match_lots": (
        "redeem, expire and transfer entries equal the points they drew from lots",
        """
        SELECT e.id, e.points - COALESCE(SUM(a.points), 0)
        FROM ledger_entries e LEFT JOIN allocations a ON a.entry_id = e.id
        WHERE e.kind IN ('redeem', 'expire', 'transfer_out')
        GROUP BY e.id, e.points
        HAVING e.points <> COALESCE(SUM(a.points), 0)
        """,
    ),
    "entry_signs": (
        "earn and transfer_in add points; redeem, expire, reverse, transfer_out take",
        """
        SELECT id, points FROM ledger_entries
        WHERE (kind IN ('earn', 'transfer_in') AND points <= 0)
           OR (kind IN ('redeem', 'expire', 'reverse', 'transfer_out') AND points >= 0)
           OR kind NOT IN ('earn', 'redeem', 'expire', 'adjust', 'reverse',
                           'transfer_in', 'transfer_out')
        """,
    ),
    "debt_not_negative": (
        "no member has negative debt",
        "SELECT id, debt FROM members WHERE debt < 0",
    ),
    "orders_within_bounds": (
        "refunds never exceed the order, reversals never exceed what it earned",
        """
        SELECT id, refunded_minor FROM orders
        WHERE refunded_minor > amount_minor OR points_reversed > points_earned
           OR refunded_minor < 0 OR points_reversed < 0
        """,
    ),
    "tier_history_continuous": (
        "each member's tier history has no gaps or overlaps and ends in one open period",
        """
        SELECT member_id, id FROM (
            SELECT id, member_id, valid_to,
                   LEAD(valid_from) OVER (PARTITION BY member_id ORDER BY valid_from, id)
                       AS next_from
            FROM tier_history
        ) h
        WHERE (next_from IS NULL AND valid_to IS NOT NULL)
           OR (next_from IS NOT NULL AND (valid_to IS NULL OR valid_to <> next_from))
        """,
    ),
    "tier_matches_history": (
        "a member's current tier is the tier of their open history period",
        """
        SELECT m.id, m.tier_id FROM members m
        LEFT JOIN tier_history h ON h.member_id = m.id AND h.valid_to IS NULL
        WHERE h.tier_id IS NULL OR h.tier_id <> m.tier_id
        """,
    ),
}


def find_violations(engine: Engine, limit: int = 20) -> dict[str, list[tuple[object, object]]]:
    """Run every check; maps the check's name to up to ``limit`` offending rows."""
    found: dict[str, list[tuple[object, object]]] = {}
    with engine.connect() as conn:
        for name, (_, query) in CHECKS.items():
            rows = conn.execute(text(query)).fetchmany(limit)
            if rows:
                found[name] = [(r[0], r[1]) for r in rows]
    return found
