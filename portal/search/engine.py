"""Answering a query: parse, match with bitsets, count facets, rank, page, highlight.

Whoosh keeps the postings; this module turns each term's postings into a Python int used as a
bitset (bit n = document n), cached per index segment. A query is then a few big-int ANDs/ORs,
facet counts are popcounts, and the top page is found by walking the newest days first, so a term
that matches every document costs no more than a rare one. Ranking is in tiers: an exact code
first, then records whose title holds every word, then the rest; newest first within a tier
(docs/search.md explains why and what each step bought).
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup, escape
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.qparser import AndGroup, MultifieldParser, PlusMinusPlugin, syntax
from whoosh.qparser.plugins import (
    BoostPlugin,
    EveryPlugin,
    RangePlugin,
    SingleQuotePlugin,
    WildcardPlugin,
)

from portal.search.analysis import fold, normalize_code, query_words

MAX_QUERY = 200
# The fields a plain word is looked up in; names_en holds the English reference names.
SEARCHED = ("title", "body", "names_en")
FACETS = ("kind", "division", "variety", "year")
# Field filters a visitor may type: "type:成交 地区:郑州 year:2023".
FILTER_ALIASES = {
    "type": "kind",
    "类型": "kind",
    "kind": "kind",
    "division": "division",
    "地区": "division",
    "city": "division",
    "variety": "variety",
    "品种": "variety",
    "year": "year",
    "年份": "year",
    "年度": "year",
}
KIND_WORDS = {
    "listing": "listing",
    "挂牌": "listing",
    "trade": "trade",
    "成交": "trade",
    "交易": "trade",
    "compliance": "compliance",
    "履约": "compliance",
    "enterprise": "enterprise",
    "企业": "enterprise",
    "announcement": "announcement",
    "公告": "announcement",
    "news": "announcement",
}
_FILTER_RE = re.compile(r"(?:(?<=\s)|^)([A-Za-z\u4e00-\u9fff]{1,10})[:：](\S+)")
_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "＂": '"'})
_CODE_RE = re.compile(r"^[0-9A-Z][0-9A-Z\-]{5,31}$")
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
PHRASE_VERIFY_LIMIT = 20000
# Up to this many documents of a year are sorted by rank; more are found by walking the order.
FEW_BY_RANK = 4096
# Bytes of bitsets and results the cache below may hold in one process (SEARCH_CACHE_BYTES).
CACHE_BYTES = 64 * 2**20


def _sizeof(value) -> int:
    if isinstance(value, int):
        return sys.getsizeof(value)
    if isinstance(value, Outcome):
        facets = sum(64 + 72 * len(values) for values in value.facets.values())
        return 256 + 36 * len(value.docnums) + facets
    return sys.getsizeof(value)


class ByteLRU:
    """A least-recently-used cache bounded by the bytes of its values (sys.getsizeof for ints)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.data)

    def fetch(self, key, make):
        with self.lock:
            found = self.data.get(key)
            if found is not None:
                self.data.move_to_end(key)
                return found[0]
        value = make()
        size = _sizeof(value)
        with self.lock:
            if key not in self.data and size <= self.limit:
                self.data[key] = (value, size)
                self.bytes += size
                self._trim()
        return value

    def _trim(self) -> None:
        while self.bytes > self.limit and self.data:
            _key, (_value, size) = self.data.popitem(last=False)
            self.bytes -= size

    def resize(self, limit: int) -> None:
        with self.lock:
            self.limit = limit
            self._trim()

    def discard(self, drop) -> None:
        """Remove every entry whose key `drop(key)` is true."""
        with self.lock:
            for key in [k for k in self.data if drop(k)]:
                self.bytes -= self.data.pop(key)[1]

    def clear(self) -> None:
        with self.lock:
            self.data.clear()
            self.bytes = 0


