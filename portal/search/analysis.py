"""Chinese text analysis: width folding, jieba/rjieba segmentation, the domain dictionary.

Indexing segments in jieba's *search* mode, which emits a word and the dictionary words inside it
(郑州市 → 郑州, 郑州市; 节能技术改造 → 节能, 技术, 改造, 技术改造, 节能技术改造). A query keeps only
the smallest words that cover it (节能改造 → 节能 + 改造), so a query finds the longer forms too.
docs/search.md has the measurements behind these choices.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import Token, Tokenizer

USER_DICT = Path(__file__).with_name("userdict.txt")

# A token that is only punctuation, symbols or spaces is not a word.
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]")

_segmenters: dict[str, object] = {}
_lock = threading.Lock()


# Full-width ASCII → half-width, ideographic space → space: one character for one.
_FOLD_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold(text: str) -> str:
    """Fold full-width forms to half-width and upper case to lower, one character for one.

    Keeping the length lets the highlighter map offsets in folded text back to the original.
    str.translate + str.lower run in C (a rebuild folds every document: docs/search.md); the
    character loop is kept only for text where lower() changes the length (e.g. "İ").
    """
    folded = text.translate(_FOLD_TABLE)
    lowered = folded.lower()
    if len(lowered) == len(folded):
        return lowered
    out = []
    for ch in folded:
        lower = ch.lower()
        out.append(lower if len(lower) == 1 else ch)
    return "".join(out)


def domain_words() -> list[tuple[str, int, str]]:
    words = []
    for line in USER_DICT.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and not line.startswith("#"):
            freq = int(parts[1]) if len(parts) > 1 else 10000
            words.append((parts[0], freq, parts[2] if len(parts) > 2 else "n"))
    return words


class _RJieba:
    name = "rjieba"

    def __init__(self) -> None:
        # lazy: rjieba loads its dictionary on import; only the analyzer in use pays for it
        import rjieba

        self._rjieba = rjieba
        for word, freq, tag in domain_words():
            rjieba.add_word(word, freq, tag)

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        return self._rjieba.tokenize(text, mode="search")

    def cut(self, text: str) -> list[str]:
        return self._rjieba.cut(text)


class _Jieba:
    """The pure-Python jieba, kept to compare with rjieba (tests, bench); not a runtime dependency."""

    name = "jieba"

    def __init__(self) -> None:
        try:  # lazy and optional: jieba is a comparison-only extra
            import jieba
        except ImportError as exc:
            raise RuntimeError(
                "The jieba analyzer is for comparisons only and is not installed: "
                "pip install -e '.[compare]' (or '.[test]'), or use the default rjieba"
            ) from exc

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        for word, freq, tag in domain_words():
            self._jieba.add_word(word, freq, tag)

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        return list(self._jieba.tokenize(text, mode="search"))

    def cut(self, text: str) -> list[str]:
        return list(self._jieba.cut(text))


def segmenter(name: str = "rjieba"):
    """The process-wide segmenter, with the domain dictionary loaded once."""
    with _lock:
        if name not in _segmenters:
            _segmenters[name] = _RJieba() if name == "rjieba" else _Jieba()
        return _segmenters[name]


def index_tokens(text: str, engine: str = "rjieba") -> list[tuple[str, int, int]]:
    """Every word and sub-word of `text`, folded, with character offsets."""
    folded = fold(text)
    return [
        (word.strip(), start, end)
        for word, start, end in segmenter(engine).tokenize(folded)
        if _WORDLIKE.search(word)
    ]


@lru_cache(maxsize=4096)
def query_words(text: str, engine: str = "rjieba") -> tuple[str, ...]:
    """The smallest words that cover `text`: a longer word is dropped when its parts cover it."""
    tokens = index_tokens(text, engine)
    kept: list[tuple[str, int, int]] = []
    for word, start, end in tokens:
        inner = [
            (s, e)
            for w, s, e in tokens
            if start <= s and e <= end and (s, e) != (start, end) and e - s >= 2
        ]
        covered = set()
        for s, e in inner:
            covered.update(range(s, e))
        if covered.issuperset(range(start, end)):
            continue
        kept.append((word, start, end))
    kept.sort(key=lambda t: (t[1], t[2]))
    seen: list[str] = []
    for word, _s, _e in kept:
        if word not in seen:
            seen.append(word)
    return tuple(seen)


class ChineseTokenizer(Tokenizer):
    """A Whoosh tokenizer: search-mode words when indexing, covering words when querying."""

    def __init__(self, engine: str = "rjieba") -> None:
        self.engine = engine

    def __eq__(self, other) -> bool:
        return isinstance(other, ChineseTokenizer) and other.engine == self.engine

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if mode == "query":
            words = [(w, 0, 0) for w in query_words(value, self.engine)]
        else:
            words = index_tokens(value, self.engine)
        for pos, (word, start, end) in enumerate(words):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def chinese_analyzer(engine: str = "rjieba") -> ChineseTokenizer:
    return ChineseTokenizer(engine)


def normalize_code(text: str) -> str:
    """A code as typed (full-width, lower case, spaces) in its stored form."""
    return unicodedata.normalize("NFKC", text).strip().upper().replace(" ", "")
