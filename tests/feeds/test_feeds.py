"""Every list's feed: parses in real readers, has the page's rows, stable ids, conditional GETs."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from portal.extensions import db
from portal.news.services import utcnow
from tests import factories

ZZ, LY = "410100", "410300"


@pytest.fixture
def market(app):
    """Listings and trades in 郑州 and 洛阳, a published compliance year, announcements."""
    with app.app_context():
        zz = factories.enterprise("示例郑州豫能化工有限公司", ZZ, "chemical")
        ly = factories.enterprise("示例洛阳有色金属有限公司", LY, "nonferrous")
        for n in range(3):
            listing = factories.listing(zz, starts_on=date(2025, 1, 5 + n))
            factories.trade(ly, zz, listing, trade_date=date(2025, 2, 1 + n))
        for n in range(2):
            listing = factories.listing(ly, starts_on=date(2025, 1, 10 + n), variety_code="coal")
            factories.trade(zz, ly, listing, trade_date=date(2025, 3, 1 + n))
        factories.period(2024)
        factories.compliance(zz, 2024, "on_time")
        factories.compliance(ly, 2024, "non_compliant", actual=5200, shortfall=200)
        now = utcnow()
        factories.announcement(
            title="郑州市用能权交易工作通知",
            division_code=ZZ,
            published_at=now - timedelta(hours=3),
        )
        factories.announcement(
            title="洛阳市节能改造项目公示",
            category="publicity",
            division_code=LY,
            published_at=now - timedelta(hours=2),
        )
        factories.announcement(title="全省用能权政策解读", category="policy")
        factories.announcement(title="尚未公开", status="draft")
        db.session.commit()


FEEDS = [
    "/news/feed.{fmt}",
    "/news/feed.{fmt}?category=publicity",
    "/news/feed.{fmt}?division=410100&q=郑州",
    "/listings/feed.{fmt}",
    "/listings/feed.{fmt}?division=410100&sort=-price",
    "/listings/feed.{fmt}?lang=en",
    "/trades/feed.{fmt}?division=410300",
    "/compliance/feed.{fmt}",
    "/compliance/2024/feed.{fmt}?status=non_compliant",
    "/enterprises/feed.{fmt}",
    "/search/feed.{fmt}?q=郑州",
    "/search/feed.{fmt}?q=没有这个词的结果",
]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize("url", FEEDS)
def test_every_feed_parses_and_validates(read_feed, market, url, fmt):
    parsed = read_feed(url.format(fmt=fmt))
    assert parsed.feed.title
    for entry in parsed.entries:
        assert entry.id.startswith("tag:ynq.example.gov.cn,2026:")
        assert entry.link.startswith("http://localhost/")


def _page_links(client, url: str, pattern: str) -> list[str]:
    html = client.get(url).get_data(as_text=True)
    return re.findall(pattern, html.split('id="results"', 1)[1])


@pytest.mark.parametrize(
    ("page", "feed", "pattern"),
    [
        (
            "/listings?division=410100",
            "/listings/feed.atom?division=410100",
            r'href="(/listings/[^"/?]+)"',
        ),
        (
            "/listings?variety=coal&sort=-price",
            "/listings/feed.atom?variety=coal&sort=-price",
            r'href="(/listings/[^"/?]+)"',
        ),
        (
            "/trades?division=410300",
            "/trades/feed.atom?division=410300",
            r'href="(/trades/[^"/?]+)"',
        ),
        ("/trades?sort=date", "/trades/feed.atom?sort=date", r'href="(/trades/[^"/?]+)"'),
        ("/news/?division=410300", "/news/feed.atom?division=410300", r'href="(/news/\d+)"'),
        ("/news/?q=郑州", "/news/feed.atom?q=郑州", r'href="(/news/\d+)"'),
        ("/news/?category=publicity", "/news/feed.atom?category=publicity", r'href="(/news/\d+)"'),
        (
            "/search?q=郑州&sort=date",
            "/search/feed.atom?q=郑州&sort=date",
            r'class="hit-title"[^>]*>\s*<a href="([^"]+)"',
        ),
    ],
)
def test_the_same_query_string_gives_the_page_rows(client, read_feed, market, page, feed, pattern):
    shown = [
        link
        for link in dict.fromkeys(_page_links(client, page, pattern))
        if "feed." not in link and "export" not in link
    ]
    parsed = read_feed(feed)
    assert shown, "the page shows rows"
    assert [e.link.removeprefix("http://localhost") for e in parsed.entries] == shown


def test_announcement_feed_honours_division_and_keywords(read_feed, market):
    titles = [e.title for e in read_feed("/news/feed.atom?division=410100").entries]
    assert titles == ["郑州市用能权交易工作通知"]
    assert [e.title for e in read_feed("/news/feed.rss?q=节能改造").entries] == [
        "洛阳市节能改造项目公示"
    ]
    assert read_feed("/news/feed.atom?q=郑州&division=410300").entries == []


def test_feed_with_bad_filters_is_a_400_with_the_pages_message(client, market):
    response = client.get("/news/feed.atom?category=gossip")
    assert response.status_code == 400
    assert "没有这个栏目" in response.get_data(as_text=True)
    assert client.get("/listings/feed.atom?date_from=2025-13-40").status_code == 400
    assert client.get("/listings/feed.xml").status_code == 404


def test_unpublished_compliance_year_has_no_feed(client, app, market):
    with app.app_context():
        factories.period(2025, published=False)
        db.session.commit()
    assert client.get("/compliance/2025/feed.atom").status_code == 404
    assert client.get("/compliance/2024/feed.atom").status_code == 200


def test_ids_are_stable_tag_uris(read_feed, app, market):
    first = read_feed("/listings/feed.atom")
    app.config["PUBLIC_BASE_URL"] = "https://ynq.example.gov.cn"
    second = read_feed("/listings/feed.rss")
    assert [e.id for e in first.entries] == [e.id for e in second.entries]
    assert (
        first.entries[0].id
        == f"tag:ynq.example.gov.cn,2026:listing/{first.entries[0].link.rsplit('/', 1)[1]}"
    )
    assert second.entries[0].link.startswith("https://ynq.example.gov.cn/listings/")
    assert first.feed.id == "tag:ynq.example.gov.cn,2026:feed/listings"
    filtered = read_feed("/listings/feed.atom?sort=-price&division=410100&page=2")
    assert (
        filtered.feed.id == "tag:ynq.example.gov.cn,2026:feed/listings?division=410100&sort=-price"
    )


def test_rss_guid_is_the_tag_uri_not_a_permalink(client, market):
    body = client.get("/trades/feed.rss").get_data(as_text=True)
    assert '<guid isPermaLink="false">tag:ynq.example.gov.cn,2026:trade/' in body


def test_conditional_get_answers_304_until_the_rows_change(client, app, market):
    first = client.get("/listings/feed.atom?division=410100")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get("/listings/feed.atom?division=410100", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    since = client.get(
        "/listings/feed.atom?division=410100", headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304
    # Another filter is another feed: its own ETag.
    other = client.get("/listings/feed.atom?division=410300")
    assert other.headers["ETag"] != etag
    with app.app_context():
        seller = factories.enterprise("示例郑州新材有限公司", ZZ, "building")
        factories.listing(seller, starts_on=date(2025, 4, 1))
        db.session.commit()
    changed = client.get("/listings/feed.atom?division=410100", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_empty_feed_keeps_its_etag(client):
    first = client.get("/listings/feed.atom")
    second = client.get("/listings/feed.atom")
    assert first.status_code == 200 and first.headers["ETag"] == second.headers["ETag"]


def test_language_follows_the_content_not_the_cookie(client, read_feed, market):
    client.set_cookie("lang", "en")
    announcements = read_feed("/news/feed.atom")
    assert announcements.feed.language == "zh-CN"
    assert "通知公告" in announcements.feed.title
    listings = read_feed("/listings/feed.atom")
    assert listings.feed.language == "zh-CN" and "挂牌" in listings.entries[0].title
    english = read_feed("/listings/feed.rss?lang=en")
    assert english.feed.language == "en"
    assert english.entries[0].category.endswith("indicator")  # the variety's English name
    assert any(link.href.endswith("/listings/feed.rss?lang=en") for link in english.feed.links)


def test_feed_holds_at_most_fifty_newest(read_feed, make_announcement):
    now = utcnow()
    for n in range(55):
        make_announcement(title=f"第{n}号", published_at=now - timedelta(hours=n + 1))
    titles = [e.title for e in read_feed("/news/feed.atom").entries]
    assert len(titles) == 50 and titles[0] == "第0号" and titles[-1] == "第49号"


def test_announcement_entries_carry_body_dates_and_category(read_feed, make_announcement):
    now = utcnow()
    corrected = make_announcement(
        title="履约名单公示",
        category="publicity",
        summary="请各单位按期报送。",
        body_md="**正文**",
        published_at=now - timedelta(days=1),
        updated_at=now - timedelta(hours=2),
        source="省发展改革委",
    )
    parsed = read_feed("/news/feed.atom")
    entry = parsed.entries[0]
    assert entry.id == f"tag:ynq.example.gov.cn,2026:announcement/{corrected}"
    assert entry.link == f"http://localhost/news/{corrected}"
    assert entry.updated_parsed > entry.published_parsed
    assert entry.summary == "请各单位按期报送。"
    assert "<strong>正文</strong>" in entry.content[0].value
    assert entry.tags[0].term == "publicity" and entry.author == "省发展改革委"
    assert parsed.feed.updated == entry.updated


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/listings?division=410100", "/listings/feed.atom?division=410100"),
        ("/trades", "/trades/feed.atom"),
        ("/compliance", "/compliance/feed.atom"),
        ("/compliance/2024?status=on_time", "/compliance/2024/feed.atom?status=on_time"),
        ("/enterprises?division=410300", "/enterprises/feed.atom?division=410300"),
        ("/news/?category=publicity", "/news/feed.atom?category=publicity"),
        ("/search?q=郑州", "/search/feed.atom?q=%E9%83%91%E5%B7%9E"),
    ],
)
def test_every_list_page_advertises_its_feed(client, market, page, feed):
    html = client.get(page).get_data(as_text=True)
    head, body = html.split("</head>", 1)
    assert '<link rel="alternate" type="application/atom+xml"' in head
    assert f'href="{feed}"' in head
    assert f'href="{feed.replace("feed.atom", "feed.rss")}"' in head
    visible = re.search(r'<p class="feed-links no-print">.*?</p>', body, re.S)
    assert visible and f'href="{feed}"' in visible.group(0)


def test_htmx_results_carry_the_feed_of_the_new_filters(client, market):
    fragment = client.get("/listings?division=410300", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<head" not in html
    assert 'href="/listings/feed.atom?division=410300"' in html
    assert "/subscriptions/new?target=" in html


def test_english_page_links_the_english_data_feed(client, market):
    client.set_cookie("lang", "en")
    html = client.get("/trades").get_data(as_text=True)
    assert 'href="/trades/feed.atom?lang=en"' in html
    news = client.get("/news/").get_data(as_text=True)
    assert 'href="/news/feed.atom"' in news  # announcements are Chinese whoever reads them


def test_feed_routes_win_over_record_numbers(client, market):
    assert client.get("/listings/feed.atom").mimetype == "application/atom+xml"
    assert client.get("/enterprises/feed.rss").mimetype == "application/rss+xml"
