"""Every place where text may become markup is known and has a reason; a new one fails here.

Autoescaping is what keeps a visitor's input out of the page's HTML. `|safe`, `Markup`, a class with
`__html__` and `autoescape false` each switch it off for one value. That is right only when the value
carries no input, or input that was escaped or sanitised first (nh3). Each such place is listed in
ALLOWED with how many times it occurs and why it is safe; adding one means adding it there, with a
reason that a reviewer can check.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"
TEMPLATES = PORTAL / "templates"

# Template constructs that turn autoescaping off (Jinja comments are ignored).
TEMPLATE_PATTERNS = {
    "|safe": re.compile(r"\|\s*safe\b"),
    "filter safe": re.compile(r"{%-?\s*filter\s+safe\b"),
    "autoescape false": re.compile(r"{%-?\s*autoescape\s+false\b", re.IGNORECASE),
    "Markup(": re.compile(r"\bMarkup\s*\("),
}
JINJA_COMMENT = re.compile(r"{#.*?#}", re.DOTALL)

# (path under portal/, construct) → (occurrences, why each one carries no raw input)
ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("templates/news/detail.html", "|safe"): (
        1,
        "body_html is news.services.render_markdown output, sanitised by nh3's allow-list",
    ),
    ("templates/news/embed.html", "|safe"): (
        1,
        "body_html is news.services.render_markdown output, sanitised by nh3's allow-list",
    ),
    ("templates/editorial/_preview.html", "|safe"): (
        1,
        "preview_html is news.services.render_markdown output, sanitised by nh3's allow-list",
    ),
    ("templates/review/_publicity_filing.html", "autoescape false"): (
        1,
        "renders Markdown source, not HTML; the body is shown only through render_markdown (nh3)",
    ),
    ("templates/publicity/_take_back.html", "autoescape false"): (
        1,
        "renders Markdown source, not HTML; the body is shown only through render_markdown (nh3)",
    ),
    ("templates/publicity/_take_back_title.html", "autoescape false"): (
        1,
        "renders a plain-text title, stored as text and autoescaped wherever it is shown",
    ),
    ("templates/review/_publicity_filing_title.html", "autoescape false"): (
        1,
        "renders a plain-text title, stored as text and autoescaped wherever it is shown",
    ),
    ("templates/compliance/_publicity.html", "autoescape false"): (
        1,
        "renders Markdown source, not HTML; the body is shown only through render_markdown (nh3)",
    ),
    ("templates/compliance/_publicity_title.html", "autoescape false"): (
        1,
        "renders a plain-text title, stored as text and autoescaped wherever it is shown",
    ),
    ("search/engine.py", "Markup"): (
        8,
        "highlight(): the import, its return type and constant <mark>/… pieces; all text is escape()d",
    ),
    ("search/snippets.py", "Markup"): (
        3,
        "the import, a constant separator and <span> around highlight() output (already escaped)",
    ),
    ("i18n.py", "Markup"): (
        12,
        "the import; template gettext (the catalog's text is markup as in Jinja's own newstyle "
        "gettext); paren/zh/Message: constant brackets and <span lang> around text that Markup's "
        "% operator or escape() escapes",
    ),
    ("forms.py", "Markup"): (
        5,
        "OptionsSelect: the import, a constant quote, an <option> whose value and label are "
        "escape()d, and a <select> of html_params() (which escapes) around options so written",
    ),
    ("i18n.py", "__html__"): (
        1,
        "the fix itself: LazyString.__html__ escapes the translated text (i18n.init_app)",
    ),
}


def _template_findings() -> Counter:
    found: Counter = Counter()
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file():
            continue
        text = JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))
        for name, pattern in TEMPLATE_PATTERNS.items():
            count = len(pattern.findall(text))
            if count:
                found[(path.relative_to(PORTAL).as_posix(), name)] += count
    return found


def _python_counts(source: str) -> Counter:
    """Count, outside strings and comments: Markup, __html__, and `autoescape=False`."""
    found: Counter = Counter()
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)
    ]
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME:
            continue
        if token.string in ("Markup", "__html__"):
            found[token.string] += 1
        elif (
            token.string == "autoescape"
            and tokens[i + 1].string in ("=", ":")
            and tokens[i + 2].string == "False"
        ):
            found["autoescape=False"] += 1
    return found


def _python_findings() -> Counter:
    found: Counter = Counter()
    for path in sorted(PORTAL.rglob("*.py")):
        relative = path.relative_to(PORTAL).as_posix()
        for name, count in _python_counts(path.read_text(encoding="utf-8")).items():
            found[(relative, name)] += count
    return found


def test_templates_and_code_turn_autoescaping_off_only_where_allowed():
    found = _template_findings() + _python_findings()
    unexpected = {key: n for key, n in found.items() if ALLOWED.get(key, (0, ""))[0] != n}
    assert not unexpected, (
        "Autoescaping is switched off in a place not on the allow-list (or the count changed): "
        f"{unexpected}. Escape or sanitise the value instead, or add it to ALLOWED with a reason."
    )


def test_the_allow_list_names_only_places_that_still_exist():
    found = _template_findings() + _python_findings()
    stale = [key for key in ALLOWED if key not in found]
    assert not stale, f"Remove these from ALLOWED, they no longer occur: {stale}"


def test_every_allowed_place_has_a_reason():
    assert all(len(reason) > 20 for _count, reason in ALLOWED.values())


def test_the_lint_finds_what_it_forbids():
    """The patterns are not vacuous: each construct is caught, a Jinja comment is not."""
    sample = (
        "{{ x|safe }}{{ y | safe }}{% filter safe %}{% endfilter %}"
        "{% autoescape false %}{% endautoescape %}{# |safe in a comment #}"
    )
    text = JINJA_COMMENT.sub("", sample)
    counts = {name: len(p.findall(text)) for name, p in TEMPLATE_PATTERNS.items()}
    assert counts == {"|safe": 2, "filter safe": 1, "autoescape false": 1, "Markup(": 0}


def test_the_python_lint_finds_what_it_forbids():
    source = (
        '"""Markup( in a docstring is not code."""\n'
        "from markupsafe import Markup  # Markup( in a comment\n"
        "x = Markup(user_input)\n"
        "class Trusted:\n"
        "    def __html__(self):\n"
        "        return ''\n"
        "env = Environment(autoescape=False)\n"
    )
    assert _python_counts(source) == {"Markup": 2, "__html__": 1, "autoescape=False": 1}
