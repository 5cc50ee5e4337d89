"""The engine's memory bounds: the byte-counted cache, dates kept as one order instead of a bitset
per day, a rebuild written as several segments, and the warm-up a new worker runs."""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta

import pytest

from portal.search import engine, reindex_all, search, services
from portal.search.services import get_store
from portal.search.store import make_schema


def test_byte_lru_counts_bytes_and_drops_the_least_recent():
    big = (1 << 80_000) - 1  # about 10 KB
    size = sys.getsizeof(big)
    cache = engine.ByteLRU(3 * size)
    for n in range(3):
        cache.fetch(n, lambda n=n: big + n)
    assert len(cache) == 3 and cache.bytes <= 3 * size
    cache.fetch(0, lambda: pytest.fail("0 is cached"))  # 0 becomes the most recent
    cache.fetch(3, lambda: big + 3)
    assert set(cache.data) == {0, 2, 3}
    assert cache.bytes <= cache.limit
    # A value larger than the whole budget is returned, never kept.
    huge = 1 << 400_000
    assert cache.fetch("huge", lambda: huge) == huge and "huge" not in cache.data
    cache.resize(size)
    assert len(cache) == 1 and cache.bytes <= size
    cache.discard(lambda key: True)
    assert len(cache) == 0 and cache.bytes == 0


@pytest.fixture
def segmented(tmp_path):
    """A Whoosh index of three segments with deletions; each document's date is known."""
    from whoosh import index

    rng = random.Random(5)
    ix = index.create_in(str(tmp_path), make_schema())
    start = date(2021, 11, 1)
    keys = []
    for segment in range(3):
        writer = ix.writer()
        for n in range(400):
            key = f"listing:{segment}-{n}"
            undated = rng.random() < 0.05
            day = "" if undated else (start + timedelta(days=rng.randrange(900))).isoformat()
            writer.add_document(
                key=key,
                kind=rng.choice(["listing", "trade"]),
                title=f"示例 {n}",
                body="用能权" if rng.random() < 0.5 else "煤炭",
                year=day[:4],
                date=day,
            )
            keys.append(key)
        writer.commit(merge=False)
    writer = ix.writer()
    for key in rng.sample(keys, 60):
        writer.delete_by_term("key", key)
    writer.commit(merge=False)
    engine.clear_caches()
    yield ix
    engine.clear_caches()


def _expected(view, tier: int) -> list[int]:
    dated, undated = [], []
    for docnum in engine.bits_to_ids(tier):
        day = view.stored(docnum)["date"]
        (dated if day else undated).append((day, docnum))
    dated.sort(reverse=True)
    undated.sort(reverse=True)
    return [d for _day, d in dated] + [d for _day, d in undated]


def test_paging_by_date_matches_a_full_sort_across_segments_and_deletions(segmented):
    view = engine.view_for(segmented)
    assert len(view.leaves) == 3 and not view.simple
    rng = random.Random(9)
    sparse = 0
    for docnum in engine.bits_to_ids(view.live):
        if rng.random() < 0.04:
            sparse |= 1 << docnum
    body = view.term("body", "用能权")
    for tier in (view.live, body, sparse):
        expected = _expected(view, tier)
        assert len(expected) == tier.bit_count()
        for skip, limit in ((0, 20), (13, 7), (180, 20), (len(expected) - 5, 20), (0, 2000)):
            got = engine._page_by_date(view, [tier], skip, limit)
            assert got == expected[skip : skip + limit], (skip, limit)
    # Two tiers: the second starts after every document of the first.
    first = body & sparse
    assert engine._page_by_date(view, [first, body & ~first], 0, 2000) == _expected(
        view, first
    ) + _expected(view, body & ~first)


@pytest.mark.parametrize("few", [0, 4096])
def test_both_ways_of_finding_a_years_first_documents_agree(segmented, monkeypatch, few):
    monkeypatch.setattr(engine, "FEW_BY_RANK", few)
    view = engine.view_for(segmented)
    for span in view.years:
        within = view.live & view.dated_in_year[span[0]]
        count = within.bit_count()
        by_rank = sorted(engine.bits_to_ids(within), key=view.rank.__getitem__)
        for want in (1, 20, count):
            assert view.first_by_date(within, count, span, want) == by_rank[:want]
            lone = 1 << by_rank[-1]
            assert view.first_by_date(lone, 1, span, want) == by_rank[-1:]


def test_postings_are_read_block_by_block_as_whoosh_reads_them(segmented):
    view = engine.view_for(segmented)
    checked = 0
    for leaf, _offset in view.leaves:
        assert leaf.segment().has_deletions()
        for fieldname in ("title", "body", "kind", "date"):
            for raw in leaf.lexicon(fieldname):
                text = raw.decode("utf-8")
                ours = engine.postings_array(leaf, fieldname, text).tolist()
                # Whoosh's own reading, deleted documents included.
                tbytes = leaf._text_to_bytes(fieldname, text)
                matcher = leaf._terms.matcher(fieldname, tbytes, leaf.schema[fieldname].format)
                theirs = list(matcher.all_ids())
                assert ours == theirs, (fieldname, text)
                count = leaf.doc_count_all()
                assert engine.array_to_bits(
                    engine.postings_array(leaf, fieldname, text), count
                ) == engine.ids_to_bits(theirs, count)
                checked += 1
    assert checked > 500
    assert engine.postings_array(view.leaves[0][0], "title", "没有这个词").tolist() == []


