"""The catalogs: every UI string has English, placeholders survive translation, pages switch language.

The msgids are Chinese (the portal is Chinese first). A string that the code shows but that the
English catalog lacks would appear in Chinese on an English page, so (a) fails on it and names it;
the fix is `make translations` and an English msgstr in translations/en/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
# The same keywords and directories as `make translations`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
IGNORED_DIRS = (".*", "__pycache__", "instance", "node_modules")
# %(name)s, %s, %d … and the escaped %% that Jinja writes into msgids of {% trans %} blocks.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifeEgGxXor%]")
CJK = re.compile(r"[\u3400-\u9fff]")


def _read(path: Path):
    with path.open("rb") as fh:
        return read_po(fh, abort_invalid=True)


def _keep_dir(dirpath: str) -> bool:
    import fnmatch

    name = os.path.basename(dirpath)
    return not any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED_DIRS)


@pytest.fixture(scope="module")
def source_msgids() -> dict[str, str]:
    """Every msgid in the code and templates now, with the first place it occurs."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=_keep_dir,
    ):
        msgid = message[0] if isinstance(message, tuple | list) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def en_catalog():
    return _read(EN_PO)


def test_extraction_finds_the_ui_strings(source_msgids):
    # Guard against a babel.cfg that silently extracts nothing (e.g. templates under _macros/).
    assert "首页" in source_msgids
    assert "适老化关怀模式" in source_msgids, "templates/_macros/ must be extracted too"
    assert "吨标准煤" in source_msgids
    assert len(source_msgids) > 500


def test_every_source_string_has_english(source_msgids, en_catalog):
    missing = []
    for msgid, where in sorted(source_msgids.items(), key=lambda item: item[1]):
        message = en_catalog.get(msgid)
        strings = message.string if message is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or not all(s.strip() for s in strings) or message.fuzzy:
            missing.append(f"  {where}: {msgid!r}")
    assert not missing, (
        f"{len(missing)} UI strings have no English translation; run `make translations` and "
        "fill their msgstr in translations/en/LC_MESSAGES/messages.po:\n" + "\n".join(missing)
    )


def test_every_source_string_is_in_the_chinese_catalog(source_msgids):
    zh = _read(ZH_PO)
    missing = sorted(msgid for msgid in source_msgids if zh.get(msgid) is None)
    assert not missing, "run `make translations`; missing from zh_Hans_CN: " + repr(missing[:20])


def test_english_catalog_compiles_and_passes_babel_checks(en_catalog):
    problems = [
        f"{message.id!r}: {error}" for message, errors in en_catalog.check() for error in errors
    ]
    assert not problems, "\n".join(problems)
    buffer = io.BytesIO()
    write_mo(buffer, en_catalog)
    assert buffer.tell() > 1000


def test_placeholders_match_between_chinese_and_english(en_catalog):
    """Stricter than babel's python-format check: no placeholder may be dropped or added."""
    wrong = []
    for message in en_catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[0]))
        for translated in strings:
            if translated and sorted(PLACEHOLDER.findall(translated)) != expected:
                wrong.append(f"{message.id!r} -> {translated!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_english_translations_are_english(en_catalog):
    """A msgstr that still holds Chinese is a copy, not a translation (names in quotes excepted)."""
    allowed = re.compile(
        r"“[^”]*”|\([^)]*\)|（[^）]*）|\"[^\"]*\"|-\S+|\S+:\S+|, \S*[\u3400-\u9fff]\S*"
    )
    copied = [
        message.id
        for message in en_catalog
        if message.id
        and isinstance(message.string, str)
        and CJK.search(allowed.sub("", message.string))
    ]
    assert not copied, repr(copied)


def test_chinese_catalog_leaves_msgstr_empty():
    """zh_Hans_CN shows the msgid itself (see the comment at the top of its .po)."""
    filled = [m.id for m in _read(ZH_PO) if m.id and m.string]
    assert not filled, repr(filled)


def test_english_page_shows_english_navigation(client, compiled_catalogs):
    client.set_cookie("lang", "en")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en"' in html
    for label in (
        "Home",
        "Listings",
        "Trades",
        "Compliance lists",
        "Notices",
        "Skip to main content",
    ):
        assert label in html
    assert "挂牌信息" not in html
    assert "适老化关怀模式" not in html


def test_chinese_is_the_default(client, compiled_catalogs):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN"' in html
    assert "挂牌信息" in html
    assert "Listings" not in html


def test_english_empty_pages_have_no_chinese_ui(client, compiled_catalogs):
    """With no data, any Chinese left on an English page is an untranslated UI string.

    The footer's record numbers (豫ICP备…, 豫公网安备…), the postal address, the decorative brand
    mark 豫, the 中文 language switch and the search help's example queries are Chinese on purpose.
    """
    client.set_cookie("lang", "en")
    allowed = re.compile(
        r"豫ICP备[^<]*|豫公网安备[^<]*|>豫<|>中文<|河南省郑州市（示例地址）|lang=\"zh-CN\"[^>]*>[^<]*"
        r"|\(&#34;节能改造&#34;\)|\(\"节能改造\"\)|\(-煤炭\)|city:郑州"
    )
    leftovers = {}
    for path in (
        "/",
        "/listings",
        "/trades",
        "/compliance",
        "/enterprises",
        "/news/",
        "/search?q=x",
    ):
        response = client.get(path)
        html = re.sub(
            r"<script.*?</script>|<style.*?</style>",
            "",
            response.get_data(as_text=True),
            flags=re.S,
        )
        html = allowed.sub("", html)
        found = sorted(set(re.findall(r"[\u3400-\u9fff][^<>\"]{0,30}", html)))
        if found:
            leftovers[path] = found
    assert not leftovers, leftovers


@pytest.mark.parametrize(
    ("lang", "required", "choice", "email", "too_long"),
    [
        (
            "zh_Hans_CN",
            "该字段是必填字段。",
            "不是有效的选择。",
            "无效的 Email 地址。",
            "字段长度不能超过 3 个字符。",
        ),
        (
            "en",
            "This field is required.",
            "Not a valid choice.",
            "Invalid email address.",
            "Field cannot be longer than 3 characters.",
        ),
    ],
)
def test_wtforms_own_messages_follow_the_locale(app, lang, required, choice, email, too_long):
    """Validators without a message of ours show WTForms' bundled catalog in the visitor's language
    (Flask-WTF's WTF_I18N_ENABLED; zh_Hans_CN falls back to WTForms' "zh" catalog)."""
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict
    from wtforms import EmailField, SelectField, StringField
    from wtforms.fields.choices import SelectChoice
    from wtforms.validators import DataRequired, Email, Length

    class Probe(FlaskForm):
        class Meta:
            csrf = False

        name = StringField("name", validators=[DataRequired()])
        kind = SelectField("kind", choices=[SelectChoice("a", "A")])
        mail = EmailField("mail", validators=[Email()])
        note = StringField("note", validators=[Length(max=3)])

    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        form = Probe(formdata=MultiDict({"kind": "zzz", "mail": "not-an-address", "note": "abcd"}))
        assert not form.validate()
        assert form.name.errors == [required]
        assert form.kind.errors == [choice]
        assert form.mail.errors == [email]
        assert form.note.errors == [too_long]
