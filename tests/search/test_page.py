"""The search page: full page and fragment, exact codes, bad queries, rebuild and recovery."""

from __future__ import annotations

import threading

import pytest

from portal.search import reindex_all, search
from portal.search.services import get_store


@pytest.fixture
def indexed(app, make):
    with app.test_request_context():
        make.enterprise(name="示例郑州节能科技有限公司", uscc="91410100MA9FXXXX0A")
        make.listing(seller_name="示例郑州钢铁有限公司", number="GP-2024-00077")
        make.announcement(title="关于<script>alert(1)</script>用能权的通知")
        reindex_all(progress=lambda _m: None)
    return app


def test_full_page_and_fragment(client, indexed):
    full = client.get("/search?q=郑州")
    assert full.status_code == 200
    html = full.get_data(as_text=True)
    assert "<html" in html and 'id="results"' in html
    assert "<mark>郑州</mark>" in html
    assert "HX-Request" in full.headers["Vary"]
    fragment = client.get("/search?q=郑州", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "<mark>郑州</mark>" in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_facets_filter_and_keep_the_query(client, indexed):
    html = client.get("/search?q=郑州").get_data(as_text=True)
    assert "type=listing" in html and "q=" in html
    only = client.get("/search?q=郑州&type=listing").get_data(as_text=True)
    assert "GP-2024-00077" in only and "节能科技" not in only


def test_highlighting_cannot_inject_html(client, indexed):
    html = client.get("/search?q=用能权").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "code", ["GP-2024-00077", "gp-2024-00077", "９１４１０１００ＭＡ９ＦＸＸＸＸ０Ａ"]
)
def test_exact_code_goes_straight_to_the_record(app, client, indexed, code):
    response = client.get("/search", query_string={"q": code})
    if "disclosure.listing_detail" in app.view_functions:
        assert response.status_code == 303
    else:
        assert response.status_code == 200
    with app.test_request_context():
        assert search(code).redirect is not None


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "请输入要搜索的内容"),
        ("煤", "只输入了一个字"),
        ("？？！！", "只有标点"),
        ("用能权" * 100, "只使用了前 200 个字符"),
        ('"用能权 (郑州', "没有成对"),
        ("地区:火星 用能权", "无法识别"),
    ],
)
def test_bad_queries_get_a_helpful_answer(client, indexed, q, message):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_bad_page_number_is_400_not_500(client, indexed):
    assert client.get("/search?q=郑州&page=abc").status_code == 400
    assert client.get("/search?q=郑州&page=0").status_code == 400


def test_suggestions_fragment_and_full_page(client, indexed):
    fragment = client.get("/search/suggest?q=郑州", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'role="option"' in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    full = client.get("/search/suggest?q=郑州")
    assert "<html" in full.get_data(as_text=True) and "/search?q=" in full.get_data(as_text=True)


def test_reindex_swaps_while_search_keeps_answering(app, indexed):
    with app.test_request_context():
        store = get_store(app)
        before = store.generation()
        answers = []

        def keep_searching():
            with app.test_request_context():
                for _ in range(30):
                    answers.append(search("郑州").total)

        thread = threading.Thread(target=keep_searching)
        thread.start()
        reindex_all(progress=lambda _m: None)
        thread.join()
        assert store.generation() != before
        assert answers and all(total == 2 for total in answers)
        assert search("郑州").total == 2


def test_corrupt_index_is_rebuilt_not_a_500(app, client, indexed):
    store = get_store(app)
    folder = store.root / store.generation()
    for path in folder.iterdir():
        if path.suffix in (".toc", ".seg", ".trm", ".pst"):
            path.write_bytes(b"garbage")
    store.forget()
    from portal.search import engine

    engine.clear_caches()
    response = client.get("/search?q=郑州")
    assert response.status_code == 200
    assert "<mark>郑州</mark>" in response.get_data(as_text=True)


def test_missing_index_background_rebuild_says_so(app, client, indexed):
    import shutil

    from portal.search.services import wait_for_rebuild

    app.config["SEARCH_REBUILD"] = "background"
    store = get_store(app)
    shutil.rmtree(store.root)
    store.forget()
    response = client.get("/search?q=郑州")
    assert response.status_code == 200
    wait_for_rebuild(app)
    assert "<mark>郑州</mark>" in client.get("/search?q=郑州").get_data(as_text=True)


def test_facets_sidebar_and_closed_drawer_for_phones(client, indexed):
    html = client.get("/search?q=郑州&type=listing").get_data(as_text=True)
    # The phone drawer is a plain <details>: closed by default, opened without JavaScript.
    assert '<details class="facets-drawer">' in html
    assert "<summary>筛选结果" in html and "已选 1 项" in html
    assert '<aside class="facets facets-side"' in html
    assert html.count('aria-current="true">挂牌信息') == 2


def test_the_header_box_asks_for_suggestions(client, indexed):
    """Every page's search box asks /search/suggest as the visitor types, and gets a fragment."""
    page = client.get("/listings").get_data(as_text=True)
    assert 'hx-get="/search/suggest"' in page and 'hx-target="#site-suggest"' in page
    fragment = client.get("/search/suggest?q=郑州", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
