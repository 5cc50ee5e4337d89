"""Text normalisation shared by forms and search: full-width to half-width, one form of Unicode."""

import re
import unicodedata


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
