"""Answering a query: parse, match with bitsets, count facets, rank, page, highlight.

Whoosh keeps the postings; this module turns each term's postings into a Python int used as a
bitset (bit n = document n), cached per index segment. A query is then a few big-int ANDs/ORs,
facet counts are popcounts, and the top page is found by walking the newest days first, so a term
that matches every document costs no more than a rare one. Ranking is in tiers: an exact code
first, then records whose title holds every word, then the rest; newest first within a tier
(docs/search.md explains why and what each step bought).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from whoosh import query as wq
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
TERM_CACHE_SIZE = 20000
RESULT_CACHE_SIZE = 512


class LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def fetch(self, key, make):
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        value = make()
        with self.lock:
            self[key] = value
            if len(self) > self.size:
                self.popitem(last=False)
        return value


# Per-segment bitsets survive new generations of the TOC: a segment is immutable (except for
# deletions, applied separately through the live mask).
_segment_bits = LRU(TERM_CACHE_SIZE)
_views: dict[tuple, View] = {}
_views_lock = threading.Lock()
SETTINGS = {"result_cache": True, "term_cache": True}


def ids_to_bits(ids, size: int) -> int:
    buffer = bytearray((size >> 3) + 1)
    for docnum in ids:
        buffer[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(buffer, "little")


_BYTE_BITS = [tuple(j for j in range(8) if b >> j & 1) for b in range(256)]


def bits_to_ids(bits: int, reverse: bool = False) -> list[int]:
    if not bits:
        return []
    data = bits.to_bytes((bits.bit_length() + 7) >> 3, "little")
    out = []
    for index, byte in enumerate(data):
        if byte:
            base = index << 3
            out.extend(base + j for j in _BYTE_BITS[byte])
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


class View:
    """One consistent snapshot of the index (a searcher), with its bitsets."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        # An empty index has an EmptyReader leaf with no segment: nothing to read there.
        self.leaves = [
            (leaf, offset)
            for leaf, offset in reader.leaf_readers()
            if getattr(leaf, "segment", lambda: None)() is not None
        ]
        self.size = reader.doc_count_all()
        self.terms = LRU(4096)
        self.live = 0
        for leaf, offset in self.leaves:
            self.live |= self._leaf_live(leaf) << offset
        self.facets = {name: self._field_bits(name) for name in FACETS}
        days = self._field_bits("date")
        self.days_by_year: dict[str, list[tuple[str, int]]] = {}
        for day in sorted(days, reverse=True):
            self.days_by_year.setdefault(day[:4], []).append((day, days[day]))
        # The documents dated in each calendar year. Not the `year` facet: a compliance record's
        # year is its period, while its date is when the period's list was published.
        self.dated_in_year: dict[str, int] = {}
        for year, year_days in self.days_by_year.items():
            bits = 0
            for _day, day_bits in year_days:
                bits |= day_bits
            self.dated_in_year[year] = bits
        self.undated = self.live
        for day_bits in days.values():
            self.undated &= ~day_bits
        self.results = LRU(RESULT_CACHE_SIZE)
        self.phrases = LRU(256)

    @staticmethod
    def _segid(leaf) -> str:
        return leaf.segment().segment_id()

    def _leaf_live(self, leaf) -> int:
        count = leaf.doc_count_all()
        ones = (1 << count) - 1
        segment = leaf.segment()
        if segment.has_deletions():
            ones &= ~ids_to_bits(segment.deleted_docs(), count)
        return ones

    def _leaf_term(self, leaf, fieldname: str, text: str) -> int:
        def make() -> int:
            try:
                postings = leaf.postings(fieldname, text)
            except Exception:  # noqa: BLE001 - Whoosh raises TermNotFound and friends
                return 0
            return ids_to_bits(postings.all_ids(), leaf.doc_count_all())

        if not SETTINGS["term_cache"]:
            return make()
        return _segment_bits.fetch((self._segid(leaf), fieldname, text), make)

    def term(self, fieldname: str, text: str) -> int:
        def make() -> int:
            total = 0
            for leaf, offset in self.leaves:
                total |= self._leaf_term(leaf, fieldname, text) << offset
            return total & self.live

        if not SETTINGS["term_cache"]:
            return make()
        return self.terms.fetch((fieldname, text), make)

    def _field_bits(self, fieldname: str) -> dict[str, int]:
        values: set[str] = set()
        for leaf, _offset in self.leaves:
            values.update(t.decode("utf-8") for t in leaf.lexicon(fieldname))
        out = {}
        for value in values:
            if value:
                bits = self.term(fieldname, value)
                if bits:
                    out[value] = bits
        return out

    def is_stored(self, fieldname: str) -> bool:
        schema = self.searcher.schema
        return fieldname in schema and bool(schema[fieldname].stored)

    def stored(self, docnum: int) -> dict:
        return self.searcher.stored_fields(docnum)


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
        for old in [k for k in _views if k[0] == key[0] and k != key]:
            _views.pop(old).searcher.close()
        _views[key] = view
    return view


def clear_caches() -> None:
    """Drop every cached view and bitset (benchmarks and tests)."""
    with _views_lock:
        for view in _views.values():
            view.searcher.close()
        _views.clear()
    _segment_bits.clear()


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

        return self.view.phrases.fetch((fieldname, text), make)


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
    if SETTINGS["result_cache"]:
        return view.results.fetch(
            key, lambda: _execute(view, parsed, filters, sort, page, per_page)
        )
    return _execute(view, parsed, filters, sort, page, per_page)


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
        for year, days in view.days_by_year.items():
            within = tier & view.dated_in_year[year]
            if not within:
                continue
            year_count = within.bit_count()
            if skip >= year_count:
                skip -= year_count
                continue
            for _day, bits in days:
                hits = within & bits
                if not hits:
                    continue
                n = hits.bit_count()
                if skip >= n:
                    skip -= n
                    continue
                ids = bits_to_ids(hits, reverse=True)[skip:]
                skip = 0
                out.extend(ids[: limit - len(out)])
                if len(out) >= limit:
                    return out
        rest = tier & undated
        if rest:
            ids = bits_to_ids(rest, reverse=True)[skip:]
            skip = 0
            out.extend(ids[: limit - len(out)])
    return out


# ---- highlighting ------------------------------------------------------------------------------


def highlight(text: str, terms: list[str], width: int | None = None) -> Markup:
    """Escape `text` and wrap each term in <mark>; with `width`, cut a window around the first hit."""
    text = text or ""
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    for term in sorted({fold(t) for t in terms if t}, key=len, reverse=True):
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = folded.find(term, end)
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
