from datetime import date

import pytest
from sqlalchemy import select

from portal import web
from portal.disclosure.models import Listing
from portal.extensions import db
from tests import factories as f


@pytest.fixture
def many_listings(ctx):
    seller = f.enterprise()
    for n in range(45):
        f.listing(seller, number=f"YNQ-GP-2025-{n:06d}", starts_on=date(2025, 1, 1))
    db.session.flush()


def test_exact_count_below_the_cap(many_listings):
    page = web.paginate(db.session, select(Listing).order_by(Listing.id), page=3, per_page=20)
    assert (page.total, page.pages, page.capped, len(page.items)) == (45, 3, False, 5)
    assert (page.first_index, page.last_index) == (41, 45)
    assert not page.has_next


def test_count_stops_at_the_cap_and_paging_goes_on(many_listings, monkeypatch):
    monkeypatch.setattr(web, "COUNT_CAP", 30)
    stmt = select(Listing).order_by(Listing.id)
    first = web.paginate(db.session, stmt, page=1, per_page=20)
    assert first.capped and first.total == 30
    second = web.paginate(db.session, stmt, page=2, per_page=20)
    assert second.has_next  # a full page past the cap: there may be more
    third = web.paginate(db.session, stmt, page=3, per_page=20)
    assert len(third.items) == 5 and not third.has_next


def test_page_past_the_end_is_404(many_listings):
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):
        web.paginate(db.session, select(Listing).order_by(Listing.id), page=4, per_page=20)
    with pytest.raises(NotFound):
        web.paginate(db.session, select(Listing).order_by(Listing.id), page=0, per_page=20)


def test_window_marks_gaps(ctx):
    page = web.Page(items=[1] * 20, page=10, per_page=20, total=400)
    assert page.window() == [1, None, 8, 9, 10, 11, 12, None, 20]
