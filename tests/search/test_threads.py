"""Searches from several threads of one process (gunicorn's threaded workers) read the shared
view one at a time, and each gets what it would get alone."""

from __future__ import annotations

import threading

import pytest

from portal.search.services import reindex_all, search

QUERIES = ["郑州", "钢铁", "用能权", "节能", "交易", "郑州 钢铁", "通知", "科技"]


@pytest.fixture
def indexed(app, make):
    with app.app_context():
        for i in range(40):
            make.enterprise(name=f"示例郑州第{i}节能科技有限公司", uscc=f"91410100MA9F{i:04d}0A")
            make.listing(seller_name=f"示例郑州钢铁第{i}有限公司")
            make.announcement(title=f"关于开展用能权交易第{i}批的通知")
        reindex_all(progress=lambda _m: None)
    return app


def _answer(app, query: str) -> tuple:
    with app.test_request_context():
        results = search(query, per_page=50)
        return results.total, [
            (hit.kind, hit.record, str(hit.title), str(hit.snippet)) for hit in results.hits
        ]


def test_threads_searching_at_once_get_what_each_gets_alone(indexed):
    expected = {query: _answer(indexed, query) for query in QUERIES}
    assert all(total for total, _hits in expected.values()), {
        q: t for q, (t, _h) in expected.items()
    }
    failures: list = []
    start = threading.Barrier(8)

    def keep_searching(offset: int) -> None:
        start.wait()
        try:
            for round_ in range(12):
                query = QUERIES[(offset + round_) % len(QUERIES)]
                got = _answer(indexed, query)
                if got != expected[query]:
                    failures.append((query, got[0], expected[query][0]))
        except Exception as error:  # noqa: BLE001 — any error is a failed search
            failures.append(repr(error))

    threads = [threading.Thread(target=keep_searching, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
