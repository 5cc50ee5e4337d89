"""The journeys a member of the public takes: filter, share the URL, go back, and all of it without JS."""

from datetime import date
from decimal import Decimal

import pytest

from portal.extensions import db
from tests import factories as f

pytestmark = pytest.mark.browser


@pytest.fixture
def market(app):
    with app.app_context():
        zz = f.enterprise("示例郑州豫能化工有限公司", "410100", "chemical")
        hb = f.enterprise("示例鹤壁新材建材有限公司", "410600", "building")
        f.listing(zz, number="YNQ-GP-2025-000001", starts_on=date(2025, 1, 5))
        f.listing(
            hb,
            number="YNQ-GP-2025-000002",
            variety_code="coal",
            listed_price=Decimal("150.00"),
            starts_on=date(2025, 6, 1),
        )
        db.session.commit()


def test_filter_updates_url_results_and_back_button(live_server, page, market):
    page.goto(f"{live_server}/listings")
    assert page.locator("#results").get_by_text("YNQ-GP-2025-000001").count() == 1
    page.select_option("#variety", "coal")
    page.wait_for_url("**/listings?*variety=coal*")
    results = page.locator("#results")
    results.get_by_text("YNQ-GP-2025-000002").wait_for()
    assert results.get_by_text("YNQ-GP-2025-000001").count() == 0
    shared_url = page.url

    # The address bar holds a link that reproduces the same results in a fresh page.
    other = page.context.new_page()
    other.goto(shared_url)
    assert other.locator("#results").get_by_text("YNQ-GP-2025-000002").count() == 1
    assert other.locator("#results").get_by_text("YNQ-GP-2025-000001").count() == 0
    assert other.locator("#variety").input_value() == "coal"
    other.close()

    page.go_back()
    page.wait_for_url(f"{live_server}/listings")
    page.locator("#results").get_by_text("YNQ-GP-2025-000001").wait_for()


def test_filters_and_pages_work_without_javascript(live_server, page_without_js, market):
    page = page_without_js
    page.goto(f"{live_server}/listings")
    page.select_option("#division", "410600")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**division=410600**")
    assert page.get_by_text("YNQ-GP-2025-000002").count() == 1
    assert page.get_by_text("YNQ-GP-2025-000001").count() == 0


def test_care_mode_is_reachable_by_keyboard(live_server, page, market):
    page.goto(f"{live_server}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "跳到正文"
    page.get_by_role("link", name="适老化关怀模式").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "care" in (page.locator("html").get_attribute("class") or "")
    size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size >= 20
