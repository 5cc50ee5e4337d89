"""Every public record and announcement carries canonical, Open Graph, Twitter Card and JSON-LD
metadata, a QR code that a decoder reads, and a share panel."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html
from PIL import Image

from portal.extensions import db
from tests import factories as f


def _head(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response, lxml_html.fromstring(response.get_data(as_text=True))


def _meta(tree, key):
    found = tree.xpath(f'//meta[@property="{key}" or @name="{key}"]/@content')
    assert len(found) == 1, key
    return found[0]


def _json_ld(tree) -> list[dict]:
    return [json.loads(text) for text in tree.xpath('//script[@type="application/ld+json"]/text()')]


def _pages(records):
    return {
        "announcement": f"/news/{records['announcement']}",
        "listing": "/listings/YNQ-GP-2025-000001",
        "trade": "/trades/YNQ-CJ-2025-000001",
        "enterprise": f"/enterprises/{records['uscc']}",
        "compliance": "/compliance/2024",
    }


@pytest.mark.parametrize("kind", ["announcement", "listing", "trade", "enterprise", "compliance"])
def test_records_carry_canonical_open_graph_twitter_and_qr(client, records, decode_qr, kind):
    path = _pages(records)[kind]
    _response, tree = _head(client, path)
    canonical = tree.xpath('//link[@rel="canonical"]/@href')
    assert canonical == [f"http://localhost{path}"]
    assert _meta(tree, "og:url") == canonical[0]
    assert _meta(tree, "og:title") and _meta(tree, "og:description")
    assert _meta(tree, "og:image").startswith("http://localhost/")
    assert _meta(tree, "twitter:card") == "summary_large_image"
    assert _meta(tree, "twitter:image") == _meta(tree, "og:image")
    types = [item["@type"] for item in _json_ld(tree)]
    assert "GovernmentOrganization" in types
    # The QR code in the share panel opens the same page.
    panel = tree.xpath('//section[@class="share-panel"]')[0]
    qr = panel.xpath('.//figure[@class="qr"]/img/@src')[0]
    image = client.get(qr)
    assert image.mimetype == "image/svg+xml"
    assert image.headers["Cache-Control"] == "public, max-age=86400"
    assert decode_qr(image.get_data()) == canonical[0]
    assert panel.xpath('.//input[@id="share-link"]/@value') == canonical
    assert panel.xpath(".//button[@data-print]") and panel.xpath(".//button[@data-copy]")


def test_announcement_is_a_news_article_with_its_own_share_image(client, records):
    _response, tree = _head(client, f"/news/{records['announcement']}")
    assert _meta(tree, "og:type") == "article"
    assert _meta(tree, "og:title") == "关于2025年度用能权有偿使用和交易试点扩围的通知"
    assert _meta(tree, "og:description") == "扩大试点范围，增加洛阳、安阳两市。"
    assert _meta(tree, "article:published_time").endswith("Z")
    article = next(item for item in _json_ld(tree) if item["@type"] == "NewsArticle")
    assert article["headline"] == "关于2025年度用能权有偿使用和交易试点扩围的通知"
    assert article["datePublished"].endswith("Z")
    assert article["publisher"]["@id"].endswith("#organization")
    image_url = _meta(tree, "og:image")
    assert article["image"] == [image_url]
    assert re.search(rf"/share/announcements/{records['announcement']}\.png\?v=\w{{8}}$", image_url)
    # The embed snippet sits in the share panel.
    snippet = tree.xpath('//textarea[@id="share-embed"]/text()')[0]
    assert f"/news/{records['announcement']}/embed" in snippet and snippet.startswith("<iframe")


def test_share_image_is_drawn_once_and_cached(app, client, records):
    url = f"/share/announcements/{records['announcement']}.png"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "image/png"
    image = Image.open(io.BytesIO(first.get_data()))
    assert image.size == (1200, 630)
    # Not a blank card: the title is drawn in dark ink on the white part.
    dark = sum(image.crop((80, 140, 1120, 520)).convert("L").histogram()[:80])
    assert dark > 5000
    first.close()
    cached = list(Path(app.config["SHARE_IMAGE_DIR"]).glob(f"{records['announcement']}-*.png"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    again.close()
    client.get(url).close()
    assert cached[0].stat().st_mtime_ns == stamp
    assert "max-age=86400" in first.headers["Cache-Control"]


def test_without_a_cjk_font_the_default_image_is_used(app, client, records):
    app.config["SHARE_IMAGE_FONT"] = "/nonexistent/font.ttc"
    _response, tree = _head(client, f"/news/{records['announcement']}")
    image = _meta(tree, "og:image")
    assert re.fullmatch(r"http://localhost/static/[0-9a-f]{12}/img/share-default\.png", image)
    response = client.get(f"/share/announcements/{records['announcement']}.png")
    assert response.status_code == 302
    assert response.headers["Location"] == image.removeprefix("http://localhost")
    with client.get(response.headers["Location"]) as image_response:
        assert image_response.status_code == 200


def test_unpublished_announcements_have_no_share_image(app, client):
    with app.app_context():
        draft = f.announcement(status="draft")
        db.session.commit()
        draft_id = draft.id
    assert client.get(f"/share/announcements/{draft_id}.png").status_code == 404


def test_every_page_has_canonical_language_links_and_icons(client, records):
    _response, tree = _head(client, "/listings?variety=energy&page=1")
    assert tree.xpath('//link[@rel="canonical"]/@href') == [
        "http://localhost/listings?variety=energy&page=1"
    ]
    alternates = dict(
        zip(
            tree.xpath('//link[@rel="alternate"][@hreflang]/@hreflang'),
            tree.xpath('//link[@rel="alternate"][@hreflang]/@href'),
            strict=True,
        )
    )
    assert alternates["en"] == "http://localhost/listings?variety=energy&page=1&lang=en"
    assert alternates["zh-CN"] == alternates["x-default"]
    assert tree.xpath('//link[@rel="manifest"]/@href') == ["/manifest.webmanifest"]
    assert "/favicon.ico" in tree.xpath('//link[@rel="icon"]/@href')
    organization = next(i for i in _json_ld(tree) if i["@type"] == "GovernmentOrganization")
    assert organization["name"] and organization["url"] == "http://localhost/"


def test_json_ld_cannot_close_its_script_element(app, client):
    with app.app_context():
        row = f.announcement(title="</script><script>alert(1)</script>")
        db.session.commit()
        row_id = row.id
    html = client.get(f"/news/{row_id}").get_data(as_text=True)
    assert "</script><script>alert(1)" not in html
    tree = lxml_html.fromstring(html)
    article = next(i for i in _json_ld(tree) if i["@type"] == "NewsArticle")
    assert article["headline"] == "</script><script>alert(1)</script>"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "x", "/" + "a" * 1000],
)
def test_a_qr_code_points_only_at_a_page_of_this_site(client, target):
    response = client.get("/share/qr.svg", query_string={"to": target})
    assert response.status_code == 400
    assert "二维码只能指向本站的页面" in response.get_data(as_text=True)


def test_a_qr_code_of_an_english_page_keeps_its_query(client, decode_qr):
    response = client.get("/share/qr.svg", query_string={"to": "/listings?lang=en"})
    assert response.status_code == 200
    assert decode_qr(response.get_data()) == "http://localhost/listings?lang=en"
