"""What Lighthouse's accessibility, best-practice and SEO audits look for, checked on the served
HTML of the home page, a list, a detail page and search, in Chinese and in English: the language,
a title, a description, a viewport that lets the reader zoom, icons and every linked file that
exists, images with alternative text, links, buttons and fields with names, unique ids, and one
h1 with no heading level skipped. docs/decisions.md has the Lighthouse scores."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from portal.disclosure.models import Trade
from portal.extensions import db

PAGES = ["home", "list", "detail", "search"]


@pytest.fixture
def app_config(app_config):
    """Records are indexed as they are saved, so the search page shows hits to check."""
    app_config["SEARCH_REBUILD"] = "inline"
    return app_config


def _path(client, kind: str) -> str:
    if kind == "detail":
        with client.application.app_context():
            return f"/trades/{db.session.scalar(select(Trade.number))}"
    return {"home": "/", "list": "/trades?variety=energy", "search": "/search?q=郑州"}[kind]


def _page(client, kind: str, english: bool):
    path = _path(client, kind)
    if english:
        path += ("&" if "?" in path else "?") + "lang=en"
    response = client.get(path)
    assert response.status_code == 200, path
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    if kind in ("list", "search"):
        assert "示例郑州豫能化工有限公司" in tree.text_content(), f"{path} shows no record"
    return path, tree


def _name(element) -> str:
    """The accessible name, roughly as a screen reader computes it: aria-label, the text of
    aria-labelledby's elements, else the text and image alternatives inside, skipping what is
    hidden from assistive technology; the title attribute last."""
    if element.get("aria-label", "").strip():
        return element.get("aria-label").strip()
    if element.get("aria-labelledby"):
        tree = element.getroottree()
        parts = [tree.xpath(f'//*[@id="{ref}"]') for ref in element.get("aria-labelledby").split()]
        return " ".join(_name(found[0]) for found in parts if found).strip()

    def text(node) -> str:
        if node.get("aria-hidden") == "true" or node.get("hidden") is not None:
            return node.tail or ""
        if node.tag == "img":
            return (node.get("alt") or "") + (node.tail or "")
        if node.tag == "svg":
            title = node.find("title")
            return (title.text_content() if title is not None else "") + (node.tail or "")
        inner = (node.text or "") + "".join(text(child) for child in node)
        return inner + (node.tail or "")

    inner = (element.text or "") + "".join(text(child) for child in element)
    return inner.strip() or (element.get("title") or "").strip()


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
@pytest.mark.parametrize("kind", PAGES)
def test_head_has_language_title_description_viewport_and_icons(
    client, public_records, kind, english
):
    path, tree = _page(client, kind, english)
    assert tree.get("lang") == ("en" if english else "zh-CN"), path
    assert tree.findtext(".//head/title", "").strip(), path
    descriptions = tree.xpath('//head/meta[@name="description"]/@content')
    assert len(descriptions) == 1 and descriptions[0].strip(), path
    # Lighthouse's meta-viewport audit: the width follows the device and zoom is not blocked.
    (viewport,) = tree.xpath('//head/meta[@name="viewport"]/@content')
    assert "width=device-width" in viewport, path
    assert "user-scalable=no" not in viewport.replace(" ", ""), path
    scale = re.search(r"maximum-scale\s*=\s*([\d.]+)", viewport)
    assert scale is None or float(scale.group(1)) >= 5, path
    assert tree.xpath('//head/meta[@charset="utf-8"]'), path
    icons = tree.xpath('//head/link[@rel="icon"]/@href')
    assert icons and tree.xpath('//head/link[@rel="apple-touch-icon"]/@href'), path
    assert tree.xpath('//head/link[@rel="manifest"]/@href'), path


@pytest.mark.parametrize("kind", PAGES)
def test_every_file_the_page_links_to_exists(client, public_records, kind):
    """A missing stylesheet, script, icon or image is a console error (best practices) and, for
    the favicon, a failed audit of its own."""
    path, tree = _page(client, kind, False)
    urls = tree.xpath(
        "//link[@rel='stylesheet' or @rel='icon' or @rel='apple-touch-icon' or @rel='manifest']"
        "/@href | //script/@src | //img/@src"
    )
    local = sorted(
        {url.removeprefix("http://localhost") for url in urls if not url.startswith("data:")}
    )
    assert any(url.endswith(".css") for url in local) and any(url.endswith(".js") for url in local)
    for url in local:
        assert url.startswith("/"), f"{path} loads {url} from another site"
        with client.get(url) as response:
            assert response.status_code == 200, f"{path} links to {url}: {response.status_code}"


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
@pytest.mark.parametrize("kind", PAGES)
def test_images_links_buttons_and_fields_have_names(client, public_records, kind, english):
    path, tree = _page(client, kind, english)
    for image in tree.xpath("//body//img"):
        assert image.get("alt") is not None, f"{path}: <img src={image.get('src')}> has no alt"
    for link in tree.xpath("//body//a[@href]"):
        assert _name(link), f"{path}: a link to {link.get('href')} has no name"
        # Lighthouse's crawlable-anchors: a real address, not script.
        assert not link.get("href").strip().lower().startswith("javascript:"), path
    for button in tree.xpath("//body//button"):
        assert _name(button), f"{path}: a button has no name"
    labelled = set(tree.xpath("//label/@for"))
    fields = tree.xpath(
        "//body//input[not(@type='hidden' or @type='submit' or @type='button')]"
        " | //body//select | //body//textarea"
    )
    for field in fields:
        named = (
            field.get("id") in labelled
            or field.get("aria-label")
            or field.get("aria-labelledby")
            or any(parent.tag == "label" for parent in field.iterancestors())
        )
        assert named, f"{path}: the field {field.get('name')} has no label"


@pytest.mark.parametrize("kind", PAGES)
def test_ids_are_unique_and_headings_do_not_skip_a_level(client, public_records, kind):
    path, tree = _page(client, kind, False)
    ids = tree.xpath("//@id")
    assert len(ids) == len(set(ids)), f"{path}: {sorted({i for i in ids if ids.count(i) > 1})}"
    for ref in tree.xpath(
        "//@aria-controls | //@aria-describedby | //@aria-labelledby | //label/@for"
    ):
        for target in ref.split():
            assert target in ids, f"{path} refers to #{target}, which is not on the page"
    levels = [
        int(h.tag[1])
        for h in tree.xpath(
            "//body//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
        )
    ]
    assert levels.count(1) == 1 and levels[0] == 1, f"{path}: {levels}"
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, f"{path}: h{before} is followed by h{after}"


@pytest.mark.parametrize("kind", PAGES)
def test_public_pages_may_be_indexed(client, public_records, kind):
    """Lighthouse's is-crawlable: no noindex, and robots.txt lets crawlers in."""
    path, tree = _page(client, kind, False)
    assert not tree.xpath('//meta[@name="robots" and contains(@content, "noindex")]'), path
    assert tree.xpath('//head/link[@rel="canonical"]/@href'), path
    robots = client.get("/robots.txt").get_data(as_text=True)
    disallowed = re.findall(r"^Disallow: (\S+)", robots, flags=re.MULTILINE)
    assert not [prefix for prefix in disallowed if path.startswith(prefix)], (path, disallowed)


def test_a_search_names_one_canonical_page_and_its_variants_say_nofollow(client, public_records):
    """Every filtered, sorted or later page of a query points at the query's one page, and the
    links between those variants ask crawlers not to follow them: a results page is endless."""
    response = client.get("/search?q=郑州&type=trade&sort=date&page=1")
    assert response.status_code == 200
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    assert tree.xpath('//head/link[@rel="canonical"]/@href') == [
        "http://localhost/search?q=%E9%83%91%E5%B7%9E"
    ]
    variants = tree.xpath('//*[@id="results"]//a[@hx-get]')
    assert variants
    assert all("nofollow" in (link.get("rel") or "") for link in variants), [
        link.get("href") for link in variants if "nofollow" not in (link.get("rel") or "")
    ]
