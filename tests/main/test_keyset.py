"""Keyset pagination (portal/keyset.py through web.paginate): every row once, in the order of the
numbered pages, whatever the directions and NULLs of the sort."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from portal import keyset, web
from portal.compliance.models import ComplianceRecord
from portal.compliance.services import COMPLIANCE_SORTS, compliance_query
from portal.disclosure.models import Listing
from portal.extensions import db
from tests import factories as f


def walk(statement, per_page: int, backwards_from_end: bool = False) -> list:
    """Every row, page after page by cursor; or from the last page back by `before` cursors."""
    page = web.paginate(db.session, statement, page=1, per_page=per_page, keyset=True)
    rows = list(page.items)
    while page.has_next:
        page = web.paginate(
            db.session, statement, per_page=per_page, keyset=True, after=page.next_cursor
        )
        rows += page.items
    if not backwards_from_end:
        return rows
    back = list(page.items)
    while page.has_prev:
        page = web.paginate(
            db.session, statement, per_page=per_page, keyset=True, before=page.prev_cursor
        )
        back = page.items + back
    return back


@pytest.fixture
def records(ctx):
    """Compliance rows with ties and NULL shortfalls: the hardest sort the lists have."""
    f.period(2024)
    for n in range(12):
        unit = f.enterprise(f"示例单位{n % 4}", "410100", "steel")
        f.compliance(
            unit,
            2024,
            "non_compliant" if n % 3 else "on_time",
            shortfall=Decimal(n % 5) if n % 3 else None,
        )
        f.compliance(unit, 2024, "not_reported", variety_code="coal", actual=None)
    db.session.flush()


@pytest.mark.parametrize("sort", sorted(COMPLIANCE_SORTS))
def test_cursors_give_every_row_once_in_order(records, sort):
    statement, _count = compliance_query(2024, {"sort": sort})
    everything = list(db.session.scalars(keyset.ordered(statement, keyset.sort_keys(statement))))
    assert len(everything) == 24
    for per_page in (1, 5, 7, 24, 50):
        assert walk(statement, per_page) == everything, per_page
        assert walk(statement, per_page, backwards_from_end=True) == everything, per_page


def test_nulls_go_last_on_every_database(records):
    statement, _count = compliance_query(2024, {"sort": "-shortfall"})
    rows = walk(statement, 5)
    shortfalls = [r.shortfall for r in rows]
    first_null = shortfalls.index(None)
    assert all(s is None for s in shortfalls[first_null:])
    assert shortfalls[:first_null] == sorted(shortfalls[:first_null], reverse=True)


def test_an_order_without_a_unique_last_column_is_refused(ctx):
    with pytest.raises(ValueError, match="primary key"):
        keyset.sort_keys(select(Listing).order_by(Listing.starts_on.desc()))
    with pytest.raises(ValueError, match="primary key"):
        keyset.sort_keys(select(Listing))


def test_a_nullable_column_without_placement_leaves_its_null_rows_out(ctx):
    keys = keyset.sort_keys(
        select(ComplianceRecord).order_by(ComplianceRecord.shortfall, ComplianceRecord.id)
    )
    assert keys[0].skip_nulls
    compiled = str(keyset.ordered(select(ComplianceRecord), keys))
    assert "shortfall IS NOT NULL" in compiled


def test_cursors_are_typed_and_bound_to_their_sort(ctx):
    by_date = keyset.sort_keys(
        select(Listing).order_by(Listing.starts_on.desc(), Listing.id.desc())
    )
    by_price = keyset.sort_keys(select(Listing).order_by(Listing.listed_price, Listing.id))
    cursor = keyset.encode_cursor(by_date, (date(2025, 3, 1), 7))
    assert keyset.decode_cursor(by_date, cursor) == (date(2025, 3, 1), 7)
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode_cursor(by_price, cursor)
    price = keyset.encode_cursor(by_price, (Decimal("320.50"), 3))
    assert keyset.decode_cursor(by_price, price) == (Decimal("320.50"), 3)
    forged = keyset.encode_cursor(by_price, ("NaN", 3))
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode_cursor(by_price, forged)
    for bad in ("", "!!", "e30", "A" * 601, keyset.encode_cursor(by_date, (None, 1))):
        with pytest.raises(keyset.InvalidCursor):
            keyset.decode_cursor(by_date, bad)


def test_a_bad_cursor_is_a_404_and_a_page_past_the_count_too(ctx, monkeypatch):
    seller = f.enterprise()
    for n in range(6):
        f.listing(seller, number=f"YNQ-GP-2025-{n:06d}", starts_on=date(2025, 1, 1))
    db.session.flush()
    statement = select(Listing).order_by(Listing.starts_on.desc(), Listing.id.desc())
    with pytest.raises(NotFound):
        web.paginate(db.session, statement, per_page=2, keyset=True, after="not-a-cursor")
    monkeypatch.setattr(web, "COUNT_CAP", 3)
    page = web.paginate(db.session, statement, page=2, per_page=2, keyset=True)
    assert page.capped and page.has_next and page.next_args()["after"] == page.next_cursor
    with pytest.raises(NotFound):
        web.paginate(db.session, statement, page=3, per_page=2, keyset=True)