def test_dates_are_kept_as_one_order_not_a_bitset_per_day(segmented):
    view = engine.view_for(segmented)
    days = {view.stored(d)["date"] for d in engine.bits_to_ids(view.live)} - {""}
    assert len(days) > 300
    assert len(view.order) < view.size and len(view.rank) == view.size
    assert view.order.itemsize == 4
    # The per-segment tables hold each document once, as a 4-byte number.
    held = sum(len(ids) for t in engine._segments.values() for _day, ids in t.days)
    assert held == len(view.order)


def test_cache_stays_within_its_byte_budget(segmented):
    engine.configure(40_000)
    try:
        view = engine.view_for(segmented)
        for word in ("示例", "用能权", "煤炭", *(str(n) for n in range(200))):
            view.term("title", word)
            view.term("body", word)
        stats = engine.cache_stats()
        assert 0 < stats["bytes"] <= 40_000 and stats["limit"] == 40_000
    finally:
        engine.configure(engine.CACHE_BYTES)


def test_preload_stops_at_its_budget(segmented):
    view = engine.view_for(segmented)
    engine._cache.clear()
    assert view.preload(["示例", "用能权", "煤炭"]) == 6
    size = engine._cache.bytes
    engine._cache.clear()
    assert view.preload(["示例", "用能权", "煤炭"], budget=size // 2) < 6


def test_a_new_generation_drops_the_old_views_entries(segmented):
    view = engine.view_for(segmented)
    view.cached("phrase", ("title", "示例"), lambda: 1 << 5000)
    assert any(k[0] == "phrase" for k in engine._cache.data)
    writer = segmented.writer()
    writer.add_document(key="listing:new", kind="listing", title="新", date="2026-01-01")
    writer.commit(merge=False)
    newer = engine.view_for(segmented)
    assert newer is not view and len(newer.leaves) == 4
    assert not any(k[0] == "phrase" and k[1] == view.token for k in engine._cache.data)
    assert newer.order[0] == newer.size - 1  # 2026-01-01 is the latest date


@pytest.fixture
def many(app, make):
    with app.test_request_context():
        for n in range(40):
            make.listing(
                seller_name=f"示例郑州钢铁有限公司{n}",
                starts_on=date(2022, 1, 1) + timedelta(days=17 * n),
            )
        make.announcement(title="关于用能权交易的通知")
    return app


def _all_hits(app):
    with app.test_request_context():
        found = search("郑州", sort="date", per_page=100, app=app)
        return [(h.kind, h.record, h.date) for h in found.hits], found.facets


def _leaves(app) -> int:
    with get_store(app).open_index().reader() as reader:
        return len(list(reader.leaf_readers()))


def test_rebuild_writes_a_segment_whenever_the_buffer_is_nearly_full(many, monkeypatch):
    with many.test_request_context():
        reindex_all(progress=lambda _m: None, app=many)
    assert _leaves(many) == 1
    one_segment = _all_hits(many)
    assert len(one_segment[0]) == 40
    # A buffer of 1 MB, written at 1% of it: a segment every few documents.
    many.config["SEARCH_REBUILD_LIMITMB"] = 1
    monkeypatch.setattr(services, "BUFFER_SHARE", 0.01)
    messages = []
    with many.test_request_context():
        assert reindex_all(progress=messages.append, app=many) == 41
    assert _leaves(many) > 3
    assert any("段" in m for m in messages)
    assert _all_hits(many) == one_segment


def test_warm_builds_the_view_a_first_search_then_uses(many):
    with many.test_request_context():
        reindex_all(progress=lambda _m: None, app=many)
    engine.clear_caches()
    done = services.warm(many)
    assert set(done) == {"view_ms", "words", "words_ms", "page_status", "total_ms"}
    assert done["page_status"] == 200
    # The domain words and division names were read into the cache, in title and body.
    assert done["words"] >= 2 * 37
    assert any(k[0] == "seg" and k[2:] == ("body", "用能权") for k in engine._cache.data)
    ix = get_store(many).open_index()
    with engine._views_lock:
        warmed = dict(engine._views)
    assert engine.view_for(ix) is warmed[(ix.storage.folder, ix.latest_generation())]


def test_views_are_kept_for_a_few_index_folders_only(tmp_path, monkeypatch):
    from whoosh import index

    monkeypatch.setattr(engine, "MAX_FOLDERS", 2)
    engine.clear_caches()
    views = []
    for n in range(4):
        folder = tmp_path / str(n)
        folder.mkdir()
        ix = index.create_in(str(folder), make_schema())
        writer = ix.writer()
        writer.add_document(key=f"listing:{n}", kind="listing", title="示例", date="2024-01-01")
        writer.commit()
        views.append(engine.view_for(ix))
    assert len(engine._views) == 2
    assert views[0].searcher.is_closed and not views[3].searcher.is_closed
    engine.clear_caches()