# One budget for every cached bitset and result of this process. Keys:
#   ("seg", segment id, field, text)       a term's postings in one segment (segments are
#                                          immutable; deletions go through the view's live mask)
#   ("phrase" | "result", view token, …)   per view, dropped with the view
_cache = ByteLRU(CACHE_BYTES)
# Facet and date tables per segment, kept while a view uses the segment (not in the LRU: every
# query needs them).
_segments: dict[str, SegmentTables] = {}
_views: dict[tuple, View] = {}
MAX_FOLDERS = 4
_views_lock = threading.Lock()
# A view's Whoosh readers seek and read file objects that every thread of the process shares: two
# threads reading at once read each other's bytes (seen under gunicorn's threaded workers as
# failed searches). So one thread at a time reads through the views, and a replaced view is
# closed only between readings. Reentrant: a search may build a view while it holds it.
read_lock = threading.RLock()
SETTINGS = {"result_cache": True, "term_cache": True}


def configure(cache_bytes: int) -> None:
    """Set the cache budget in bytes (the app's SEARCH_CACHE_BYTES)."""
    if cache_bytes != _cache.limit:
        _cache.resize(cache_bytes)


def cache_stats() -> dict:
    return {"entries": len(_cache), "bytes": _cache.bytes, "limit": _cache.limit}


