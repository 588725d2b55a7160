"""Saved segments on both databases: from RFM on the hand-made data of
tests/segment_data.py, from CSV lists, refresh, delete and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import Engine
from tests.factories import Shop
from tests.segment_data import AS_OF, five_customers

from patronage.clock import FixedClock
from patronage.errors import Conflict, InvalidInput, NotFound
from patronage.services import segments
from patronage.services.privacy import erase_member, export_member
from patronage.services.segments import NewSegment


@pytest.fixture
def shop(engine: Engine, clock: FixedClock) -> Shop:
    shop = Shop(engine, clock)
    five_customers(shop)
    return shop


def _ids(shop: Shop) -> dict[str, int]:
    with shop.uow() as uow:
        program_id = uow.programs.get("default").id or 0
        return uow.segments.ids_by_external_id(program_id, ["a", "b", "c", "d", "e"])


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _members(shop: Shop, code: str) -> list[str]:
    text = segments.export_csv(shop.uow(), "default", code, False)
    return [r["external_id"] for r in _rows(text)]


def test_save_from_rfm_keeps_exactly_the_chosen_segments(shop: Shop) -> None:
    saved = segments.save_from_rfm(
        shop.uow(), NewSegment("champions_mar", "Champions in March"), ["champions"], AS_OF, "t"
    )
    assert (saved.source, saved.as_of, saved.member_count) == ("rfm", AS_OF, 2)
    assert saved.definition == {"rfm_segments": ["Champions"]}
    assert (saved.revenue_minor, saved.total_revenue_minor) == (90_000, 130_000)
    assert saved.revenue_share == pytest.approx(900 / 1300)
    assert _members(shop, "champions_mar") == ["a", "b"]
    segments.save_from_rfm(shop.uow(), NewSegment("slipping"), ["At risk", "LOST"], AS_OF, "t")
    assert _members(shop, "slipping") == ["d", "e"]


def test_export_carries_rfm_figures_and_names_only_when_asked(shop: Shop) -> None:
    segments.save_from_rfm(shop.uow(), NewSegment("risk"), ["At risk"], AS_OF, "t")
    ids = _ids(shop)
    plain = segments.export_csv(shop.uow(), "default", "risk", with_names=False)
    assert plain.splitlines() == [
        "member_id,external_id,rfm_segment,recency_days,frequency,monetary_minor,"
        "r_score,f_score,m_score",
        f"{ids['d']},d,At risk,200,2,20000,2,2,3",
    ]
    named = _rows(segments.export_csv(shop.uow(), "default", "risk", with_names=True))
    assert [(r["external_id"], r["name"]) for r in named] == [("d", "Customer D")]


def test_refresh_replaces_the_snapshot_and_leaves_out_erased_members(shop: Shop) -> None:
    segments.save_from_rfm(shop.uow(), NewSegment("champs"), ["Champions"], AS_OF, "t")
    erase_member(shop.uow(), _ids(shop)["b"], "t", "asked to be forgotten")
    refreshed = segments.refresh_segment(shop.uow(), "default", "champs", "t", as_of=AS_OF)
    assert refreshed.member_count == 1
    assert refreshed.revenue_minor == 50_000
    assert _members(shop, "champs") == ["a"]
    with shop.uow() as uow:
        assert uow.segments.count_members(refreshed.id) == 1


def test_a_list_of_external_ids_is_saved_and_refreshed_from_a_new_list(shop: Shop) -> None:
    saved = segments.save_from_list(
        shop.uow(), NewSegment("vip", description="hand-picked"), "external_id\nc\ne\nc\n", "t"
    )
    assert (saved.source, saved.member_count, saved.revenue_share) == ("list", 2, None)
    assert saved.as_of == shop.clock().date()
    assert _members(shop, "vip") == ["c", "e"]
    assert segments.export_csv(shop.uow(), "default", "vip", False).splitlines()[0] == (
        "member_id,external_id"
    )
    segments.refresh_segment(shop.uow(), "default", "vip", "t", csv_text="external_id\na\n")
    assert _members(shop, "vip") == ["a"]


def test_a_list_by_member_id(shop: Shop) -> None:
    ids = _ids(shop)
    text = f"member_id,note\n{ids['b']},x\n{ids['d']},y\n"
    assert segments.save_from_list(shop.uow(), NewSegment("by-id"), text, "t").member_count == 2
    assert _members(shop, "by-id") == ["b", "d"]


def test_a_bad_row_saves_nothing_and_is_named(shop: Shop) -> None:
    with pytest.raises(InvalidInput) as caught:
        segments.save_from_list(
            shop.uow(), NewSegment("vip"), "external_id\na\nnobody\nb\n\nghost\n", "t"
        )
    assert "row 3: unknown external_id 'nobody'" in caught.value.message
    assert "row 6: unknown external_id 'ghost'" in caught.value.message
    assert caught.value.details["row"] == 3
    with pytest.raises(InvalidInput, match="row 2: member_id 'x1' is not a member id"):
        segments.save_from_list(shop.uow(), NewSegment("vip"), "member_id\nx1\n", "t")
    with pytest.raises(InvalidInput, match="external_id or member_id column"):
        segments.save_from_list(shop.uow(), NewSegment("vip"), "id\na\n", "t")
    assert segments.list_segments(shop.uow(), "default") == []


def test_a_bad_refresh_keeps_the_old_snapshot(shop: Shop) -> None:
    segments.save_from_list(shop.uow(), NewSegment("vip"), "external_id\na\nb\n", "t")
    with pytest.raises(InvalidInput, match="row 3: unknown external_id 'zz'"):
        segments.refresh_segment(shop.uow(), "default", "vip", "t", csv_text="external_id\nc\nzz\n")
    with pytest.raises(InvalidInput, match="new CSV list"):
        segments.refresh_segment(shop.uow(), "default", "vip", "t")
    assert _members(shop, "vip") == ["a", "b"]


def test_bad_definitions_are_refused(shop: Shop) -> None:
    with pytest.raises(InvalidInput, match="unknown RFM segment 'Royalty'"):
        segments.save_from_rfm(shop.uow(), NewSegment("x"), ["Royalty"], AS_OF, "t")
    with pytest.raises(InvalidInput, match="at least one RFM segment"):
        segments.save_from_rfm(shop.uow(), NewSegment("x"), [], AS_OF, "t")
    with pytest.raises(InvalidInput, match="segment code 'two words'"):
        segments.save_from_rfm(shop.uow(), NewSegment("two words"), ["Lost"], AS_OF, "t")
    with pytest.raises(InvalidInput, match="no purchases on or before 2020-01-01"):
        segments.save_from_rfm(shop.uow(), NewSegment("x"), ["Lost"], date(2020, 1, 1), "t")
    assert segments.list_segments(shop.uow(), "default") == []


def test_codes_are_unique_per_program_and_delete_removes_all(shop: Shop) -> None:
    segments.save_from_list(shop.uow(), NewSegment("vip"), "external_id\na\n", "t")
    with pytest.raises(Conflict):
        segments.save_from_list(shop.uow(), NewSegment("vip"), "external_id\nb\n", "t")
    with pytest.raises(Conflict):
        segments.save_from_rfm(shop.uow(), NewSegment("vip"), ["Lost"], AS_OF, "t")
    saved = segments.get_segment(shop.uow(), "default", "vip")
    segments.delete_segment(shop.uow(), "default", "vip", "t")
    with pytest.raises(NotFound):
        segments.get_segment(shop.uow(), "default", "vip")
    with shop.uow() as uow:
        assert uow.segments.count_members(saved.id) == 0
        assert [a.action for a in uow.audit.list("segment", None, 10)] == [
            "segment_deleted",
            "segment_saved",
        ]


def test_a_members_personal_data_export_lists_their_segments(shop: Shop) -> None:
    segments.save_from_rfm(shop.uow(), NewSegment("risk"), ["At risk"], AS_OF, "t")
    exported = export_member(shop.uow(), _ids(shop)["d"])
    assert [(s["rfm_segment"], s["monetary_minor"]) for s in exported["segments"]] == [
        ("At risk", 20_000)
    ]
    assert export_member(shop.uow(), _ids(shop)["a"])["segments"] == []


def test_names_that_look_like_formulas_are_defused(shop: Shop) -> None:
    shop.member("f", name="=HYPERLINK(1)")
    segments.save_from_list(shop.uow(), NewSegment("odd"), "external_id\nf\n", "t")
    rows = _rows(segments.export_csv(shop.uow(), "default", "odd", with_names=True))
    assert rows[0]["name"] == "'=HYPERLINK(1)"
