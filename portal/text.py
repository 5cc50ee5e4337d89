"""Text normalisation shared by forms and search: full-width to half-width, one form of Unicode;
the pinyin key that puts Chinese names in the order readers expect."""

import re
import unicodedata

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin

SORT_KEY_LENGTH = 300


def to_halfwidth(text: str) -> str:
    """Fold full-width letters, digits and punctuation (１２３, ＡＢＣ) to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def spreadsheet_safe(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP "CSV injection").

    Text that starts with = + - @ or a control character gets a leading apostrophe; numbers and
    dates are written as they are, so -1.5 stays a number.
    """
    if not isinstance(value, str):
        return "" if value is None else str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# Characters that start inline Markdown (emphasis, code, links, images, tables) or escape it;
# Python-Markdown honours a backslash before each of them, wherever it stands.
_MARKDOWN_INLINE = frozenset("\\`*_[]()")
# What starts a block (heading, list item, numbered item, setext underline) where a line begins.
_MARKDOWN_BLOCK_START = re.compile(r"^(\d+(?=[.)])|)([#+=-]|[.)])")
# HTML, and the characters a backslash does not escape everywhere (a table's `|`, a setext `=`),
# are written as character references, which Markdown shows as the characters themselves.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;"}


def escape_markdown(text) -> str:
    """Make a value literal text inside generated Markdown: no link, tag, emphasis or new block.

    Every value interpolated into a 公示 or any other generated Markdown goes through here (the
    Jinja filter `escape_markdown`). Line breaks become spaces, so a value stays in its line or
    table cell; HTML is written as entities, which Markdown shows as the characters themselves.
    """
    if text is None:
        return ""
    value = " ".join(str(text).split())
    escaped = "".join(
        _ENTITIES.get(char) or ("\\" + char if char in _MARKDOWN_INLINE else char) for char in value
    )
    return _MARKDOWN_BLOCK_START.sub(
        lambda m: m.group(1) + ("&#61;" if m.group(2) == "=" else "\\" + m.group(2)),
        escaped,
        count=1,
    )


class _RememberingConverter(DefaultConverter):
    """pypinyin's own conversion, with each segment's result remembered: names repeat a few
    thousand words (城市, 有限公司, 化工…), and converting one (phrase look-up, then styling each
    syllable with regular expressions) was nearly all of a key's cost. The result is the
    library's, call for call; the memory is bounded."""

    LIMIT = 200_000

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._converted: dict[tuple, list[list[str]]] = {}

    def convert(self, words, style, heteronym, errors, strict, **kwargs):
        if kwargs or not isinstance(errors, str):
            return super().convert(words, style, heteronym, errors, strict, **kwargs)
        key = (words, style, heteronym, errors, strict)
        found = self._converted.get(key)
        if found is None:
            found = super().convert(words, style, heteronym, errors, strict)
            if len(self._converted) < self.LIMIT:
                self._converted[key] = found
        return [list(syllables) for syllables in found]


_pinyin = Pinyin(_RememberingConverter())


def pinyin_sort_key(name: str) -> str:
    """A key that sorts names by pinyin, as a Chinese index does: 安阳 (an1 yang2) before 北京
    (bei3 jing1) before 郑州 (zheng4 zhou1), where code-point order puts 北 (U+5317) first.

    Each character's syllable carries its tone number, so homophones group by tone; letters and
    digits stay as they are, case folded. Stored beside the name and indexed, so lists sort from
    the index (the column compares bytewise: COLLATE "C" on PostgreSQL, SQLite's default).
    """
    syllables = _pinyin.lazy_pinyin(to_halfwidth(name), style=Style.TONE3, errors="default")
    return " ".join(part.strip().lower() for part in syllables if part.strip())[:SORT_KEY_LENGTH]