def ids_to_bits(ids, size: int) -> int:
    buffer = bytearray((size >> 3) + 1)
    for docnum in ids:
        buffer[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(buffer, "little")


_BYTE_BITS = [tuple(j for j in range(8) if b >> j & 1) for b in range(256)]
_NONZERO = re.compile(rb"[^\x00]+")


def bits_to_ids(bits: int, reverse: bool = False) -> list[int]:
    if not bits:
        return []
    data = bits.to_bytes((bits.bit_length() + 7) >> 3, "little")
    out: list[int] = []
    # Runs of non-zero bytes are found in C: a sparse bitset costs its set bits, not its length.
    for run in _NONZERO.finditer(data):
        index = run.start()
        for byte in run.group():
            base = index << 3
            out.extend(base + j for j in _BYTE_BITS[byte])
            index += 1
    if reverse:
        out.reverse()
    return out


class BitFilter:
    """A set-like view of a bitset for Whoosh's `filter=`."""

    def __init__(self, bits: int, size: int) -> None:
        self.data = bits.to_bytes((size >> 3) + 1, "little")

    def __contains__(self, docnum: int) -> bool:
        return bool(self.data[docnum >> 3] >> (docnum & 7) & 1)

    def __bool__(self) -> bool:
        return True


def _segid(leaf) -> str:
    return leaf.segment().segment_id()


_NO_IDS = np.zeros(0, dtype=np.int64)


def postings_array(leaf, fieldname: str, text: str) -> np.ndarray:
    """The document numbers of a term in one segment, deleted documents included (callers mask
    them with the view's live bits), as a numpy array.

    Whoosh's own `all_ids()` decodes each posting in Python (≈ 1 µs each: 0.3 s for a word in
    284,000 documents). Its W3 blocks hold the numbers delta-encoded, so a block is decoded here
    with one cumulative sum; any other matcher goes through `all_ids()`."""
    try:
        terms = getattr(leaf, "_terms", None)
        if terms is not None and fieldname in leaf.schema:
            # A segment's own matcher: `postings()` wraps it in a filter of the deleted
            # documents, which has already moved it past the first deleted ones.
            tbytes = leaf._text_to_bytes(fieldname, text)
            matcher = terms.matcher(fieldname, tbytes, leaf.schema[fieldname].format)
        else:
            matcher = leaf.postings(fieldname, text)
    except Exception:  # noqa: BLE001 - Whoosh raises TermNotFound and friends
        return _NO_IDS
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        parts = []
        while matcher.is_active():
            matcher._read_data()
            parts.append(np.cumsum(np.asarray(matcher._data[0], dtype=np.int64)))
            matcher._next_block()
        return np.concatenate(parts) if parts else _NO_IDS
    return np.fromiter(matcher.all_ids(), dtype=np.int64)


def array_to_bits(ids: np.ndarray, size: int) -> int:
    """A bitset (bit n = document n) from an array of document numbers below `size`."""
    if not len(ids):
        return 0
    flags = np.zeros(size, dtype=bool)
    flags[ids] = True
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


class SegmentTables:
    """One segment's facet bitsets and its documents by day, read once from its postings.

    Days are kept as arrays of document numbers (4 bytes a document), not as one bitset per day:
    a day's bitset is as long as the segment (2,000 days × 444,000 documents is 110 MB)."""

    def __init__(self, leaf) -> None:
        count = leaf.doc_count_all()
        self.facets: dict[str, dict[str, int]] = {}
        for name in FACETS:
            values = {}
            for raw in leaf.lexicon(name):
                value = raw.decode("utf-8")
                if value:
                    bits = array_to_bits(postings_array(leaf, name, value), count)
                    if bits:
                        values[value] = bits
            self.facets[name] = values
        self.days: list[tuple[str, np.ndarray]] = []
        for raw in leaf.lexicon("date"):
            day = raw.decode("utf-8")
            if day:
                ids = postings_array(leaf, "date", day).astype(np.uint32)
                if len(ids):
                    self.days.append((day, ids))
        self.days.sort(key=lambda item: item[0], reverse=True)
        years: dict[str, list[np.ndarray]] = {}
        for day, ids in self.days:
            years.setdefault(day[:4], []).append(ids)
        self.years = {
            year: array_to_bits(np.concatenate(parts), count) for year, parts in years.items()
        }


def _tables(leaf) -> SegmentTables:
    key = _segid(leaf)
    tables = _segments.get(key)
    if tables is None:
        tables = SegmentTables(leaf)
        _segments[key] = tables
    return tables


def _combine(parts: list[tuple[int, int]]) -> int:
    """OR of (bits, offset) pairs; the bits themselves when there is one, at offset 0."""
    if len(parts) == 1 and parts[0][1] == 0:
        return parts[0][0]
    total = 0
    for bits, offset in parts:
        total |= bits << offset
    return total


class View:
    """One consistent snapshot of the index (a searcher), with its bitsets."""

    _tokens = itertools.count(1)

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.token = next(View._tokens)
        reader = searcher.reader()
        # An empty index has an EmptyReader leaf with no segment: nothing to read there.
        self.leaves = [
            (leaf, offset)
            for leaf, offset in reader.leaf_readers()
            if getattr(leaf, "segment", lambda: None)() is not None
        ]
        self.size = reader.doc_count_all()
        self.segment_ids = {_segid(leaf) for leaf, _offset in self.leaves}
        self.live = 0
        deletions = False
        for leaf, offset in self.leaves:
            live, deleted = self._leaf_live(leaf)
            self.live |= live << offset
            deletions = deletions or deleted
        # One segment without deletions: a term's segment bitset is already the view's.
        self.simple = len(self.leaves) == 1 and self.leaves[0][1] == 0 and not deletions
        tables = [(_tables(leaf), offset) for leaf, offset in self.leaves]
        # Facet bitsets may include deleted documents: they are only ever ANDed with a match,
        # which is within `live`.
        self.facets: dict[str, dict[str, int]] = {}
        for name in FACETS:
            parts: dict[str, list[tuple[int, int]]] = {}
            for table, offset in tables:
                for value, bits in table.facets[name].items():
                    parts.setdefault(value, []).append((bits, offset))
            self.facets[name] = {value: _combine(p) for value, p in parts.items()}
        self._order_by_date(tables)

    def _order_by_date(self, tables) -> None:
        """`order`: the dated documents, newest day first and the higher document number first
        within a day; `rank[docnum]`: a document's place there; `years`: (year, start, end)."""
        by_day: dict[str, list[tuple[int, np.ndarray]]] = {}
        year_parts: dict[str, list[tuple[int, int]]] = {}
        for table, offset in tables:
            for day, ids in table.days:
                by_day.setdefault(day, []).append((offset, ids))
            for year, bits in table.years.items():
                year_parts.setdefault(year, []).append((bits, offset))
        parts: list[np.ndarray] = []
        placed = 0
        spans: list[list] = []
        for day in sorted(by_day, reverse=True):
            if not spans or spans[-1][0] != day[:4]:
                spans.append([day[:4], placed, placed])
            for offset, ids in sorted(by_day[day], key=lambda part: part[0], reverse=True):
                parts.append(ids[::-1] + np.uint32(offset))
                placed += len(ids)
            spans[-1][2] = placed
        self.order = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
        self.years = [tuple(span) for span in spans]
        self.rank = np.zeros(self.size, dtype=np.uint32)
        self.rank[self.order] = np.arange(len(self.order), dtype=np.uint32)
        # The documents dated in each calendar year. Not the `year` facet: a compliance record's
        # year is its period, while its date is when the period's list was published.
        self.dated_in_year = {year: _combine(parts) for year, parts in year_parts.items()}
        dated = 0
        for bits in self.dated_in_year.values():
            dated |= bits
        self.undated = self.live & ~dated

    def first_by_date(self, within: int, count: int, span: tuple, want: int) -> list[int]:
        """The first `want` documents of `within` (`count` of them, all dated in the year of
        `span`) in date order."""
        _year, start, end = span
        # Few: take the set bits and sort them by rank. Many: mark them, walk the year's order.
        if count <= FEW_BY_RANK:
            ids = np.array(bits_to_ids(within), dtype=np.int64)
            return ids[np.argsort(self.rank[ids], kind="stable")][:want].tolist()
        data = np.frombuffer(within.to_bytes((self.size >> 3) + 1, "little"), dtype=np.uint8)
        flags = np.unpackbits(data, bitorder="little")
        year = self.order[start:end]
        return year[flags[year].astype(bool)][:want].tolist()

    @staticmethod
    def _leaf_live(leaf) -> tuple[int, bool]:
        count = leaf.doc_count_all()
        ones = (1 << count) - 1
        segment = leaf.segment()
        if segment.has_deletions():
            return ones & ~ids_to_bits(segment.deleted_docs(), count), True
        return ones, False

    def _leaf_term(self, leaf, fieldname: str, text: str) -> int:
        def make() -> int:
            return array_to_bits(postings_array(leaf, fieldname, text), leaf.doc_count_all())

        if not SETTINGS["term_cache"]:
            return make()
        return _cache.fetch(("seg", _segid(leaf), fieldname, text), make)

    def term(self, fieldname: str, text: str) -> int:
        if self.simple:
            return self._leaf_term(self.leaves[0][0], fieldname, text)
        total = 0
        for leaf, offset in self.leaves:
            total |= self._leaf_term(leaf, fieldname, text) << offset
        return total & self.live

    def preload(self, words, fields=("title", "body"), budget: int | None = None) -> int:
        """Read these words' bitsets into the cache (a new worker's warm-up): the common words
        are the ones whose postings take longest to read (up to 60 ms at 444,000 documents).
        Stops at `budget` bytes of cache (half of it by default); returns how many were read."""
        budget = _cache.limit // 2 if budget is None else budget
        read = 0
        for word in words:
            for fieldname in fields:
                if _cache.bytes >= budget:
                    return read
                for leaf, _offset in self.leaves:
                    self._leaf_term(leaf, fieldname, word)
                read += 1
        return read

    def cached(self, kind: str, key, make):
        """A per-view cache entry ("phrase" or "result"), in the shared byte budget."""
        if kind == "result" and not SETTINGS["result_cache"]:
            return make()
        return _cache.fetch((kind, self.token, key), make)

    def is_stored(self, fieldname: str) -> bool:
        schema = self.searcher.schema
        return fieldname in schema and bool(schema[fieldname].stored)

    def stored(self, docnum: int) -> dict:
        return self.searcher.stored_fields(docnum)


def _forget(views: list[View]) -> None:
    """Close replaced views and drop the cache entries only they used."""
    if not views:
        return
    tokens = {view.token for view in views}
    with read_lock:
        for view in views:
            view.searcher.close()
    with _views_lock:
        in_use = set().union(*(v.segment_ids for v in _views.values()))
    gone = set().union(*(v.segment_ids for v in views)) - in_use
    _cache.discard(lambda k: k[1] in gone if k[0] == "seg" else k[1] in tokens)
    for segment_id in gone:
        _segments.pop(segment_id, None)


def view_for(ix) -> View:
    """The cached view for the index's current generation; a new one after any commit."""
    generation = ix.latest_generation()
    key = (ix.storage.folder, generation)
    with _views_lock:
        found = _views.get(key)
    if found is not None:
        return found
    view = View(ix.searcher())
    with _views_lock:
        spare = None
        if key in _views:  # another thread built it meanwhile
            spare, view = view, _views[key]
        else:
            _views[key] = view
        old = [_views.pop(k) for k in [k for k in _views if k[0] == key[0] and k != key]]
        # Views of other index folders (tests, benchmarks) are kept for a few folders only: each
        # holds its segments' files open.
        while len(_views) > MAX_FOLDERS:
            old.append(_views.pop(next(iter(_views))))
    if spare is not None:
        spare.searcher.close()
    _forget(old)
    return view


def clear_caches() -> None:
    """Drop every cached view and bitset (benchmarks and tests)."""
    with read_lock, _views_lock:
        for view in _views.values():
            view.searcher.close()
        _views.clear()
    _cache.clear()
    _segments.clear()


# ---- parsing ---------------------------------------------------------------------------------


@dataclass
class Parsed:
    text: str
    query: object | None
    filters: dict[str, str]
    notices: list[str] = field(default_factory=list)
    code: str | None = None
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)


