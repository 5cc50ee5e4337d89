"""Sharing in Chromium: suggestions as you type, the widgets on another site, the QR code."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image

pytestmark = pytest.mark.browser


def test_header_search_suggests_as_you_type_with_keyboard(page, shared_site):
    base = shared_site["base"]
    page.goto(f"{base}/")
    box = page.locator("#site-q")
    suggestions = page.locator("#site-suggest")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("示例郑州", delay=60)
    suggestions.locator('[role="option"]').first.wait_for()
    assert suggestions.is_visible()
    assert box.get_attribute("aria-expanded") == "true"
    options = suggestions.locator('[role="option"]')
    texts = options.all_inner_texts()
    assert any("YNQ-GP-2025-000001" in text for text in texts)
    assert any("示例郑州豫能化工有限公司" in text for text in texts)

    box.press("ArrowDown")
    first = options.nth(0)
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    box.press("ArrowUp")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    box.press("ArrowUp")  # wraps to the last: search everything
    assert box.get_attribute("aria-activedescendant") == "site-suggest-all"

    box.press("Escape")
    assert not suggestions.is_visible()
    assert box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("aria-activedescendant") is None
    assert page.evaluate("document.activeElement.id") == "site-q"

    # Down opens the list again; Enter opens the chosen suggestion's page.
    box.press("ArrowDown")
    assert suggestions.is_visible()
    target = options.nth(0).get_attribute("data-href")
    with page.expect_navigation():
        box.press("Enter")
    assert page.url == f"{base}{target}"


def test_enter_without_a_chosen_suggestion_searches(page, shared_site):
    page.goto(f"{shared_site['base']}/")
    box = page.locator("#site-q")
    box.press_sequentially("示例郑州", delay=60)
    page.locator('#site-suggest [role="option"]').first.wait_for()
    with page.expect_navigation():
        box.press("Enter")
    assert "/search?q=" in page.url


def test_widgets_work_on_another_site_and_other_pages_do_not(page, shared_site, other_origin):
    base = shared_site["base"]
    announcement = shared_site["announcement"]
    page.goto(f"{base}/embed")
    latest_snippet = page.locator("#latest-code").input_value()
    market_snippet = page.locator("#market-energy-code").input_value()
    page.goto(f"{base}/news/{announcement}")
    one_snippet = page.locator("#share-embed").input_value()
    host = other_origin(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>城市门户</title></head>"
        f"<body><h1>某市政府网站</h1>{latest_snippet}{market_snippet}{one_snippet}"
        f"<iframe id='page' src='{base}/news/{announcement}' title='原页面'></iframe></body></html>"
    )
    assert not host.startswith(base)
    refused = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto(host)
    frames = page.locator("iframe")
    assert frames.count() == 4
    latest = page.frame_locator("iframe >> nth=0")
    latest.get_by_text("关于示例郑州用能权交易的通知").wait_for()
    market = page.frame_locator("iframe >> nth=1")
    market.get_by_text("能耗指标市场概况").first.wait_for()
    single = page.frame_locator("iframe >> nth=2")
    single.locator("h1", has_text="关于示例郑州用能权交易的通知").wait_for()
    # A link in a widget opens a new tab on the portal, not inside the other site's page.
    assert latest.locator("base").get_attribute("target") == "_blank"
    # The announcement page itself refuses to be framed by another site.
    page.wait_for_timeout(500)
    framed = page.frame_locator("#page")
    assert framed.locator("h1", has_text="关于示例郑州用能权交易的通知").count() == 0
    assert any("frame-ancestors 'self'" in text and "blocked" in text for text in refused)
    assert page.frames[-1].url.startswith("chrome-error://")
    # The widgets load their own stylesheet: nothing they need is refused.
    assert not [text for text in refused if "stylesheet" in text]


def test_the_qr_code_on_the_page_decodes_to_its_address(page, shared_site, tmp_path):
    base = shared_site["base"]
    page.goto(f"{base}/news/{shared_site['announcement']}")
    shot = tmp_path / "qr.png"
    image = page.locator(".share-panel .qr img")
    # The code is its own image, loaded when the panel scrolls into view (loading="lazy").
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('.share-panel .qr img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    image.screenshot(path=str(shot))
    found = zxingcpp.read_barcodes(Image.open(shot))
    assert [code.text for code in found] == [f"{base}/news/{shared_site['announcement']}"]
    copy = page.get_by_role("button", name="复制链接")
    assert copy.is_visible()
    copy.click()
    page.locator(".share-panel .copy-status", has_text="链接已复制").wait_for()
    assert page.get_by_role("button", name="打印本页").is_visible()
