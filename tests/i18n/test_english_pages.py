"""English pages read as English: notices and remarks translated when shown, no Chinese punctuation
in the UI, Chinese content marked lang="zh-CN", one date style, labels instead of internal codes.

The pages are those of the demo (`flask demo`): its enterprise has notices, remarks
and filings made by the real services, as on a real site.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.registry import services as registry
from tests.factories import login, make_enterprise
from tests.i18n.english_text import (
    CHINESE_PUNCTUATION,
    english_text,
    stray_punctuation,
    unmarked_chinese,
)

PUBLIC_PAGES = ("/", "/listings", "/trades", "/compliance", "/enterprises", "/news/")
ENTERPRISE_PAGES = ("/accounts/", "/accounts/notices", "/filings/")
OTHER_DATE_STYLES = re.compile(
    r"\d{4}/\d{1,2}/\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日"
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}, \d{4}"
    r"|\d{1,2}:\d{2}:\d{2}|\b[AP]M\b"
)


@pytest.fixture
def demo_site(app, demo_data, compiled_catalogs):
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise
    from portal.filings.models import Filing
    from portal.news.models import Announcement

    with app.app_context():
        qiye = db.session.scalar(select(User).where(User.email == "qiye@demo.ynq.example"))
        filings = db.session.scalars(
            select(Filing.id).where(Filing.enterprise_id == qiye.enterprise_id)
        ).all()
        unit = db.session.scalar(select(Enterprise.uscc).order_by(Enterprise.id))
        news = db.session.scalar(select(Announcement.id).order_by(Announcement.id.desc()))
        return {"user": qiye.id, "filings": filings, "unit": unit, "news": news}


def _sign_in(app, client, user_id, lang="en"):
    from portal.accounts.models import User

    with app.app_context():
        login(client, db.session.get(User, user_id))
    client.set_cookie("lang", lang)


def _pages(client, site, lang="en"):
    """Each main public and enterprise page that answers 200, with its HTML."""
    client.set_cookie("lang", lang)
    paths = [*PUBLIC_PAGES, f"/enterprises/{site['unit']}", f"/news/{site['news']}"]
    paths += [*ENTERPRISE_PAGES, *(f"/filings/{number}" for number in site["filings"])]
    pages = {}
    for path in paths:
        response = client.get(path)
        if response.status_code == 200:
            pages[path] = response.get_data(as_text=True)
    assert len(pages) >= len(PUBLIC_PAGES) + len(ENTERPRISE_PAGES) + 3, sorted(pages)
    return pages


def test_enterprise_notices_read_in_the_readers_language(app, client, demo_site):
    _sign_in(app, client, demo_site["user"])
    html = client.get("/accounts/notices").get_data(as_text=True)
    assert "Filing " in html and "Payment notice" in html, html
    leftovers = [text for text in unmarked_chinese(html) if text != "豫"]
    assert not leftovers, leftovers
    # The same stored notices, in Chinese for a Chinese reader.
    client.set_cookie("lang", "zh_Hans_CN")
    chinese = client.get("/accounts/notices").get_data(as_text=True)
    assert "缴款通知" in chinese and "Payment notice" not in chinese


def test_remarks_the_system_wrote_are_translated_and_remarks_people_wrote_marked(
    app, client, demo_site
):
    _sign_in(app, client, demo_site["user"])
    pages = [client.get(f"/filings/{n}").get_data(as_text=True) for n in demo_site["filings"]]
    timelines = "".join(pages)
    assert "Publicity period over with no upheld objection." in timelines
    assert "公示期满，无成立的异议。" not in timelines
    # a remark typed by an official stays as typed, marked as Chinese
    assert re.search(r'<span lang="zh-CN">[^<]*公示 7 天。</span>', timelines)
    dashboard = client.get("/accounts/").get_data(as_text=True)
    assert not [
        t for t in english_text(dashboard) if "：" in t and not re.search(r"[\u3400-\u9fff]", t)
    ]


def test_english_ui_has_no_chinese_punctuation(app, client, demo_site):
    _sign_in(app, client, demo_site["user"])
    found = {path: stray_punctuation(html) for path, html in _pages(client, demo_site).items()}
    found = {path: marks for path, marks in found.items() if marks}
    total = sum(len(marks) for marks in found.values())
    assert total == 0, f"{total} Chinese punctuation marks in the English UI: {found}"


def test_stray_punctuation_is_found_and_content_is_not():
    page = (
        "<p>Listings <small>（3 in total）</small></p>"
        '<p>Remark: <span lang="zh-CN">请补充材料。</span></p><p>示例有限公司（甲）</p>'
    )
    assert stray_punctuation(page) == ["（3 in total）", "（3 in total）"]
    assert CHINESE_PUNCTUATION.findall("，。：；（）「」、！？") and not stray_punctuation(
        '<a title="Excel (XLSX)">CSV</a>'
    )


def test_chinese_content_is_marked_on_english_pages_only(app, client, demo_site):
    _sign_in(app, client, demo_site["user"])
    english = client.get("/enterprises").get_data(as_text=True)
    assert re.search(r'<a href="/enterprises/[^"]+"><span lang="zh-CN">示例', english)
    chinese_news = client.get(f"/news/{demo_site['news']}?lang=zh").get_data(as_text=True)
    assert 'lang="zh-CN">' not in chinese_news.split("<main", 1)[1].split("</main>")[0]
    english_news = client.get(f"/news/{demo_site['news']}?lang=en").get_data(as_text=True)
    assert '<h1 id="article-h"><span lang="zh-CN">' in english_news
    assert '<div class="article-body" lang="zh-CN">' in english_news


def test_zh_marks_and_escapes_only_chinese_text_on_english_pages(app):
    from portal.i18n import zh

    with app.test_request_context("/?lang=en"):
        assert str(zh("示例<公司>")) == '<span lang="zh-CN">示例&lt;公司&gt;</span>'
        assert str(zh("ACME Ltd")) == "ACME Ltd"
        assert str(zh(None)) == ""
    with app.test_request_context("/?lang=zh"):
        assert str(zh("示例<公司>")) == "示例&lt;公司&gt;"


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_one_date_style_on_every_page(app, client, demo_site, lang):
    _sign_in(app, client, demo_site["user"], lang)
    # Announcement bodies and summaries are prose people wrote, dates included.
    prose = re.compile(r'<(div|p) class="(?:article-body|meta summary)".*?</\1>', re.S)
    others = {}
    for path, html in _pages(client, demo_site, lang).items():
        if lang == "en":
            shown = english_text(html)
        else:
            shown = re.findall(
                r">([^<]+)<", re.sub(r"<script\b.*?</script>", "", prose.sub("", html), flags=re.S)
            )
        found = OTHER_DATE_STYLES.findall(" ".join(shown))
        if found:
            others[path] = sorted(set(found))
    assert not others, others


def test_dates_and_moments_share_one_pattern_in_both_languages(app):
    from datetime import date, datetime

    from portal.i18n import RequestFormats, fmt_date, fmt_datetime

    moment = datetime(2025, 8, 15, 2, 0)  # stored as UTC: 10:00 in Asia/Shanghai
    for lang in ("en", "zh"):
        with app.test_request_context(f"/?lang={lang}"):
            fmt = RequestFormats()
            assert fmt_date(date(2026, 11, 25)) == fmt.fdate(date(2026, 11, 25)) == "2026-11-25"
            assert fmt_datetime(moment) == fmt.fdatetime(moment) == "2025-08-15 10:00"
            assert fmt.fdate(moment) == "2025-08-15"


def test_ledger_sources_are_shown_by_their_label(app, client, users, sign_in):
    with app.app_context():
        unit = make_enterprise("郑州企业", "410100")
        registry.issue_indicators(
            unit.id, "energy", 100, "确权", source_type="filing", source_id="JN000007"
        )
        db.session.commit()
        unit_id = unit.id
    sign_in(users["province"])
    for lang, label in (("zh", "申报 JN000007"), ("en", "Filing JN000007")):
        html = client.get(f"/admin/registry/holders/enterprise:{unit_id}?lang={lang}").get_data(
            as_text=True
        )
        assert label in html
        assert "filing JN000007" not in html


def test_names_in_the_public_lists_are_marked_chinese_on_english_pages(client, public_records):
    client.set_cookie("lang", "en")
    for path in ("/trades", "/listings", "/compliance/2024"):
        page = client.get(path).get_data(as_text=True)
        assert '<span lang="zh-CN">示例' in page, path
    client.set_cookie("lang", "zh_Hans_CN")
    assert 'lang="zh-CN">示例' not in client.get("/trades").get_data(as_text=True)