def _parser(schema):
    fields = [name for name in SEARCHED if name in schema]
    parser = MultifieldParser(fields, schema, group=AndGroup)
    for plugin in (WildcardPlugin, RangePlugin, BoostPlugin, EveryPlugin, SingleQuotePlugin):
        parser.remove_plugin_class(plugin)
    # A minus only at the start of a word, so 2023-05 and 91410100-X stay one word.
    parser.add_plugin(PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
    return parser


def resolve_filter(name: str, value: str, divisions: dict[str, str]) -> str | None:
    """A typed filter value as its stored code, or None when it means nothing we know."""
    value = fold(value).strip()
    if name == "kind":
        return KIND_WORDS.get(value)
    if name == "year":
        return value if re.fullmatch(r"(19|20)\d\d", value) else None
    if name == "division":
        if value in divisions:
            return value
        for code, label in divisions.items():
            if label.startswith(value) or value.startswith(label.rstrip("市")):
                return code
        return None
    if name == "variety":
        table = {"energy": "energy", "能耗": "energy", "能耗指标": "energy"}
        table |= {"coal": "coal", "煤炭": "coal", "煤炭指标": "coal", "煤": "coal"}
        return table.get(value, value if value in ("energy", "coal") else None)
    return None


def parse(text: str, schema, divisions: dict[str, str]) -> Parsed:
    """Read the visitor's query; problems become notices, never exceptions."""
    notices: list[str] = []
    text = (text or "").strip()
    if len(text) > MAX_QUERY:
        text = text[:MAX_QUERY]
        notices.append("too_long")
    cleaned = fold(text.translate(_QUOTES))
    filters: dict[str, str] = {}

    def take_filter(match: re.Match) -> str:
        name = FILTER_ALIASES.get(match.group(1).lower())
        if name is None:
            return match.group(0)
        code = resolve_filter(name, match.group(2), divisions)
        if code is None:
            notices.append("unknown_filter")
        else:
            filters[name] = code
        return " "

    cleaned = _FILTER_RE.sub(take_filter, cleaned).strip()
    parsed = Parsed(text=text, query=None, filters=filters, notices=notices)
    if not cleaned:
        if not filters:
            notices.append("empty")
        return parsed
    candidate = normalize_code(cleaned)
    if _CODE_RE.match(candidate) and any(c.isdigit() for c in candidate):
        parsed.code = candidate
    if not _WORDLIKE.search(cleaned):
        notices.append("punctuation")
        return parsed
    if cleaned.count('"') % 2:
        cleaned = cleaned.replace('"', " ")
        notices.append("malformed")
    if cleaned.count("(") != cleaned.count(")"):
        cleaned = cleaned.replace("(", " ").replace(")", " ")
        notices.append("malformed")
    try:
        query = _parser(schema).parse(cleaned)
    except Exception:  # noqa: BLE001 - a query the grammar cannot read is searched as plain words
        notices.append("malformed")
        query = _parser(schema).parse(re.sub(r"[\"()+\-:]", " ", cleaned))
    if query is None or query is wq.NullQuery or type(query).__name__ == "_NullQuery":
        notices.append("punctuation")
        return parsed
    parsed.query = query
    _collect_words(query, parsed, negated=False)
    if len("".join(parsed.words)) == 1 and not parsed.phrases:
        notices.append("one_char")
    return parsed


def _collect_words(node, parsed: Parsed, negated: bool) -> None:
    if isinstance(node, wq.Not):
        _collect_words(node.query, parsed, True)
        return
    if isinstance(node, wq.AndNot):
        _collect_words(node.a, parsed, negated)
        _collect_words(node.b, parsed, True)
        return
    if isinstance(node, wq.Phrase):
        if not negated:
            parsed.phrases.append("".join(node.words))
        return
    if isinstance(node, wq.Term):
        if not negated and node.text not in parsed.words:
            parsed.words.append(node.text)
        return
    for child in getattr(node, "subqueries", ()) or ():
        _collect_words(child, parsed, negated)
    if hasattr(node, "child"):
        _collect_words(node.child, parsed, negated)


# ---- matching ----------------------------------------------------------------------------------


class Matcher:
    def __init__(self, view: View, parsed: Parsed) -> None:
        self.view = view
        self.parsed = parsed

    def bits(self, node) -> int:
        view = self.view
        if isinstance(node, wq.Term):
            return view.term(node.fieldname, node.text)
        if isinstance(node, wq.And):
            result = view.live
            for child in node.subqueries:
                result &= self.bits(child)
                if not result:
                    break
            return result
        if isinstance(node, wq.Or | wq.DisjunctionMax):
            result = 0
            for child in node.subqueries:
                result |= self.bits(child)
            return result
        if isinstance(node, wq.Not):
            return view.live & ~self.bits(node.query)
        if isinstance(node, wq.AndNot):
            return self.bits(node.a) & ~self.bits(node.b)
        if isinstance(node, wq.AndMaybe):
            return self.bits(node.a)
        if isinstance(node, wq.Require):
            return self.bits(node.a) & self.bits(node.b)
        if isinstance(node, wq.Phrase):
            return self.phrase(node.fieldname, node.words)
        if node is wq.NullQuery or type(node).__name__ == "_NullQuery":
            return 0
        # Anything else the grammar produced: ask Whoosh, once.
        return ids_to_bits(node.docs(view.searcher), view.size) & view.live

    def phrase(self, fieldname: str, words) -> int:
        text = "".join(words)

        def make() -> int:
            candidates = self.view.live
            for word in query_words(text):
                candidates &= self.view.term(fieldname, word)
            if not self.view.is_stored(fieldname):
                # No text to check against (names_en): every word of the phrase is there.
                return candidates
            if candidates.bit_count() > PHRASE_VERIFY_LIMIT:
                self.parsed.notices.append("phrase_approx")
                return candidates
            needle = fold(text)
            keep = []
            for docnum in bits_to_ids(candidates):
                stored = self.view.stored(docnum).get(fieldname, "")
                if needle in fold(stored).replace(" ", ""):
                    keep.append(docnum)
            return ids_to_bits(keep, self.view.size)

        return self.view.cached("phrase", (fieldname, text), make)


@dataclass
class Outcome:
    docnums: list[int]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    notices: list[str]


def execute(
    view: View, parsed: Parsed, filters: dict[str, str], sort: str, page: int, per_page: int
) -> Outcome:
    """Match, count and page one query against one view."""
    key = (
        str(parsed.query),
        tuple(sorted(filters.items())),
        sort,
        page,
        per_page,
    )
    return view.cached("result", key, lambda: _execute(view, parsed, filters, sort, page, per_page))


def _execute(view, parsed, filters, sort, page, per_page) -> Outcome:
    matcher = Matcher(view, parsed)
    notices_before = len(parsed.notices)
    match = matcher.bits(parsed.query) if parsed.query is not None else view.live
    masks = {
        name: view.facets[name].get(value, 0) for name, value in filters.items() if name in FACETS
    }
    facets: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        base = match
        for other, mask in masks.items():
            if other != name:
                base &= mask
        counts = [(value, (base & bits).bit_count()) for value, bits in view.facets[name].items()]
        facets[name] = sorted(
            ((v, c) for v, c in counts if c),
            key=lambda vc: (-int(vc[0]) if name == "year" else -vc[1], vc[0]),
        )
    for mask in masks.values():
        match &= mask
    total = match.bit_count()
    tiers = [match]
    if sort != "date" and parsed.query is not None:
        tiers = []
        rest = match
        if parsed.code:
            exact = match & view.term("code", parsed.code)
            tiers.append(exact)
            rest &= ~exact
        if parsed.words or parsed.phrases:
            titled = rest
            for word in parsed.words:
                titled &= view.term("title", word)
            for phrase in parsed.phrases:
                titled &= matcher.phrase("title", [phrase])
            # A name matches the record it names before the trades and listings that mention it.
            kinds = view.facets["kind"]
            entity = titled & (kinds.get("enterprise", 0) | kinds.get("announcement", 0))
            tiers += [entity, titled & ~entity]
            rest &= ~titled
        tiers.append(rest)
    docnums = _page_by_date(view, tiers, (page - 1) * per_page, per_page)
    return Outcome(docnums, total, facets, parsed.notices[notices_before:])


def _page_by_date(view: View, tiers: list[int], skip: int, limit: int) -> list[int]:
    """Document numbers `skip`..`skip+limit` of the tiers in order, newest first within each."""
    out: list[int] = []
    undated = view.undated
    for tier in tiers:
        if not tier or len(out) >= limit:
            continue
        count = tier.bit_count()
        if skip >= count:
            skip -= count
            continue
        for span in view.years:
            within = tier & view.dated_in_year[span[0]]
            if not within:
                continue
            year_count = within.bit_count()
            if skip >= year_count:
                skip -= year_count
                continue
            wanted = skip + limit - len(out)
            ids = view.first_by_date(within, year_count, span, wanted)
            out.extend(ids[skip:wanted])
            skip = 0
            if len(out) >= limit:
                return out
        rest = tier & undated
        if rest:
            ids = bits_to_ids(rest, reverse=True)[skip:]
            skip = 0
            out.extend(ids[: limit - len(out)])
    return out


# ---- highlighting ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _longest_first(terms: tuple[str, ...]) -> tuple[str, ...]:
    """A query's terms, folded as the text is, longest first, once per query."""
    return tuple(sorted({fold(t) for t in terms if t}, key=len, reverse=True))


def highlight(text: str, terms: list[str], width: int | None = None) -> Markup:
    """Escape `text` and wrap each term in <mark>; with `width`, cut a window around the first hit."""
    text = text or ""
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    # The characters already marked: a later (shorter) term's hit that overlaps one is skipped.
    # (A scan of the spans found so far was quadratic in a long text with a common word.)
    taken = bytearray(len(folded))
    for term in _longest_first(tuple(terms)):
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            if taken.find(1, start, end) == -1:
                spans.append((start, end))
                taken[start:end] = b"\x01" * (end - start)
            start = folded.find(term, end)
    if not spans and (width is None or len(text) <= width):
        return escape(text)  # no term in it (most of a result's facts), nothing to cut
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    spans = merged
    lo, hi = 0, len(text)
    if width is not None and len(text) > width:
        first = spans[0][0] if spans else 0
        lo = max(0, first - width // 4)
        hi = min(len(text), lo + width)
    out = [Markup("…") if lo > 0 else Markup("")]
    cursor = lo
    for start, end in spans:
        if start < cursor or end > hi:
            continue
        out.append(escape(text[cursor:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        cursor = end
    out.append(escape(text[cursor:hi]))
    if hi < len(text):
        out.append(Markup("…"))
    return Markup("").join(out)


__all__ = ["parse", "execute", "view_for", "highlight", "syntax"]
