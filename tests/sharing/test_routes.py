"""Widgets and frame policy, shareable language links, robots.txt, sitemaps, manifest, favicon."""

from __future__ import annotations

import pytest
from lxml import etree

from portal import caching
from portal.extensions import db
from tests import factories as f

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _frameable_everywhere(response) -> bool:
    policy = response.headers.get("Content-Security-Policy", "")
    return "X-Frame-Options" not in response.headers and "frame-ancestors *" in policy


def test_only_widgets_may_be_framed_by_other_sites(client, records):
    widgets = [
        "/embed/announcements",
        "/embed/announcements?category=notice&limit=3",
        "/embed/market/energy",
        "/embed/market/coal",
        f"/news/{records['announcement']}/embed",
    ]
    for url in widgets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _frameable_everywhere(response), url
        assert "Set-Cookie" not in response.headers, url
        assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    pages = ["/", "/embed", f"/news/{records['announcement']}", "/listings", "/no-such-page"]
    for url in pages:
        response = client.get(url)
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", url
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"], url


def test_widgets_show_their_content(client, records):
    latest = client.get("/embed/announcements").get_data(as_text=True)
    assert "关于2025年度用能权有偿使用和交易试点扩围的通知" in latest
    assert '<base target="_blank">' in latest and "<script" not in latest
    market = client.get("/embed/market/energy").get_data(as_text=True)
    assert "能耗指标市场概况" in market and "近 30 天成交" in market
    assert client.get("/embed/market/oil").status_code == 404
    assert client.get("/embed/announcements?category=bogus").status_code == 400
    assert client.get("/embed/announcements?limit=abc").status_code == 400


def test_the_widgets_page_offers_a_snippet_for_each(client, records):
    html = client.get("/embed").get_data(as_text=True)
    for path in ("/embed/announcements", "/embed/market/energy", "/embed/market/coal"):
        assert f"&lt;iframe src=&#34;http://localhost{path}&#34;" in html, path


def test_lang_en_link_shows_english_and_keeps_the_choice(client, records):
    response = client.get("/listings?lang=en")
    assert response.status_code == 200
    assert '<html lang="en"' in response.get_data(as_text=True)
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    later = client.get("/trades").get_data(as_text=True)
    assert '<html lang="en"' in later
    assert '<html lang="zh-CN"' in client.get("/trades?lang=zh").get_data(as_text=True)
    assert client.get_cookie("lang").value == "zh_Hans_CN"


def test_a_bad_lang_value_changes_nothing(client, records):
    response = client.get("/listings?lang=xx")
    assert response.status_code == 200 and '<html lang="zh-CN"' in response.get_data(as_text=True)
    assert client.get_cookie("lang") is None


def test_the_language_button_wins_over_a_lang_link(client, csrf_token, records):
    client.get("/listings?lang=en")
    token = csrf_token("/accounts/login")
    response = client.post(
        "/preferences/language",
        data={"csrf_token": token, "lang": "zh_Hans_CN", "next": "/listings?lang=en&variety=coal"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/listings?variety=coal"
    assert '<html lang="zh-CN"' in client.get("/listings").get_data(as_text=True)


def test_english_pages_have_an_english_canonical_link(client, records):
    html = client.get("/listings?lang=en").get_data(as_text=True)
    assert '<link rel="canonical" href="http://localhost/listings?lang=en">' in html


def test_robots_txt_names_the_sitemap(client):
    text = client.get("/robots.txt").get_data(as_text=True)
    assert "User-agent: *" in text and "Disallow: /admin/" in text
    assert "Sitemap: http://localhost/sitemap.xml" in text


def _locations(client, url) -> tuple[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = etree.fromstring(response.get_data())
    return root.tag.replace(SITEMAP, ""), [loc.text for loc in root.iter(f"{SITEMAP}loc")]


def test_one_sitemap_lists_every_public_page(client, records):
    kind, urls = _locations(client, "/sitemap.xml")
    assert kind == "urlset"
    assert "http://localhost/listings/YNQ-GP-2025-000001" in urls
    assert "http://localhost/trades/YNQ-CJ-2025-000001" in urls
    assert f"http://localhost/enterprises/{records['uscc']}" in urls
    assert f"http://localhost/news/{records['announcement']}" in urls
    assert "http://localhost/compliance/2024" in urls and "http://localhost/data" in urls
    assert len(urls) == len(set(urls))


def test_above_the_limit_the_sitemap_is_an_index_of_files(app, client, records):
    with app.app_context():
        unit = f.enterprise("示例安阳钢铁有限公司", "410500", "steel")
        for _number in range(7):
            f.listing(unit)
        db.session.commit()
    app.config["SITEMAP_MAX_URLS"] = 5
    kind, parts = _locations(client, "/sitemap.xml")
    assert kind == "sitemapindex"
    assert "http://localhost/sitemaps/listings-2.xml" in parts
    everything = []
    for part in parts:
        kind, urls = _locations(client, part.removeprefix("http://localhost"))
        assert kind == "urlset" and 0 < len(urls) <= 5
        everything += urls
    assert len(everything) == len(set(everything))
    listings = [u for u in everything if "/listings/" in u]
    assert len(listings) == 8
    assert client.get("/sitemaps/listings-9.xml").status_code == 404
    app.config["SITEMAP_MAX_URLS"] = 50_000
    # A setting changed under a running app: drop the cached pages, as a restart would.
    caching.bump_generation(app)
    assert client.get("/sitemaps/listings-1.xml").status_code == 404


def test_manifest_and_favicon(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["name"] == "河南省用能权交易信息公开平台" and body["start_url"] == "/"
    for icon in body["icons"]:
        icon_response = client.get(icon["src"])
        assert icon_response.status_code == 200, icon["src"]
        icon_response.close()
    assert client.get("/manifest.webmanifest?lang=en").get_json()["lang"] == "en"
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.get_data()[:4] == b"\x00\x00\x01\x00"
    favicon.close()


@pytest.mark.parametrize("url", ["/embed/announcements", "/embed/market/coal"])
def test_widgets_are_cached_briefly_by_any_cache(client, url):
    assert client.get(url).headers["Cache-Control"] == "public, max-age=300"
