"""The phone layout in Chromium: every public page at 390 × 844 and 1366 × 768, with and without
the elderly-friendly mode, fits the screen's width; on a phone a list's rows are cards that start
with their number, filters fold behind a summary that counts them, chart text stays readable.

Each page's screenshot is saved under the pytest base temp folder, in test-artifacts/phone/.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from portal.extensions import db
from tests import factories as f

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
# Long names are what squeezed a table column down to two characters a line.
LONG_SELLER = "河南省示例郑州豫能新材料化工科技集团股份有限公司第二分公司"
LONG_BUYER = "示例鹤壁市新区高新技术产业开发区绿色建材循环经济产业园有限公司"


@pytest.fixture
def market(app, live_server):
    app.config["SEARCH_REBUILD"] = "inline"
    with app.app_context():
        seller = f.enterprise(LONG_SELLER, "410100", "chemical")
        buyer = f.enterprise(LONG_BUYER, "410600", "building")
        short = f.enterprise("示例开封建材有限公司", "410200", "building")
        for n in range(1, 4):
            f.listing(
                seller,
                number=f"YNQ-GP-2025-00000{n}",
                quantity=Decimal("123456.789"),
                listed_price=Decimal("1234.56"),
                starts_on=date(2025, n, 5),
            )
        f.listing(short, number="YNQ-GP-2025-000009", variety_code="coal")
        for n, day in enumerate((date(2025, 1, 6), date(2025, 3, 3), date(2025, 3, 3)), 1):
            f.trade(
                buyer,
                seller,
                number=f"YNQ-CJ-2025-00000{n}",
                quantity=Decimal("98765.432"),
                unit_price=Decimal("987.65"),
                trade_date=day,
            )
        f.period(2024)
        f.compliance(seller, 2024, status="non_compliant", actual=Decimal("9000"))
        f.compliance(buyer, 2024, status="on_time")
        f.compliance(short, 2024, status="late")
        f.reference_price()
        notice = f.announcement(
            title="关于开展2025年度用能权有偿使用和交易试点履约工作的通知（第二次修订稿）",
            summary="各省辖市、济源示范区发展改革委：现将2025年度履约工作安排通知如下。",
            division_code="410100",
        )
        db.session.commit()
        return {"base": live_server, "uscc": seller.uscc, "announcement": notice.id}


def public_pages(market) -> list[str]:
    return [
        "/",
        "/listings",
        "/trades",
        "/compliance/2024",
        "/compliance/exposure",
        "/enterprises",
        f"/enterprises/{market['uscc']}",
        "/listings/YNQ-GP-2025-000001",
        "/trades/YNQ-CJ-2025-000001",
        "/news/",
        f"/news/{market['announcement']}",
        "/search?q=示例郑州",
        "/statistics",
        "/statistics/daily?day=2025-03-03",
        "/data",
        "/prices",
        "/subscriptions/new?target=/listings",
        "/sitemap",
    ]


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "test-artifacts" / "phone"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_context(browser, base, viewport, care, javascript=True):
    context = browser.new_context(locale="zh-CN", viewport=viewport, java_script_enabled=javascript)
    if care:
        context.add_cookies([{"name": "care", "value": "1", "url": base}])
    return context


# What sticks out past the right edge, for the failure message.
WIDEST = """() => {
  const limit = window.innerWidth;
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > limit + 0.5)
    .slice(0, 3)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
         + ' ' + Math.round(el.getBoundingClientRect().right));
}"""


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1366"])
def test_every_public_page_fits_the_screen_width(browser, market, artefacts, screen, care):
    base = market["base"]
    context = open_context(browser, base, screen, care)
    page = context.new_page()
    overflowing = []
    try:
        for path in public_pages(market):
            response = page.goto(base + path)
            assert response.status == 200, path
            if care:
                assert "care" in (page.locator("html").get_attribute("class") or "")
            width, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert inner == screen["width"]
            if width > inner:
                overflowing.append((path, width, page.evaluate(WIDEST)))
            name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
            mode = "care" if care else "normal"
            page.screenshot(path=artefacts / f"{screen['width']}-{mode}-{name}.png", full_page=True)
    finally:
        context.close()
    assert not overflowing, overflowing


# Each visible cell of a card: its class, box and text, in the order a reader sees them.
CARD_CELLS = """row => [...row.cells]
  .map(td => ({cls: td.className, text: td.innerText.trim(), r: td.getBoundingClientRect(),
               line: parseFloat(getComputedStyle(td).lineHeight),
               clipped: td.scrollWidth > td.clientWidth}))
  .filter(c => c.r.width > 0 && c.r.height > 0)
  .map(c => ({cls: c.cls, text: c.text, top: c.r.top, left: c.r.left, height: c.r.height,
              line: c.line, clipped: c.clipped}))
  .sort((a, b) => (a.top - b.top) || (a.left - b.left))"""


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
@pytest.mark.parametrize(
    ("path", "number"), [("/listings", r"YNQ-GP-2025-\d{6}"), ("/trades", r"YNQ-CJ-2025-\d{6}")]
)
def test_phone_rows_are_cards_that_start_with_the_number(browser, market, path, number, care):
    context = open_context(browser, market["base"], PHONE, care)
    page = context.new_page()
    try:
        page.goto(market["base"] + path)
        rows = page.locator("#results table.reflow tbody tr")
        assert rows.count() >= 3
        # The column heads are out of sight, not out of the page.
        assert page.locator("#results table.reflow thead").bounding_box()["height"] <= 1
        for i in range(rows.count()):
            cells = rows.nth(i).evaluate(CARD_CELLS)
            first = cells[0]
            assert "card-key" in first["cls"] and re.fullmatch(number, first["text"]), cells
            # then the figures (quantity, price, status or amount) before any name
            kinds = [
                ("fig" if "card-fig" in c["cls"] else "name" if "card-name" in c["cls"] else "")
                for c in cells[1:]
            ]
            assert kinds[:3] == ["fig"] * 3, kinds
            names = [c for c in cells if "card-name" in c["cls"]]
            assert names
            for name in names:
                # one line: the label and the name side by side, the rest cut with an ellipsis
                assert name["height"] < 1.5 * name["line"], name
                assert name["text"]
        # The longest name does not fit a phone: it is cut, not wrapped two characters a line.
        clipped = page.evaluate(
            "[...document.querySelectorAll('td.card-name')].some(td => td.scrollWidth > td.clientWidth)"
        )
        assert clipped
    finally:
        context.close()


def test_cards_stay_a_table_for_screen_readers(browser, market):
    context = open_context(browser, market["base"], PHONE, False)
    page = context.new_page()
    try:
        page.goto(market["base"] + "/listings")
        row = page.locator("#results tbody tr").first
        assert row.evaluate("tr => getComputedStyle(tr).display") == "flex"
        cdp = context.new_cdp_session(page)
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        named = [
            (n["role"]["value"], n.get("name", {}).get("value", ""))
            for n in nodes
            if not n.get("ignored") and "role" in n
        ]
        assert [name for role, name in named if role == "table"] == ["挂牌信息列表"]
        heads = [name for role, name in named if role == "columnheader"]
        assert heads[:3] == ["挂牌编号", "品种 / 类别", "卖方"] and len(heads) == 8
        assert [role for role, _name in named].count("row") == 1 + 4  # the head and one a listing
        cells = [name for role, name in named if role == "cell"]
        assert len(cells) == 8 * 4 and "YNQ-GP-2025-000001" in cells
        # The card labels are drawn, not spoken: the column head already names each cell.
        assert not [cell for cell in cells if any(cell.startswith(head) for head in heads)], cells
    finally:
        context.close()


def test_filters_fold_behind_a_summary_that_counts_them_on_a_phone(browser, market):
    url = market["base"] + "/listings?variety=energy&division=410100"
    context = open_context(browser, market["base"], PHONE, False)
    page = context.new_page()
    try:
        page.goto(url)
        drawer = page.locator("details.filters-drawer")
        summary = drawer.locator("summary")
        assert summary.inner_text().strip() == "筛选（已选 2 项）"
        assert drawer.evaluate("d => d.open") is False
        assert not page.locator("#variety").is_visible()
        # The results come first on the screen, right under the summary.
        assert page.locator("#results tbody tr").first.bounding_box()["y"] < PHONE["height"]
        summary.focus()
        page.keyboard.press("Enter")
        assert page.locator("#variety").is_visible()
        # Changing a filter updates the results and the count (htmx, out of band).
        page.select_option("#division", "")
        page.wait_for_url(re.compile(r"variety=energy(?!.*division=410100)"))
        page.wait_for_function(
            "document.querySelector('#filter-summary').textContent.trim() === '筛选（已选 1 项）'"
        )
    finally:
        context.close()

    wide = open_context(browser, market["base"], DESKTOP, False)
    try:
        page = wide.new_page()
        page.goto(url)
        assert page.locator("details.filters-drawer").evaluate("d => d.open") is True
        assert page.locator("#variety").is_visible()
    finally:
        wide.close()

    # Without script the drawer is served open, so a phone still reaches every filter.
    bare = open_context(browser, market["base"], PHONE, False, javascript=False)
    try:
        page = bare.new_page()
        page.goto(market["base"] + "/listings")
        assert page.locator("details.filters-drawer summary").inner_text().strip() == "筛选条件"
        assert page.locator("#variety").is_visible()
    finally:
        bare.close()


# The size each chart label is drawn at: its font size in user units times the SVG's scale.
CHART_TEXT_PX = """() => [...document.querySelectorAll('svg.stats-chart text')]
  .map(t => t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize))"""


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
def test_chart_text_is_at_least_12_px_on_a_phone(browser, market, care):
    context = open_context(browser, market["base"], PHONE, care)
    page = context.new_page()
    try:
        page.goto(market["base"] + "/statistics")
        sizes = page.evaluate(CHART_TEXT_PX)
        assert sizes and min(sizes) >= 12, min(sizes or [0])
    finally:
        context.close()


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1366"])
def test_radio_choices_sit_side_by_side(browser, market, screen, care):
    context = open_context(browser, market["base"], screen, care)
    page = context.new_page()
    try:
        page.goto(market["base"] + "/subscriptions/new?target=/listings")
        group = page.locator(".field-radiofield fieldset").first
        assert group.locator("legend").inner_text().strip()
        assert group.locator("ul, li").count() == 0
        boxes = group.locator("label.check").evaluate_all(
            "labels => labels.map(l => l.getBoundingClientRect().toJSON())"
        )
        inside = group.bounding_box()
        assert len(boxes) == 3
        # Each choice is as wide as its words (the radio beside its label), never past the group.
        for box in boxes:
            assert box["x"] >= inside["x"] and box["right"] <= inside["x"] + inside["width"] + 0.5
        # A long choice wraps beside its radio, not under it.
        hanging = group.locator("label.check").evaluate_all(
            """labels => labels.map(label => {
                 const radio = label.querySelector('input').getBoundingClientRect();
                 const words = document.createRange();
                 words.setStartAfter(label.querySelector('input'));
                 words.setEndAfter(label.lastChild);
                 return Math.min(...[...words.getClientRects()].map(r => r.left)) - radio.right;
               })"""
        )
        assert min(hanging) >= 0, hanging
        if screen == DESKTOP and not care:
            assert len({round(box["top"]) for box in boxes}) == 1  # one row of choices
        else:
            assert boxes[0]["width"] < inside["width"]  # wrapped, not stretched to a list
    finally:
        context.close()
