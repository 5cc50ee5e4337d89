"""Near misses: sound-alike characters and parts of a number find what was meant."""

from __future__ import annotations

import pytest

from portal.search import nearby
from portal.search.services import reindex_all, search, suggest


@pytest.fixture
def indexed(app, make):
    with app.app_context():
        make.announcement(title="关于开展用能权交易的通知")
        make.enterprise(name="示例郑州节能科技有限公司")
        make.listing(number="YNQ-GP-2024-000731")
        make.listing(number="YNQ-GP-2024-000732")
        make.listing(number="YNQ-GP-2023-018842")
        reindex_all(progress=lambda _m: None)
    return app


def test_syllables_drop_the_tone():
    assert nearby.sound_of("用能劝") == nearby.sound_of("用能权") == "yong neng quan"
    assert nearby.sound_of("郑洲") == nearby.sound_of("郑州")
    assert nearby.syllable("A") == "A"


@pytest.mark.parametrize(("typed", "meant"), [("用能劝", "用能权"), ("郑洲", "郑州")])
def test_a_sound_alike_query_finds_what_was_meant(indexed, typed, meant):
    with indexed.test_request_context():
        assert search(meant).total
        results = search(typed)
        assert results.corrected == meant
        assert results.total == search(meant).total
        assert suggest(typed)


def test_the_page_says_which_query_it_searched(client, indexed):
    page = client.get("/search", query_string={"q": "郑洲"}).get_data(as_text=True)
    assert "没有找到“郑洲”，以下是“郑州”的结果。" in page
    client.set_cookie("lang", "en")
    page = client.get("/search", query_string={"q": "郑洲"}).get_data(as_text=True)
    assert "郑州" in page and "没有找到" not in page


def test_a_query_that_finds_something_is_left_alone(indexed):
    with indexed.test_request_context():
        assert search("郑州").corrected is None
        assert search("火星").corrected is None and search("火星").total == 0


def test_the_tail_of_a_number_opens_its_record(client, indexed):
    with indexed.test_request_context():
        found = search("2023-018842")
        assert found.redirect is not None and found.redirect.record == "YNQ-GP-2023-018842"
        several = search("2024-00073")
        assert several.numbers and {h.record for h in several.hits} == {
            "YNQ-GP-2024-000731",
            "YNQ-GP-2024-000732",
        }
        assert search("000731").redirect.record == "YNQ-GP-2024-000731"
        assert suggest("018842")[0].record == "YNQ-GP-2023-018842"
    response = client.get("/search", query_string={"q": "018842"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/listings/YNQ-GP-2023-018842")


def test_a_short_or_unknown_fragment_finds_no_number(indexed):
    with indexed.test_request_context():
        assert nearby.numbers_containing("731") == []
        assert nearby.numbers_containing("GP-%") == []
        assert search("999999").total == 0
