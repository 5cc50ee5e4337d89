"""The public list pages send as many SQL statements for 20 rows as for 2: no query per row."""

from __future__ import annotations

import itertools
import re

import pytest

from portal.extensions import db
from tests import factories

DIVISIONS = ["410100", "410200", "410300", "410400", "410500"]
INDUSTRIES = ["chemical", "steel"]
_names = itertools.count(1)
# A listing's seller, a trade's buyer, an enterprise, a compliance record's unit, or an announcement.
MARK = re.compile(r"查询计数(?:企业|公告)\d+")


def _unit():
    n = next(_names)
    return factories.enterprise(
        f"查询计数企业{n}",
        DIVISIONS[n % len(DIVISIONS)],
        INDUSTRIES[n % len(INDUSTRIES)],
    )


def _listings(count: int) -> None:
    for _ in range(count):
        factories.listing(_unit())


def _trades(count: int) -> None:
    for _ in range(count):
        seller = factories.enterprise("卖方", "410100", uscc=None)
        factories.trade(_unit(), seller, factories.listing(seller))


def _enterprises(count: int) -> None:
    for _ in range(count):
        _unit()


def _compliance(count: int) -> None:
    from portal.compliance.models import CompliancePeriod

    if db.session.get(CompliancePeriod, 2024) is None:
        factories.period(2024)
    for n in range(count):
        factories.compliance(_unit(), 2024, status=["on_time", "late"][n % 2])


def _news(count: int) -> None:
    for _ in range(count):
        factories.announcement(title=f"查询计数公告{next(_names)}", division_code=None)


PAGES = {
    "/listings": _listings,
    "/trades": _trades,
    "/enterprises": _enterprises,
    "/compliance/2024": _compliance,
    "/news/": _news,
}


@pytest.fixture
def no_response_cache(app_config):
    """The pages' own queries: a response cache hit would make none."""
    app_config["CACHE_ENABLED"] = False


@pytest.mark.parametrize("path", PAGES)
def test_list_page_queries_do_not_grow_with_rows(
    no_response_cache, app, client, count_queries, path
):
    make = PAGES[path]

    def statements_with(rows: int) -> list[str]:
        with app.app_context():
            make(rows)
            db.session.commit()
        client.get(path)  # a first request may fill caches; count the second
        response = None

        def get():
            nonlocal response
            response = client.get(path)

        sent = count_queries(get)
        assert response.status_code == 200
        return sent

    few = statements_with(2)
    many = statements_with(18)  # 20 rows in all: one full page
    assert few and len(many) == len(few), "\n".join(many)
    html = client.get(path).get_data(as_text=True)
    assert len(set(MARK.findall(html))) == 20  # every row is on the page
